"""Sizing work before doing it: the requests a trace expands to, the memory a replay of them needs, and the limit.

A trace of counts (NASA-HTTP's per-second series, a WorldCup98 month of 1.35 billion
requests, the Azure 2019 day) is small on disk and large once every count becomes a
request. Every loader therefore counts the requests first (rows x counts, a rate x a
duration, per-function totals) and refuses, with :class:`~autoscale.errors.TooLargeError`,
a trace whose requests would not fit, before it allocates them. The message gives the
request count, the memory it needs, the limit, and what makes it fit: a time window
(``start=``/``end=``, ``--start``/``--end``), thinning (``scale=``, ``--scale``), or a
day at a time.

The memory a replay needs (measured with ``tracemalloc`` on the loaders and on
:func:`autoscale.replay`):

* :data:`BYTES_PER_REQUEST` per request: the trace's arrivals and durations (8 bytes
  each) and function code (4), the writable copies the replay kernels take (16), and
  the arrays a loader builds while placing arrivals and drawing durations (at most 46
  bytes per request on the Azure 2019 day, 35 on a count series). With 1.35 billion
  requests that is 86 GB.
* :data:`BYTES_PER_CONFIGURATION` per configuration of a batch: pods, queues, heaps and
  counters (0.063 MB each on DESIGN.md's yardstick, ``benchmarks/results.md``), plus
  :data:`TIMESERIES_BYTES_PER_POINT` per kept time-series point.
* :data:`TIMESERIES_BYTES_PER_REQUEST` more per request when time series are kept (the
  exact demand per second is computed from copies of every request's times).
* per simulated second, the batch's live-pod count (8 bytes) once per replay thread,
  once for their sum and twice more in the result (35 bytes measured on two cores,
  counted as 40), so a 10**9 s replay needs 40 GB.
* reading a per-request CSV: about :data:`CSV_BYTES_PER_FILE_BYTE` bytes per byte of the
  file (the layout check and pandas' parser), whatever the window.

The limit is ``max_memory`` (bytes, or text such as ``"4G"``, ``"512Mi"``, ``"2GB"``),
else the environment variable ``AUTOSCALE_MAX_MEMORY``, else 80 % of the memory
available when the check runs (``MemAvailable`` of ``/proc/meminfo``, lowered to a
cgroup's limit when one is set).

Examples
--------
>>> parse_bytes("4G"), parse_bytes("512Mi"), parse_bytes("1.5GB")
(4000000000, 536870912, 1500000000)
>>> Footprint(requests=1_000_000).bytes
48000000
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TooLargeError

__all__ = [
    "BYTES_PER_CONFIGURATION", "BYTES_PER_REQUEST", "CSV_BYTES_PER_FILE_BYTE", "ENV_MAX_MEMORY",
    "TIMESERIES_BYTES_PER_REQUEST",
    "MAX_CONFIGURATIONS", "TIMESERIES_BYTES_PER_POINT", "BYTES_PER_ROW", "Footprint", "MemoryLimit",
    "available_memory", "bytes_per_second", "check_configurations", "check_replay", "format_bytes", "memory_limit",
    "parse_bytes",
]

#: Peak bytes per request while a trace is loaded and replayed (see the module docstring).
BYTES_PER_REQUEST = 48
#: Bytes per request more when time series are kept: the exact demand per second is computed from
#: clipped copies of every request's arrival and end (measured: 44 bytes a request).
TIMESERIES_BYTES_PER_REQUEST = 48
#: Bytes of engine state per configuration of a batch (0.063 MB measured on the yardstick).
BYTES_PER_CONFIGURATION = 64_000
#: Bytes per kept time-series point of one configuration: 11 series of float64, kept twice while finishing.
TIMESERIES_BYTES_PER_POINT = 2 * 11 * 8
#: Bytes needed per byte of a per-request CSV while it is read (22 bytes a row took 442).
CSV_BYTES_PER_FILE_BYTE = 20
#: Bytes per row of a sweep's table (about 60 columns, in the table, the batch files read back and the plan).
BYTES_PER_ROW = 2_000
#: The environment variable that sets the memory limit.
ENV_MAX_MEMORY = "AUTOSCALE_MAX_MEMORY"
#: A replay (or sweep) that needs less than this is not measured against the system's memory when no
#: limit is given: reading the system's figures costs more than such a replay's setup, and a machine with
#: less than this free fails before any replay.
UNCHECKED_BYTES = 32_000_000
#: Share of the available memory used when no limit is given.
DEFAULT_SHARE = 0.8
#: Most configurations a batch or a sweep resolves: each takes 1-5 ms to resolve and
#: validate, so 100,000 take minutes before the first replay.
MAX_CONFIGURATIONS = 100_000
#: Assumed available memory where the system does not tell (bytes).
_FALLBACK_AVAILABLE = 8 * 10**9

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}
_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmgtp]i?)?(b|ib)?\s*", re.IGNORECASE)
SIZE_SYNTAX = "a number of bytes or a size such as 512M, 4G, 2GB or 8Gi"


def parse_bytes(text, what: str = "max_memory") -> int:
    """Bytes from a number or a size: ``K``/``M``/``G``/``T`` (or ``KB``...) are powers of 1000, ``Ki``/``Mi``/``Gi``
    (or ``KiB``...) powers of 1024, as in Kubernetes' quantities.

    Raises
    ------
    ValueError
        (a :class:`~autoscale.errors.ConfigError`) naming ``what`` for anything else or a size <= 0.
    """
    from ..errors import ConfigError

    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        value = float(text)
    else:
        m = _SIZE.fullmatch(str(text)) if isinstance(text, str) else None
        if m is None:
            raise ConfigError(f"{what} = {text!r}, must be {SIZE_SYNTAX}")
        unit = (m.group(2) or "").lower()
        if m.group(3) and m.group(3).lower() == "ib" and not unit.endswith("i"):
            unit += "i"  # "GiB" reads as "Gi"
        value = float(m.group(1)) * _UNITS[unit]
    if not (math.isfinite(value) and value >= 1):
        raise ConfigError(f"{what} = {text!r}, must be at least 1 byte ({SIZE_SYNTAX})")
    return int(value)


def format_bytes(n: float) -> str:
    """``1.35e9 * 64`` -> ``"86.4 GB"`` (powers of 1000, three significant digits)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> tuple[int, str]:
    """Bytes of memory available now, and where the figure comes from."""
    avail, source = None, ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail, source = int(line.split()[1]) * 1024, "available"
                break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            source = "free"
        except (ValueError, OSError, AttributeError):
            avail, source = _FALLBACK_AVAILABLE, "assumed (the system does not tell)"
    for limit_file, used_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                  ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                   "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit = _read_int(limit_file)
        if limit is not None and limit < 2**60:
            left = max(limit - (_read_int(used_file) or 0), 0)
            if left < avail:
                avail, source = left, "left under the cgroup's limit"
            break
    return int(avail), source


