"""The traces shipped in ``traces/``, by name, and where that folder is found.

The folder installs with the package as ``autoscale/_traces`` (see ``pyproject.toml``);
in a source checkout or an editable install it is the repository's ``traces/``. The
environment variable ``AUTOSCALE_TRACES`` overrides both. Bundled names are views of
the shipped files: nothing generated is committed, and each view loads with the
loaders' fixed default seed, so ``load("default")`` is the same trace everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import TraceError
from .trace import Trace

__all__ = ["BUNDLED", "DEFAULT_FUNCTION", "BundledTrace", "bundled_names", "traces_dir"]

#: The function behind ``default``: a queue-triggered function of the Azure 2019 8 h
#: sample (app 25ba2475..., owner 36f41b67...). 11,484 invocations in 8 h, up to 867 in
#: one minute and none in 416 of the 480 minutes, median duration 1.36 s: bursts that
#: scale from zero, panic and move the activator in and out of the path.
DEFAULT_FUNCTION = "fd6f7f10a1f24541e94b07a9ba0279bf27c21a4a7298acd96c3e314327d3af87"
#: A bursty HTTP-triggered function of the same sample: 3,528 invocations, up to 742 in a minute, 4.8 s mean.
BURSTY_HTTP_FUNCTION = "444104e8d95326c72bc3474aa83464a80aa68220aee0937c77643b6e9859dcf5"

_AZ19 = "azure-functions-2019-invitro"


def traces_dir() -> Path:
    """The folder of shipped traces: ``$AUTOSCALE_TRACES``, the installed copy, or the checkout's ``traces/``."""
    env = os.environ.get("AUTOSCALE_TRACES")
    here = Path(__file__).resolve()
    candidates = ([Path(env)] if env else []) + [here.parents[1] / "_traces", here.parents[2] / "traces"]
    for c in candidates:
        if (c / "README.md").is_file() and (c / _AZ19).is_dir():
            return c
    raise TraceError("the shipped traces were not found (looked in " + ", ".join(map(str, candidates)) + ")")


@dataclass(frozen=True)
class BundledTrace:
    """A named view of a shipped file: what it is, its format, and the loader arguments that define the view."""

    name: str
    description: str
    relative_path: str
    format: str
    defaults: tuple[tuple[str, object], ...] = ()

    @property
    def path(self) -> Path:
        return traces_dir() / self.relative_path

    def load(self, **kw) -> Trace:
        """Load the view; keyword arguments go to the format's loader and override the view's own."""
        from .loaders import FORMATS

        args = dict(self.defaults)
        args.update(kw)
        args.setdefault("name", self.name)
        return FORMATS[self.format](self.path, **args)


def _entries():
    yield BundledTrace("default", "the quick-start trace: one bursty queue-triggered Azure 2019 function, 8 h, "
                       "11,484 requests (azure500-8h, function fd6f7f10...)",
                       f"{_AZ19}/azure500-8h/invocations.csv", "azure2019", (("functions", [DEFAULT_FUNCTION]),))
    yield BundledTrace("azure2019-http-bursty", "a bursty HTTP-triggered Azure 2019 function, 8 h, 3,528 requests "
                       "(azure500-8h, function 444104e8...)",
                       f"{_AZ19}/azure500-8h/invocations.csv", "azure2019", (("functions", [BURSTY_HTTP_FUNCTION]),))
    yield BundledTrace("azure2019-500", "Azure 2019: 500 functions, 8 h, 3,037,902 requests",
                       f"{_AZ19}/azure500-8h/invocations.csv", "azure2019")
    yield BundledTrace("azure2019-10", "Azure 2019: 10 busy functions, 24 h, 13,037,064 requests",
                       f"{_AZ19}/sample10-24h/invocations.csv", "azure2019")
    yield BundledTrace("azure2019-1250", "Azure 2019: 1,250 functions, 24 h, 18,279,781 requests",
                       f"{_AZ19}/sample1250-24h/1250_inv.csv", "azure2019")
    yield BundledTrace("azure2021-200", "Azure 2021: 199 invocations of 13 apps, 21 min (a format fixture)",
                       "azure-functions-2021-invitro/Azure2021_200.csv", "azure2021")
    yield BundledTrace("nasa-http-1995", "NASA-HTTP 1995: per-second counts, 58.6 days, 3,461,610 requests",
                       "nasa-http-1995/workload.tbz2", "counts")


#: Bundled traces by name.
BUNDLED: dict[str, BundledTrace] = {b.name: b for b in _entries()}


def bundled_names() -> list[str]:
    """The names :func:`autoscale.trace.load` accepts without a path."""
    return list(BUNDLED)
