"""The error hierarchy: one root, with configuration and trace errors that are also ValueErrors."""

from __future__ import annotations

__all__ = ["AutoscaleError", "ConfigError", "TraceError", "FolderInUseError", "TooLargeError"]


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


class FolderInUseError(AutoscaleError):
    """An output folder is locked by a sweep that is still running.

    The message names the folder, the process holding it, its host and since when,
    for example ``folder sweeps/tbc in use by pid 4242 on node-1 since
    2026-12-02T12:00:00+00:00``. ``pid``, ``host`` and ``since`` hold the same values
    (``None`` when the lock file cannot be read).
    """

    def __init__(self, message: str, pid: int | None = None, host: str | None = None,
                 since: str | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.host = host
        self.since = since


class TooLargeError(AutoscaleError, MemoryError):
    """Work that would not fit: a trace expanding to more requests than the memory limit allows, a replay of too
    many simulated seconds, or too many configurations.

    The message gives the size (requests, configurations), the memory it needs, the limit and the options that
    make it fit; ``requests``, ``needed`` and ``limit`` hold the numbers (``needed`` and ``limit`` in bytes, or in
    configurations for a refused grid).
    """

    def __init__(self, message: str, requests: int = 0, needed: int = 0, limit: int = 0) -> None:
        super().__init__(message)
        self.requests = requests
        self.needed = needed
        self.limit = limit