@dataclass(frozen=True)
class MemoryLimit:
    """A memory limit in bytes and how it was set (for messages)."""

    bytes: int
    origin: str

    def __str__(self) -> str:
        return f"{format_bytes(self.bytes)} ({self.origin})"


def memory_limit(max_memory=None) -> MemoryLimit:
    """The limit: ``max_memory`` (bytes or a size text), else ``$AUTOSCALE_MAX_MEMORY``, else 80 % of what is available.

    >>> memory_limit("2G").bytes
    2000000000
    """
    if isinstance(max_memory, MemoryLimit):
        return max_memory
    if max_memory is not None:
        return MemoryLimit(parse_bytes(max_memory), "max_memory, --max-memory")
    env = os.environ.get(ENV_MAX_MEMORY)
    if env:
        return MemoryLimit(parse_bytes(env, ENV_MAX_MEMORY), f"${ENV_MAX_MEMORY}")
    avail, source = available_memory()
    return MemoryLimit(int(avail * DEFAULT_SHARE),
                       f"{DEFAULT_SHARE:.0%} of the {format_bytes(avail)} {source}; "
                       f"--max-memory or ${ENV_MAX_MEMORY} sets another")


def bytes_per_second(timeseries: bool = False) -> int:
    """Bytes per simulated second of a replay: a live-pod count per replay thread and their sum, plus time series."""
    threads = os.cpu_count() or 1
    return 8 * (threads + 3) + (64 if timeseries else 0)


