"""Progress of long work (a batch's configurations, a sweep's runs) on standard error.

:func:`bar` counts ``total`` units of work. Nothing is shown until the work has run for
:data:`DELAY` seconds, so a replay that ends within a few seconds prints nothing. Then,
on a terminal or in Jupyter, a ``tqdm.auto`` bar with an ETA; on any other stream (a log
file, CI) a plain line at most every :data:`INTERVAL` seconds and a last line at the end::

    autoscale: sweep 40/256 runs (15 %), 1m20s elapsed, about 7m12s left
    autoscale: sweep 256/256 runs (100 %), 8m32s elapsed

``progress=False`` turns it off, and so does the environment variable
``AUTOSCALE_PROGRESS=0`` (also ``false``, ``no``, ``off``) for every bar not asked for
with ``progress=True``. A callable ``progress(done, total)`` is called instead after each
unit. The bar only counts: it never changes what the work computes.

Examples
--------
>>> import io
>>> from autoscale.progress import bar
>>> clock = iter(range(0, 200, 20)).__next__  # a scripted clock: 20 s per reading
>>> log = io.StringIO()
>>> with bar(3, "sweep", "runs", progress=True, file=log, clock=clock) as b:
...     for _ in range(3):
...         b.update()
>>> print(log.getvalue(), end="")
autoscale: sweep 1/3 runs (33 %), 20s elapsed, about 40s left
autoscale: sweep 2/3 runs (67 %), 40s elapsed, about 20s left
autoscale: sweep 3/3 runs (100 %), 1m00s elapsed
"""

from __future__ import annotations

import os
import sys
import threading
import time

__all__ = ["bar", "Bar", "enabled", "DELAY", "INTERVAL", "ENV"]

#: Seconds of work before anything is shown.
DELAY = 2.0
#: Seconds between two plain lines on a stream that is not a terminal.
INTERVAL = 15.0
#: The environment variable that turns the default bars off (``0``, ``false``, ``no``, ``off``).
ENV = "AUTOSCALE_PROGRESS"

#: The clock the bars read (seconds, monotonic); a test replaces it to script time.
_clock = time.monotonic


def enabled(progress=None) -> bool:
    """Whether ``progress`` (``None``, a bool or a callable) asks for progress, the environment considered."""
    if progress is None:
        return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")
    return callable(progress) or bool(progress)


def _duration(seconds: float) -> str:
    """``42s``, ``1m20s``, ``2h05m``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _interactive(stream) -> bool:
    """A terminal, or standard error in a Jupyter kernel (where tqdm.auto draws a widget)."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        return False
    if stream is not sys.stderr or "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel needs IPython
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class Bar:
    """Counts finished units of work and shows them as :func:`bar` describes; safe to update from threads."""

    def __init__(self, total: int, desc: str, unit: str, initial: int = 0, progress=None, file=None,
                 clock=None) -> None:
        self.total, self.desc, self.unit = int(total), desc, unit
        self.initial = self.done = int(initial)
        self._callback = progress if callable(progress) else None
        self._on = enabled(progress) and self._callback is None
        self._file = sys.stderr if file is None else file
        self._clock = _clock if clock is None else clock
        self._lock = threading.Lock()
        self._tqdm = None
        self._interactive = self._on and _interactive(self._file)
        self._start = self._clock() if self._on else 0.0
        self._last_line = None  # when the last plain line was written
        self._shown = None  # the count it showed

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """``n`` more units are finished."""
        self.set(self.done + n)

    def set(self, done: int) -> None:
        """``done`` units are finished in all (counting the ``initial`` ones)."""
        with self._lock:
            self.done = int(done)
            if self._callback is not None:
                self._callback(self.done, self.total)
            elif self._on:
                self._show(self._clock())

    def close(self) -> None:
        """The work has ended: the bar's last state, or a last line when any was shown."""
        with self._lock:
            if not self._on:
                return
            self._on = False
            if self._tqdm is not None:
                self._tqdm.close()
                return
            elapsed = self._clock() - self._start
            if self._shown != self.done and (self._shown is not None or elapsed >= DELAY):
                self._line(elapsed, last=True)

    def _show(self, now: float) -> None:
        elapsed = now - self._start
        if elapsed < DELAY:
            return
        if self._interactive:
            if self._tqdm is None:
                from tqdm.auto import tqdm

                # Drawn first by the update below, with its clock set back to the work's start: its
                # elapsed time and its rate (the units since ``initial``) are the work's.
                self._tqdm = tqdm(total=self.total, initial=self.initial, desc=self.desc, unit=self.unit,
                                  file=self._file, dynamic_ncols=True, smoothing=0.1, delay=1e-9)
                self._tqdm.start_t -= elapsed
                self._tqdm.last_print_t -= elapsed
            self._tqdm.update(self.done - self._tqdm.n)
        elif self._last_line is None or now - self._last_line >= INTERVAL:
            self._last_line = now
            self._line(elapsed, last=False)

    def _line(self, elapsed: float, last: bool) -> None:
        pct = 100.0 * self.done / self.total if self.total else 100.0
        text = f"autoscale: {self.desc} {self.done:,}/{self.total:,} {self.unit} ({pct:.0f} %), " \
               f"{_duration(elapsed)} elapsed"
        fresh = self.done - self.initial
        if not last and 0 < fresh and self.done < self.total:
            text += f", about {_duration(elapsed * (self.total - self.done) / fresh)} left"
        self._shown = self.done
        print(text, file=self._file, flush=True)


def bar(total: int, desc: str, unit: str, *, initial: int = 0, progress=None, file=None, clock=None) -> Bar:
    """A progress bar for ``total`` units of work, ``initial`` of them finished before it starts.

    Parameters
    ----------
    total : int
        Units of work in all.
    desc, unit : str
        What the work is (``"sweep"``) and what it counts (``"runs"``), as the bar shows them.
    initial : int
        Units already finished (a resumed sweep's): the bar starts there, and the ETA
        counts only the units finished since.
    progress : bool or callable, optional
        ``None`` (the default): shown unless ``AUTOSCALE_PROGRESS=0``; ``True``: shown;
        ``False``: nothing; a callable: called as ``progress(done, total)`` after each
        update, nothing shown.
    file : stream, optional
        Where to show it; standard error (as it is when the bar starts) by default.
    clock : callable, optional
        Seconds, monotonic; ``time.monotonic`` by default.

    Returns
    -------
    Bar
        ``update(n=1)``, ``set(done)`` and ``close()``; a context manager that closes it.
    """
    return Bar(total, desc, unit, initial=initial, progress=progress, file=file, clock=clock)
