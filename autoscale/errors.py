"""The error hierarchy: one root, with configuration and trace errors that are also ValueErrors."""

from __future__ import annotations

__all__ = ["AutoscaleError", "ConfigError", "TraceError"]


class AutoscaleError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(AutoscaleError, ValueError):
    """A configuration key, value or manifest is invalid.

    The message names the key, the value and the allowed range, for example
    ``stable-window = 3s, must be in [6s, 1h] in whole seconds``.
    """


class TraceError(AutoscaleError, ValueError):
    """A trace file or trace value is malformed.

    The message names the file, the line, the field and what was expected.
    """