@dataclass(frozen=True)
class Footprint:
    """What a piece of work holds at once: requests, configurations of a batch, simulated seconds, bytes read.

    ``bytes`` is the estimate (see the module docstring for each part).
    """

    requests: int = 0
    configurations: int = 0
    seconds: float = 0.0
    timeseries_points: int = 0
    read_bytes: int = 0
    rows: int = 0

    @property
    def per_request(self) -> int:
        """Bytes per request: :data:`BYTES_PER_REQUEST`, and more with time series."""
        return BYTES_PER_REQUEST + (TIMESERIES_BYTES_PER_REQUEST if self.timeseries_points else 0)

    @property
    def request_bytes(self) -> int:
        return int(self.requests) * self.per_request

    @property
    def configuration_bytes(self) -> int:
        points = self.timeseries_points * TIMESERIES_BYTES_PER_POINT
        return int(self.configurations) * (BYTES_PER_CONFIGURATION + points)

    @property
    def second_bytes(self) -> int:
        return int(math.ceil(self.seconds)) * bytes_per_second(self.timeseries_points > 0)

    @property
    def bytes(self) -> int:
        return (self.request_bytes + self.configuration_bytes + self.second_bytes + int(self.read_bytes)
                + int(self.rows) * BYTES_PER_ROW)

    def parts(self) -> list[str]:
        """The parts of the estimate that matter, as text."""
        out = []
        if self.read_bytes:
            out.append(f"{format_bytes(self.read_bytes)} to read the file")
        if self.requests:
            out.append(f"{format_bytes(self.request_bytes)} for {self.requests:,} requests at {self.per_request} "
                       "bytes each: arrivals, durations and their copies while loading and replaying"
                       + (", and the demand time series" if self.timeseries_points else ""))
        if self.configurations:
            each = self.configuration_bytes // max(self.configurations, 1)
            out.append(f"{format_bytes(self.configuration_bytes)} for {self.configurations:,} configurations at "
                       f"{format_bytes(each)} of engine state each")
        if self.seconds >= 1e6:
            out.append(f"{format_bytes(self.second_bytes)} for {self.seconds:,.0f} simulated seconds at "
                       f"{bytes_per_second(self.timeseries_points > 0)} bytes each (pods per second, per replay "
                       "thread)")
        if self.rows:
            out.append(f"{format_bytes(self.rows * BYTES_PER_ROW)} for {self.rows:,} result rows at "
                       f"{format_bytes(BYTES_PER_ROW)} each")
        return out

    def check(self, what: str, max_memory=None, fixes=()) -> None:
        """Raise :class:`~autoscale.errors.TooLargeError` when the estimate exceeds the limit.

        ``what`` names the work (a file, a trace, a replay); ``fixes`` are the options
        that make it fit, each a sentence fragment.
        """
        limit = memory_limit(max_memory)
        need = self.bytes
        if need <= limit.bytes:
            return
        fixes = [f for f in fixes if f]
        advice = ("; to fit: " + "; or ".join(fixes)) if fixes else ""
        raise TooLargeError(f"{what}: needs about {format_bytes(need)} ({'; '.join(self.parts())}), more than "
                            f"the memory limit of {limit}{advice}", requests=self.requests, needed=need,
                            limit=limit.bytes)


def fitting_fraction(footprint: Footprint, max_memory=None) -> float:
    """The largest share of the requests that fits beside the rest of ``footprint`` (two digits, floored)."""
    limit = memory_limit(max_memory).bytes
    room = limit - (footprint.bytes - footprint.request_bytes)
    if footprint.requests <= 0 or room <= 0:
        return 0.0
    f = min(1.0, room / footprint.request_bytes)
    digits = 1 - int(math.floor(math.log10(f)))
    return math.floor(f * 10**digits) / 10**digits


def check_configurations(count: int, what: str, per_batch: int | None = None, max_memory=None,
                         timeseries_points: int = 0) -> None:
    """Refuse more than :data:`MAX_CONFIGURATIONS` configurations, or a batch whose engine state does not fit.

    ``per_batch`` is how many of them replay at once (all of them by default).
    """
    if count > MAX_CONFIGURATIONS:
        raise TooLargeError(f"{what}: {count:,} configurations, more than the {MAX_CONFIGURATIONS:,} a batch or "
                            f"sweep takes (each is resolved and validated, about 1-5 ms apiece, before the first "
                            "replay); sweep fewer values, split the grid into several sweeps, or draw a sample "
                            "(autoscale sweep --random KEY=... --samples N)", needed=count, limit=MAX_CONFIGURATIONS)
    batch = count if per_batch is None else min(count, per_batch)
    Footprint(configurations=batch, timeseries_points=timeseries_points).check(
        what, max_memory, ["fewer configurations at once (autoscale sweep replays them in batches: --batch-size)"])


