"""The traces shipped in ``traces/``, by name, and where to find that folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import TraceError

__all__ = ["BUNDLED", "traces_dir", "bundled_names"]

#: A bursty HTTP-triggered function of the Azure 2019 8-hour sample: 3,528 invocations, up to
#: 742 in one minute and none in others, 4.8 s mean duration: it scales from zero, panics
#: and moves the activator in and out of the path.
DEFAULT_FUNCTION = "444104e8d95326c72bc3474aa83464a80aa68220aee0937c77643b6e9859dcf5"


def traces_dir() -> Path:
    """The folder of shipped traces: ``$AUTOSCALE_TRACES``, the installed copy, or the checkout's ``traces/``."""
    env = os.environ.get("AUTOSCALE_TRACES")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    candidates += [here.parents[1] / "_traces", here.parents[2] / "traces"]
    for c in candidates:
        if (c / "README.md").is_file():
            return c
    raise TraceError("the shipped traces were not found (looked in " + ", ".join(map(str, candidates)) + ")")


@dataclass(frozen=True)
class Bundled:
    description: str
    load: Callable[..., object]


def _azure2019(folder: str, inv: str, functions=None, name=None):
    def load(**kw):
        from .loaders import azure2019

        kw.setdefault("functions", functions)
        return azure2019(traces_dir() / "azure-functions-2019-invitro" / folder / inv, name=name or kw.pop("name", None)
                         or f"azure2019-{folder}", **kw)

    return load


def _azure2021(**kw):
    from .loaders import azure2021

    return azure2021(traces_dir() / "azure-functions-2021-invitro" / "Azure2021_200.csv", name="azure2021-200", **kw)


def _nasa(**kw):
    from .loaders import per_second_counts

    return per_second_counts(traces_dir() / "nasa-http-1995" / "workload.tbz2", name="nasa-http-1995", **kw)


BUNDLED: dict[str, Bundled] = {
    "default": Bundled("a bursty HTTP function of the Azure 2019 8 h sample (3,528 requests, 8 h)",
                       _azure2019("azure500-8h", "invocations.csv", [DEFAULT_FUNCTION], "default")),
    "azure2019-500": Bundled("Azure 2019: 500 functions, 8 h (3.04 M requests)",
                             _azure2019("azure500-8h", "invocations.csv")),
    "azure2019-10": Bundled("Azure 2019: 10 busy functions, 24 h (13.0 M requests)",
                            _azure2019("sample10-24h", "invocations.csv")),
    "azure2019-1250": Bundled("Azure 2019: 1,250 functions, 24 h (18.3 M requests)",
                              _azure2019("sample1250-24h", "1250_inv.csv")),
    "azure2021-200": Bundled("Azure 2021: 199 invocations of 13 apps, 21 min (format fixture)", _azure2021),
    "nasa-http-1995": Bundled("NASA-HTTP 1995: per-second counts, 58.6 days (3.46 M requests)", _nasa),
}


def bundled_names() -> list[str]:
    return list(BUNDLED)