def seconds_text(seconds: float) -> str:
    """A time as the command line reads it: ``7200`` -> ``"2h"``, ``90`` -> ``"90s"``, ``150.5`` -> ``"150.5s"``.

    >>> seconds_text(7200), seconds_text(90), seconds_text(150.5), seconds_text(0)
    ('2h', '90s', '150.5s', '0')
    """
    if seconds == 0:
        return "0"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and float(seconds / size).is_integer():
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def window_fixes(starts: np.ndarray, counts: np.ndarray, period: float, footprint: Footprint,
                 max_memory=None, first: float = 0.0, scale: float | None = None) -> list[str]:
    """The options that make a count trace fit: the longest window from ``first``, thinning, a day at a time.

    ``starts`` are the start times (s from time 0) of the periods, ``counts`` their
    requests (in time order), after any thinning to ``scale`` already asked for.
    """
    limit = memory_limit(max_memory).bytes
    room = (limit - (footprint.bytes - footprint.request_bytes)) // BYTES_PER_REQUEST
    fixes = []
    cum = np.cumsum(counts)
    if room > 0 and cum.size:
        k = int(np.searchsorted(cum, room, side="right"))  # the first k periods fit
        if k > 0:
            length = float(starts[k - 1] + period) - first
            end = first + (math.floor(length / 3600) * 3600 if length >= 7200 else math.floor(length))
            within = int(np.searchsorted(np.asarray(starts) + period, end, side="right"))  # periods ending by then
            if within > 0:
                fixes.append(f"a time window (start=/end=, --start/--end), such as --start {seconds_text(first)} "
                             f"--end {seconds_text(end)} (about {int(cum[within - 1]):,} requests)")
    fraction = fitting_fraction(footprint, max_memory)
    if fraction > 0:
        total = fraction * (1.0 if scale is None else scale)
        fixes.append(f"thin the arrivals (scale=, --scale F), such as --scale {total:.2g} "
                     f"(about {int(footprint.requests * fraction):,} requests)")
    span = float(starts[-1] + period) if len(starts) else 0.0
    if span > 86400:
        day = np.floor(np.asarray(starts) / 86400).astype(np.int64)
        per_day = np.bincount(day, weights=counts)
        busiest = int(per_day.max())
        d = int(per_day.argmax())
        fits = busiest <= room
        fixes.append(f"a day at a time (--start 0 --end 24h, then --start 24h --end 48h, ...; the busiest, "
                     f"day {d + 1}, has {busiest:,} requests" + (")" if fits else ", so also thin it)"))
    return fixes


def check_replay(what: str, *, requests: int = 0, configurations: int = 1, seconds: float = 0.0,
                 timeseries_points: int = 0, rows: int = 0, max_memory=None) -> None:
    """Refuse a replay (or a sweep) whose requests, batch, simulated seconds and table would not fit together.

    The message names the options that shrink its largest parts: a time window or
    thinning for the requests, a shorter duration for the seconds, fewer
    configurations for the batch.

    >>> check_replay("replay", requests=10**6, configurations=3, seconds=86400, max_memory="1G")
    >>> check_replay("replay", seconds=1e9, max_memory="1G")
    Traceback (most recent call last):
    ...
    autoscale.errors.TooLargeError: replay: needs about ...
    """
    footprint = Footprint(requests=requests, configurations=configurations, seconds=seconds,
                          timeseries_points=timeseries_points, rows=rows)
    if max_memory is None and footprint.bytes < UNCHECKED_BYTES and not os.environ.get(ENV_MAX_MEMORY):
        return
    limit = memory_limit(max_memory)
    if footprint.bytes <= limit.bytes:
        return
    fixes = []
    for share, fix in sorted([
        (footprint.request_bytes, "fewer requests: a time window (start=/end=, --start/--end) or thinning "
                                  "(scale=, --scale F)"),
        (footprint.second_bytes, "a shorter simulated time (duration=, --duration)"),
        (footprint.configuration_bytes, "fewer configurations at once (a smaller --batch-size in a sweep, "
                                        "fewer --set values)"),
        (footprint.rows * BYTES_PER_ROW, "fewer runs in one sweep (traces x seeds x policies x configurations)"),
    ], key=lambda pair: -pair[0]):
        if share > limit.bytes // 10:
            fixes.append(fix)
    footprint.check(what, limit, fixes)
