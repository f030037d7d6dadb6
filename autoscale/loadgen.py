"""Load generators' own command lines and option files, read into workloads: hey, wrk (and wrk2), vegeta and k6.

``hey -c 20 -q 1 -z 600s URL`` is 20 closed-loop clients, each sending at most one
request a second for ten minutes; ``vegeta attack -rate 50/s -duration 60s`` is an open
loop of 50 evenly spaced requests a second; a k6 script's ``export const options =
{...}`` holds scenarios of virtual users or arrival rates. :func:`parse` reads any of
them with the tool's own flag syntax and defaults (Go's ``flag`` package for hey and
vegeta, ``getopt_long`` for wrk, k6's executors and their defaults) into a
:class:`Load`: the closed-loop pools (:class:`~autoscale.workload.Clients`) and
open-loop traces it describes, plus a note for every flag that is read but has no
effect on a simulation (a URL, a header, a thread count). A flag that would change the
load in a way the model cannot follow (a wrk script, an externally controlled k6
executor) or that the tool itself does not have is refused, with the flags it has.
:func:`workload` combines loads into what :func:`autoscale.replay`,
:func:`autoscale.compare` and sweeps take.

Every request of a load takes its service time from ``service``: a distribution of
:mod:`autoscale.trace.durations`, a number of seconds, or a trace whose durations are
resampled (by default :data:`~autoscale.trace.durations.DEFAULT_SERVICE`). How each
tool's flags map to the model, and what is not modelled, is ``docs/model.md`` §9.

Examples
--------
>>> load = parse("hey -c 20 -q 1 -z 10m http://hello.default.example.com", service=0.1)
>>> [p.describe() for p in load.pools]  # doctest: +NORMALIZE_WHITESPACE
['hey: 20 closed-loop clients, for 600 s, at most 1 req/s each, think none, service constant 0.1 s,
  network delay 0.5 ms each way']
>>> load.notes
('hey: URL http://hello.default.example.com: the simulated revision answers every request',)
>>> len(parse("vegeta attack -rate 50/s -duration 60s", service=0.1).traces[0])
3000
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ._jsliteral import read_object as read_js_object
from .errors import ConfigError
from .trace.trace import Trace
from .workload import Clients, ClosedLoop, constant_arrival_rate, ramping_arrival_rate

__all__ = ["Load", "parse", "hey", "wrk", "vegeta", "k6", "k6_run", "k6_options", "read_js_object", "workload",
           "go_duration", "TOOLS"]

#: The tools :func:`parse` reads, by the first word of a command line.
TOOLS = ("hey", "wrk", "wrk2", "vegeta", "k6")


@dataclass(frozen=True)
class Load:
    """What one load generator's command line or options file describes.

    Attributes
    ----------
    source : str
        The command line or file, as given.
    pools : tuple of Clients
        Closed-loop client pools, named after the tool or the k6 scenario.
    traces : tuple of Trace
        Open-loop requests (vegeta's rate, k6's arrival-rate executors).
    notes : tuple of str
        What was read but does not change the simulated load, and how the flags were
        taken where the tool's behaviour and the model differ.
    """

    source: str
    pools: tuple = ()
    traces: tuple = ()
    notes: tuple = ()

    def workload(self):
        """A :class:`~autoscale.workload.ClosedLoop` of the pools (beside the open-loop requests), or the
        open-loop trace alone."""
        return workload(self)


# -- values as the tools read them ----------------------------------------------------------


def go_duration(text: str, where: str) -> float:
    """Seconds of a Go ``time.ParseDuration`` text (``600s``, ``5m``, ``1h30m``, ``1.5s``, ``0``).

    Go needs a unit on every number but ``0``: ``600`` alone is refused, as hey and vegeta refuse it.

    >>> go_duration("1h30m", "hey -z"), go_duration("250ms", "hey -z")
    (5400.0, 0.25)
    """
    from .values import duration_ns

    ns = duration_ns(text.strip())
    if ns is None:
        hint = f" (Go durations need a unit: {text.strip()}s)" if re.fullmatch(r"\d+(\.\d*)?", text.strip()) else ""
        raise ConfigError(f"{where} {text}: not a Go duration such as 600s, 5m or 1h30m{hint}")
    return ns / 1e9


def _whole(text: str, where: str, low: int = 0) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(f"{where} {text}: must be a whole number >= {low}") from None
    if value < low:
        raise ConfigError(f"{where} {text}: must be a whole number >= {low}")
    return value


def _float(text: str, where: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ConfigError(f"{where} {text}: must be a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{where} {text}: must be a finite number")
    return value


def _service(service):
    """The service-time argument of the pools and traces: as given, or the default distribution."""
    if service is None:
        from .trace.durations import DEFAULT_SERVICE

        return DEFAULT_SERVICE
    return service


def _pool(where: str, **kw) -> Clients:
    """A pool, its errors prefixed with the flags it came from."""
    try:
        return Clients(**kw)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


# -- Go's flag package (hey, vegeta) ------------------------------------------------------------


def _go_flags(tool: str, argv: list[str], spec: dict[str, str], repeatable=()) -> tuple[dict, list[str]]:
    """Parse ``argv`` as Go's ``flag`` package does: ``-name value``, ``-name=value``, ``--name``; bool flags take
    no value (or ``=true``/``=false``); parsing stops at the first argument that is not a flag, or after ``--``.

    ``spec`` maps each flag to its kind (``bool``, or any other word for a flag with a value).
    Returns the flags given (name -> value, a list for ``repeatable``) and the arguments left.
    """
    from .values import parse_bool

    given: dict = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if len(arg) < 2 or not arg.startswith("-"):
            break
        name = arg[2:] if arg.startswith("--") else arg[1:]
        name, eq, value = name.partition("=")
        if name not in spec:
            raise ConfigError(f"{tool}: flag provided but not defined: -{name}; {tool}'s flags are "
                              + ", ".join(f"-{f}" for f in sorted(spec, key=str.lower)))
        if spec[name] == "bool":
            value = parse_bool(value, f"{tool} -{name}") if eq else True
        elif not eq:
            if i + 1 >= len(argv):
                raise ConfigError(f"{tool}: flag needs an argument: -{name}")
            i += 1
            value = argv[i]
        if name in repeatable:
            given.setdefault(name, []).append(value)
        elif name in given:
            raise ConfigError(f"{tool}: -{name} is given twice ({given[name]} and {value}); give it once")
        else:
            given[name] = value
        i += 1
    return given, argv[i:]


def _url_note(tool: str, rest: list[str], notes: list[str]) -> None:
    if not rest:
        notes.append(f"{tool}: no URL given; the simulated revision answers every request")
        return
    notes.append(f"{tool}: URL {rest[0]}: the simulated revision answers every request")
    if len(rest) > 1:
        raise ConfigError(f"{tool}: {' '.join(rest[1:])!r} after the URL: {tool} reads flags only before the URL "
                          "(Go's flag package stops at the first argument that is not a flag)")


def _ignored(tool: str, names, notes: list[str]) -> None:
    """A note for the flags ``names`` that shape each request but not when requests are sent."""
    names = list(names)
    if names:
        verb = "does" if len(names) == 1 else "do"
        notes.append(f"{tool}: {', '.join(names)} {verb} not change the load in the model: ignored")


# -- hey ----------------------------------------------------------------------------------------

_HEY_FLAGS = {
    "n": "int", "c": "int", "q": "float", "z": "duration", "t": "int", "o": "string", "m": "string",
    "H": "string", "d": "string", "D": "string", "A": "string", "T": "string", "a": "string", "x": "string",
    "host": "string", "U": "string", "h2": "bool", "cpus": "int", "disable-compression": "bool",
    "disable-keepalive": "bool", "disable-redirects": "bool",
}
#: hey's flags that shape each request but not when requests are sent.
_HEY_REQUEST = ("m", "H", "d", "D", "A", "T", "a", "x", "host", "U", "h2", "cpus", "disable-compression",
                "disable-keepalive", "disable-redirects")


def hey(argv, service=None, name: str = "hey") -> Load:
    """``hey [flags] URL`` as a pool of ``-c`` clients.

    ``-z`` (a Go duration) runs the clients for that long, and then ``-n`` is ignored, as
    in hey; otherwise each client sends ``-n / -c`` requests (hey's integer division, so
    ``-n 205 -c 20`` sends 200). ``-q`` is each client's rate limit (requests per second).
    hey's defaults are ``-n 200 -c 50``. ``-t`` (hey's client timeout) is not modelled
    and is noted; ``-o`` (hey's CSV output) is refused; flags that shape each request
    (``-m``, ``-H``, ``-d``, ``-D``, ``-h2``, ``-disable-keepalive``, ...) are noted.

    >>> [(p.clients, p.requests) for p in hey("hey -n 205 -c 20 http://x", service=0.1).pools]
    [(20, 10)]
    """
    argv = _argv(argv, "hey")
    flags, rest = _go_flags("hey", argv, _HEY_FLAGS, repeatable=("H",))
    notes: list[str] = []
    if "o" in flags:
        raise ConfigError(f"hey -o {flags['o']}: hey's output format does not apply; autoscale prints each pool's "
                          "requests, statuses and latencies (--out saves the tables)")
    c = _whole(flags.get("c", "50"), "hey -c", 1)
    n = _whole(flags.get("n", "200"), "hey -n", 1)
    q = _float(flags["q"], "hey -q") if "q" in flags else 0.0
    if q < 0:
        raise ConfigError(f"hey -q {flags['q']}: must be a rate >= 0 (0: no limit)")
    z = go_duration(flags["z"], "hey -z") if "z" in flags else 0.0
    if z < 0:
        raise ConfigError(f"hey -z {flags['z']}: must be a duration >= 0")
    if "t" in flags:
        _whole(flags["t"], "hey -t")
        notes.append(f"hey -t {flags['t']}: client-side timeouts are not modelled; a client waits for the "
                     "revision's answer (the revision timeout answers 504)")
    _ignored("hey", [f"-{f}" for f in _HEY_REQUEST if f in flags], notes)
    _url_note("hey", rest, notes)
    kw = dict(clients=c, service=_service(service), rate=q or None, name=name)
    if z > 0:
        if "n" in flags:
            notes.append(f"hey -n {flags['n']}: ignored, as hey ignores it with -z")
        pool = _pool("hey", duration=z, **kw)
    else:
        if n < c:
            raise ConfigError(f"hey -n {n} -c {c}: -n cannot be less than -c (hey refuses it)")
        if n % c:
            notes.append(f"hey -n {n} -c {c}: each client sends {n // c} requests ({n // c * c} in all), "
                         "as hey divides -n among its clients")
        pool = _pool("hey", requests=n // c, **kw)
    return Load(source=" ".join(["hey", *argv]), pools=(pool,), notes=tuple(notes))


# -- wrk and wrk2 ------------------------------------------------------------------------------

#: wrk's options: long name -> (short letter, takes a value).
_WRK_OPTIONS = {
    "connections": ("c", True), "duration": ("d", True), "threads": ("t", True), "script": ("s", True),
    "header": ("H", True), "latency": ("L", False), "timeout": ("T", True), "rate": ("R", True),
    "u_latency": ("U", False), "batch_latency": ("B", False), "help": ("h", False), "version": ("v", False),
}
_WRK_SHORT = {short: long for long, (short, _) in _WRK_OPTIONS.items()}
_METRIC = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_TIME = {"": 1, "s": 1, "m": 60, "h": 3600}


def _wrk_number(text: str, where: str, units: dict, what: str) -> int:
    """wrk's ``scan_metric`` and ``scan_time``: a whole number with an optional unit (k, M, G or s, m, h)."""
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]{0,2})\s*", text)
    if m is None or m.group(2).lower() not in units:
        raise ConfigError(f"{where} {text}: must be {what}")
    return int(m.group(1)) * units[m.group(2).lower()]


def _getopt(tool: str, argv: list[str]) -> tuple[dict, list[str]]:
    """wrk's ``getopt_long``: ``-c 10``, ``-c10``, ``--connections 10``, ``--connections=10``, a unique prefix of a
    long name; options may follow the URL (GNU getopt permutes); ``--`` ends them."""
    given: dict = {}
    rest: list[str] = []
    listing = ", ".join(f"-{s}/--{lng}" for lng, (s, _) in _WRK_OPTIONS.items())
    i = 0
    while i < len(argv):
        arg = argv[i]
        value = None
        if arg == "--":
            rest.extend(argv[i + 1:])
            break
        if arg.startswith("--"):
            key, eq, v = arg[2:].partition("=")
            matches = [n for n in _WRK_OPTIONS if n.startswith(key)] if key else []
            if key in _WRK_OPTIONS:
                matches = [key]
            if len(matches) != 1:
                what = "ambiguous" if matches else "unrecognized"
                raise ConfigError(f"{tool}: {what} option --{key}; {tool}'s options are {listing}")
            long = matches[0]
            if eq:
                value = v
        elif arg.startswith("-") and len(arg) > 1:
            short = arg[1]
            if short not in _WRK_SHORT:
                raise ConfigError(f"{tool}: invalid option -{short}; {tool}'s options are {listing}")
            long = _WRK_SHORT[short]
            if len(arg) > 2:
                if not _WRK_OPTIONS[long][1]:
                    raise ConfigError(f"{tool}: -{short} takes no value (give {arg[2:]!r} as its own option)")
                value = arg[2:]
        else:
            rest.append(arg)
            i += 1
            continue
        takes = _WRK_OPTIONS[long][1]
        if takes and value is None:
            if i + 1 >= len(argv):
                raise ConfigError(f"{tool}: option --{long} (-{_WRK_OPTIONS[long][0]}) requires an argument")
            i += 1
            value = argv[i]
        elif not takes and value is not None:
            raise ConfigError(f"{tool}: option --{long} takes no value")
        if long == "header":
            given.setdefault(long, []).append(value)
        elif long in given:
            raise ConfigError(f"{tool}: --{long} is given twice; give it once")
        else:
            given[long] = True if value is None else value
        i += 1
    return given, rest


def wrk(argv, service=None, name: str | None = None) -> Load:
    """``wrk [options] URL`` (or wrk2 with ``-R``) as a pool of ``-c`` connections, each a closed-loop client.

    wrk keeps every connection busy: a connection sends its next request when its
    response arrives, for ``-d`` (default 10s). ``-t`` (threads, default 2) only spreads
    the connections over threads and must not exceed them, as wrk checks. wrk2's
    ``-R``/``--rate`` (total requests per second) is taken as wrk2 schedules it: each
    connection sends at ``R / c`` requests per second at most, so a slow service lowers
    the rate achieved. ``-s`` (a Lua script) is refused: a script can change every
    request. Numbers take wrk's units (``-c 1k``, ``-d 2m``).

    >>> p = wrk("wrk2 -t2 -c100 -d30s -R2000 http://x", service=0.1).pools[0]
    >>> p.clients, p.duration, p.rate
    (100, 30.0, 20.0)
    """
    argv = _argv(argv)
    tool = os.path.basename(argv.pop(0)) if argv and os.path.basename(argv[0]) in ("wrk", "wrk2") else "wrk"
    opts, rest = _getopt(tool, argv)
    notes: list[str] = []
    if "script" in opts:
        raise ConfigError(f"{tool} -s {opts['script']}: a Lua script can change every request and when it is "
                          "sent; autoscale does not run wrk scripts (use -c, -d and -R alone)")
    for flag in ("help", "version"):
        if flag in opts:
            raise ConfigError(f"{tool} --{flag}: prints {tool}'s {flag} and sends no load")
    c = _wrk_number(opts.get("connections", "10"), f"{tool} -c", _METRIC, "a whole number (k, M, G units)")
    t = _wrk_number(opts.get("threads", "2"), f"{tool} -t", _METRIC, "a whole number (k, M, G units)")
    d = _wrk_number(opts.get("duration", "10s"), f"{tool} -d", _TIME,
                    "a whole number of seconds with an optional unit s, m or h (wrk reads 30s, 2m, 1h)")
    if t < 1 or d < 1:
        raise ConfigError(f"{tool}: -t and -d must be at least 1 (wrk refuses 0)")
    if c < 1 or c < t:
        raise ConfigError(f"{tool} -c {c} -t {t}: number of connections must be >= threads (wrk refuses it)")
    if "threads" in opts:
        notes.append(f"{tool} -t {opts['threads']}: threads spread the connections; they do not change the load")
    rate = None
    if "rate" in opts:
        r = _wrk_number(opts["rate"], f"{tool} -R", _METRIC, "a whole number of requests per second (k, M units)")
        if r < 1:
            raise ConfigError(f"{tool} -R {opts['rate']}: must be at least 1 request per second")
        rate = r / c
        notes.append(f"{tool} -R {opts['rate']}: each of the {c} connections sends at most {rate:g} req/s "
                     "(wrk2's schedule); latency is measured from the actual send, not wrk2's intended one")
    elif tool == "wrk2":
        raise ConfigError("wrk2: throughput must be specified with the --rate or -R option (wrk2 refuses to run "
                          "without it)")
    if "timeout" in opts:
        _wrk_number(opts["timeout"], f"{tool} --timeout", _TIME, "a whole number of seconds with a unit s, m or h")
        notes.append(f"{tool} --timeout {opts['timeout']}: client-side timeouts are not modelled; a connection "
                     "waits for the revision's answer")
    _ignored(tool, [f"--{k}" for k in ("header", "latency", "u_latency", "batch_latency") if k in opts], notes)
    if rest:
        notes.append(f"{tool}: URL {rest[0]}: the simulated revision answers every request")
        if len(rest) > 1:
            notes.append(f"{tool}: {' '.join(rest[1:])!r}: arguments after the URL go to a script; ignored")
    else:
        raise ConfigError(f"{tool}: no URL given (wrk needs one to run)")
    pool = _pool(tool, clients=c, service=_service(service), duration=float(d), rate=rate, name=name or tool)
    return Load(source=" ".join([tool, *argv]), pools=(pool,), notes=tuple(notes))


# -- vegeta -------------------------------------------------------------------------------------

_VEGETA_FLAGS = {
    "rate": "rate", "duration": "duration", "workers": "uint", "max-workers": "uint", "timeout": "duration",
    "targets": "string", "format": "string", "body": "string", "header": "string", "output": "string",
    "name": "string", "keepalive": "bool", "http2": "bool", "h2c": "bool", "insecure": "bool", "lazy": "bool",
    "redirects": "int", "cert": "string", "key": "string", "root-certs": "string", "connections": "int",
    "max-connections": "int", "laddr": "string", "resolvers": "string", "max-body": "string",
    "chunked": "bool", "dns-ttl": "duration", "session-tickets": "bool", "unix-socket": "string",
    "proxy-header": "string", "connect-to": "string",
}


def _vegeta_rate(text: str) -> float:
    """Requests per second of vegeta's ``-rate``: ``50``, ``50/s``, ``50/1s``, ``3000/m``, ``1/500ms``
    (``FREQ/PER``, PER a Go duration whose number may be omitted); 0 or ``infinity``: as fast as the workers go."""
    s = text.strip()
    if s.lower() == "infinity":
        return math.inf
    freq, sep, per = s.partition("/")
    try:
        f = int(freq)
    except ValueError:
        raise ConfigError(f"vegeta -rate {text}: must be FREQ/PER such as 50/s, 50/1s or 3000/m "
                          "(FREQ a whole number)") from None
    if f < 0:
        raise ConfigError(f"vegeta -rate {text}: must be >= 0")
    if f == 0:
        return math.inf
    if not sep:
        return float(f)
    per = per.strip()
    if per and not per[0].isdigit():
        per = "1" + per
    seconds = go_duration(per, f"vegeta -rate {text}: PER")
    if seconds <= 0:
        raise ConfigError(f"vegeta -rate {text}: PER must be a duration > 0")
    return f / seconds


def vegeta(argv, service=None, name: str = "vegeta", seed=0) -> Load:
    """``vegeta attack -rate 50/s -duration 60s`` as an open loop of evenly spaced requests.

    vegeta holds its rate whatever the responses, starting workers as it needs them, so
    ``-rate`` is an open-loop constant arrival rate for ``-duration``. ``-rate 0`` (or
    ``infinity``) sends as fast as ``-max-workers`` workers can, each waiting for its
    response: a closed-loop pool of that many clients. ``-workers`` and ``-max-workers``
    are noted with a rate (the model never runs out of workers); the request-shaping
    flags (``-targets``, ``-header``, ``-body``, ...) are noted; ``-duration`` is required
    (vegeta's default, 0, attacks forever). A pipeline such as ``echo "GET URL" | vegeta
    attack ... | vegeta report`` is read at its ``vegeta attack``. ``seed`` draws the
    open-loop requests' service times.

    >>> t = vegeta("vegeta attack -rate=3000/m -duration=10s", service=0.1).traces[0]
    >>> len(t), float(t.arrivals[1])
    (500, 0.02)
    """
    words = _argv(argv, "vegeta")
    notes: list[str] = []
    if "|" in words:
        parts, cur = [], []
        for w in words:
            if w == "|":
                parts.append(cur)
                cur = []
            else:
                cur.append(w)
        parts.append(cur)
        attack = [p for p in parts if p[:2] == ["vegeta", "attack"] or p[:1] == ["attack"]]
        if len(attack) != 1:
            raise ConfigError("vegeta: a pipeline needs exactly one 'vegeta attack' command")
        others = [" ".join(p) for p in parts if p is not attack[0]]
        notes.append(f"vegeta: {', '.join(repr(o) for o in others)} in the pipeline: the targets and the report "
                     "do not change the load (autoscale reports each configuration)")
        words = attack[0]
    if words[:1] == ["vegeta"]:
        words = words[1:]
    if words[:1] != ["attack"]:
        raise ConfigError(f"vegeta {' '.join(words[:1])}: only 'vegeta attack' sends load (the other vegeta "
                          "commands report or plot results)")
    argv = words[1:]
    flags, rest = _go_flags("vegeta attack", argv, _VEGETA_FLAGS)
    if rest:
        raise ConfigError(f"vegeta attack: {' '.join(rest)!r}: vegeta attack takes its targets on standard input "
                          "or with -targets, not as arguments")
    if "duration" not in flags:
        raise ConfigError("vegeta attack: give -duration (vegeta's default, 0, attacks until interrupted)")
    duration = go_duration(flags["duration"], "vegeta attack -duration")
    if duration <= 0:
        raise ConfigError(f"vegeta attack -duration {flags['duration']}: must be > 0 (0 attacks until interrupted)")
    rate = _vegeta_rate(flags.get("rate", "50/1s"))
    if "timeout" in flags:
        go_duration(flags["timeout"], "vegeta attack -timeout")
        notes.append(f"vegeta attack -timeout {flags['timeout']}: client-side timeouts are not modelled; "
                     "a request waits for the revision's answer")
    workers = {k: _whole(flags[k], f"vegeta attack -{k}", 1) for k in ("workers", "max-workers") if k in flags}
    shaping = [f"-{k}" for k in _VEGETA_FLAGS if k in flags
               and k not in ("rate", "duration", "timeout", "workers", "max-workers")]
    _ignored("vegeta attack", shaping, notes)
    source = " ".join(["vegeta", "attack", *argv])
    if math.isinf(rate):
        if "max-workers" not in workers:
            raise ConfigError("vegeta attack -rate 0: give -max-workers (vegeta needs it to send as fast as it "
                              "can; each worker waits for its response)")
        if "workers" in workers:
            notes.append(f"vegeta attack -workers {flags['workers']}: vegeta adds workers up to -max-workers at "
                         "once when all are busy; the pool starts with all of them")
        pool = _pool("vegeta attack", clients=workers["max-workers"], service=_service(service), duration=duration,
                     name=name)
        return Load(source=source, pools=(pool,), notes=tuple(notes))
    for k in workers:
        notes.append(f"vegeta attack -{k} {flags[k]}: the open loop holds the rate with as many workers as it "
                     "needs" + (" (a -max-workers too few to hold it is not modelled)" if k == "max-workers" else ""))
    trace = constant_arrival_rate(rate, duration, service=_service(service), seed=seed, name=name)
    return Load(source=source, traces=(trace,), notes=tuple(notes))


# -- k6 -----------------------------------------------------------------------------------------


def _k6_duration(value, where: str) -> float:
    """A k6 duration: a string with Go's units (and ``d`` for days), or a number of milliseconds."""
    if isinstance(value, bool) or value is None:
        raise ConfigError(f"{where} = {value!r}: must be a duration such as '30s' or '1m30s'")
    if isinstance(value, (int, float)):
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"{where} = {value!r}: must be >= 0 milliseconds")
        return value / 1000.0
    text = str(value).strip()
    days = re.match(r"(\d+)d", text)
    extra = 0.0
    if days:
        extra, text = int(days.group(1)) * 86400.0, text[days.end():]
        if not text:
            return extra
    seconds = go_duration(text, f"{where} =")
    if seconds < 0:
        raise ConfigError(f"{where} = {value!r}: must be >= 0")
    return extra + seconds


def _k6_count(value, where: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, float) and value.is_integer()):
        raise ConfigError(f"{where} = {value!r}: must be a whole number >= {low}")
    if value < low:
        raise ConfigError(f"{where} = {value!r}: must be a whole number >= {low}")
    return int(value)


def _k6_rate(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"{where} = {value!r}: must be a number >= 0")
    return float(value)


#: Keys every k6 scenario may have, and each executor's own (with k6's defaults).
_K6_COMMON = ("executor", "startTime", "gracefulStop", "exec", "env", "tags", "options")
_K6_EXECUTORS = {
    "constant-vus": ("vus", "duration"),
    "ramping-vus": ("startVUs", "stages", "gracefulRampDown"),
    "per-vu-iterations": ("vus", "iterations", "maxDuration"),
    "shared-iterations": ("vus", "iterations", "maxDuration"),
    "constant-arrival-rate": ("rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs"),
    "ramping-arrival-rate": ("startRate", "timeUnit", "stages", "preAllocatedVUs", "maxVUs"),
}
#: k6's default maxDuration of the iteration executors: 10 minutes.
_K6_MAX_DURATION = 600.0


def _k6_stages(stages, where: str, what: str) -> list[tuple[float, float]]:
    if not isinstance(stages, list) or not stages:
        raise ConfigError(f"{where}.stages = {stages!r}: must be a non-empty list of {{duration, target}}")
    out = []
    for k, st in enumerate(stages):
        w = f"{where}.stages[{k}]"
        if not isinstance(st, dict) or set(st) - {"duration", "target"} or "duration" not in st:
            raise ConfigError(f"{w} = {st!r}: must be {{duration, target}} (target: {what})")
        out.append((_k6_duration(st["duration"], f"{w}.duration"), st.get("target", 0)))
    return out


def _k6_scenario(name: str, sc: dict, where: str, service, seed, notes: list[str]):
    """One k6 scenario as pools or a trace."""
    if not isinstance(sc, dict):
        raise ConfigError(f"{where} = {sc!r}: must be an object with an executor")
    executor = sc.get("executor")
    if executor == "externally-controlled":
        raise ConfigError(f"{where}.executor = 'externally-controlled': its virtual users are changed at run time "
                          "through k6's REST API, which a replay has no part in; write the load as ramping-vus "
                          "stages")
    if executor not in _K6_EXECUTORS:
        raise ConfigError(f"{where}.executor = {executor!r}: must be one of {', '.join(_K6_EXECUTORS)} "
                          "(externally-controlled is not replayable)")
    allowed = _K6_COMMON + _K6_EXECUTORS[executor]
    unknown = [k for k in sc if k not in allowed]
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: not an option of the {executor} executor; it takes "
                          f"{', '.join(allowed)}")
    start = _k6_duration(sc.get("startTime", "0s"), f"{where}.startTime")
    for key in ("exec", "env", "tags", "options"):
        if key in sc:
            notes.append(f"{where}.{key}: does not change the load in the model (an iteration is one request): "
                         "ignored")
    for key in ("gracefulStop", "gracefulRampDown"):
        if key in sc:
            _k6_duration(sc[key], f"{where}.{key}")
            notes.append(f"{where}.{key}: not modelled; a request in flight when its virtual user stops is "
                         "answered and counted")
    svc = _service(service)
    if executor == "constant-vus":
        if "duration" not in sc:
            raise ConfigError(f"{where}: constant-vus needs a duration")
        vus = _k6_count(sc.get("vus", 1), f"{where}.vus", 1)
        return [_pool(where, clients=vus, service=svc, start=start, name=name,
                      duration=_k6_duration(sc["duration"], f"{where}.duration"))]
    if executor == "ramping-vus":
        stages = [(s, _k6_count(t, f"{where}.stages[{k}].target")) for k, (s, t)
                  in enumerate(_k6_stages(sc.get("stages"), where, "virtual users"))]
        return [_pool(where, clients=_k6_count(sc.get("startVUs", 1), f"{where}.startVUs"), service=svc,
                      stages=tuple(stages), start=start, name=name)]
    if executor in ("per-vu-iterations", "shared-iterations"):
        vus = _k6_count(sc.get("vus", 1), f"{where}.vus", 1)
        iterations = _k6_count(sc.get("iterations", 1), f"{where}.iterations", 1)
        limit = _k6_duration(sc.get("maxDuration", "10m"), f"{where}.maxDuration")
        if limit <= 0:
            raise ConfigError(f"{where}.maxDuration = {sc.get('maxDuration')!r}: must be > 0")
        kw = dict(service=svc, start=start, duration=limit)
        if executor == "per-vu-iterations":
            return [_pool(where, clients=vus, requests=iterations, name=name, **kw)]
        if iterations < vus:
            raise ConfigError(f"{where}: iterations = {iterations} can't be less than vus = {vus} (k6 refuses it)")
        each, extra = divmod(iterations, vus)
        if extra == 0:
            return [_pool(where, clients=vus, requests=each, name=name, **kw)]
        notes.append(f"{where}: the {iterations} shared iterations are split among the {vus} virtual users as "
                     f"evenly as they go: {extra} send {each + 1} (pool {name}), {vus - extra} send {each} "
                     f"(pool {name}.rest)")
        return [_pool(where, clients=extra, requests=each + 1, name=name, **kw),
                _pool(where, clients=vus - extra, requests=each, name=f"{name}.rest", **kw)]
    unit = _k6_duration(sc.get("timeUnit", "1s"), f"{where}.timeUnit")
    if unit <= 0:
        raise ConfigError(f"{where}.timeUnit = {sc.get('timeUnit')!r}: must be > 0")
    for key in ("preAllocatedVUs", "maxVUs"):
        if key in sc:
            _k6_count(sc[key], f"{where}.{key}")
    if "preAllocatedVUs" in sc or "maxVUs" in sc:
        notes.append(f"{where}: preAllocatedVUs and maxVUs are not modelled; the open loop starts every "
                     "iteration on time (k6 drops iterations when it runs out of virtual users)")
    try:
        if executor == "constant-arrival-rate":
            for key in ("rate", "duration"):
                if key not in sc:
                    raise ConfigError(f"{where}: constant-arrival-rate needs a {key}")
            rate = _k6_rate(sc["rate"], f"{where}.rate")
            if rate <= 0:
                raise ConfigError(f"{where}.rate = {sc['rate']!r}: must be > 0")
            seconds = _k6_duration(sc["duration"], f"{where}.duration")
            if seconds <= 0:
                raise ConfigError(f"{where}.duration = {sc['duration']!r}: must be > 0")
            trace = constant_arrival_rate(rate / unit, seconds, service=svc, start=start, seed=seed, name=name)
        else:
            stages = [(s, _k6_rate(t, f"{where}.stages[{k}].target") / unit)
                      for k, (s, t) in enumerate(_k6_stages(sc.get("stages"), where, "iterations per timeUnit"))]
            first = _k6_rate(sc.get("startRate", 0), f"{where}.startRate") / unit
            rates = [first, *(r for _, r in stages)]
            if not any(secs > 0 and (a > 0 or b > 0) for (secs, _), a, b in zip(stages, rates, rates[1:])):
                raise ConfigError(f"{where}: the arrival rate starts no iteration (every stage of it is at 0)")
            trace = ramping_arrival_rate(first, stages, service=svc, start=start, seed=seed, name=name)
    except ConfigError as exc:
        raise ConfigError(str(exc) if str(exc).startswith(where) else f"{where}: {exc}") from None
    return [trace]


#: k6's options read by :func:`k6_options`; any other top-level option is noted.
_K6_SHORTCUTS = ("vus", "duration", "stages", "iterations")


def k6_options(options: dict, where: str = "k6 options", service=None, seed=0) -> Load:
    """k6's options (a mapping as ``export const options`` or a JSON config holds it) as pools and traces.

    ``scenarios`` maps each scenario's name to its executor and settings; without it,
    k6's shortcuts make one scenario named ``default``: ``iterations`` (with ``vus`` and
    an optional ``duration`` as its maxDuration) is shared-iterations, ``duration`` is
    constant-vus, ``stages`` is ramping-vus from ``vus``, and nothing at all is one
    iteration of one virtual user. Each iteration is one request.

    >>> [p.describe() for p in k6_options({"vus": 5, "duration": "1m"}, service=0.2).pools]  # doctest: +ELLIPSIS
    ['default: 5 closed-loop clients, for 60 s, think none, service constant 0.2 s, ...']
    """
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: must be an object of k6 options")
    notes: list[str] = []
    given = [k for k in _K6_SHORTCUTS if k in options]
    other = [k for k in options if k not in (*_K6_SHORTCUTS, "scenarios")]
    if other:
        notes.append(f"{where}: {', '.join(other)} {'does' if len(other) == 1 else 'do'} not change the load in the "
                     "model: ignored")
    if "scenarios" in options:
        if given:
            raise ConfigError(f"{where}: scenarios and the shortcut{'s' if len(given) > 1 else ''} "
                              f"{', '.join(given)} together; k6 takes one or the other")
        scenarios = options["scenarios"]
        if not isinstance(scenarios, dict) or not scenarios:
            raise ConfigError(f"{where}: scenarios = {scenarios!r}: must be an object of named scenarios")
    else:
        scenarios = {"default": _k6_shortcut(options, where)}
    pools, traces = [], []
    for name, sc in scenarios.items():
        label = f"{where}: scenarios.{name}" if "scenarios" in options else f"{where}: options"
        for item in _k6_scenario(name, sc, label, service, seed, notes):
            (traces if isinstance(item, Trace) else pools).append(item)
    return Load(source=where, pools=tuple(pools), traces=tuple(traces), notes=tuple(notes))


def _k6_shortcut(options: dict, where: str) -> dict:
    """The scenario k6 derives from the top-level shortcuts."""
    has = {k: k in options for k in _K6_SHORTCUTS}
    vus = options.get("vus", 1)
    if has["stages"] and (has["duration"] or has["iterations"]):
        other = "duration" if has["duration"] else "iterations"
        raise ConfigError(f"{where}: stages and {other} together; k6 takes one execution shortcut")
    if has["iterations"]:
        sc = {"executor": "shared-iterations", "vus": vus, "iterations": options["iterations"]}
        if has["duration"]:
            sc["maxDuration"] = options["duration"]
        return sc
    if has["duration"]:
        return {"executor": "constant-vus", "vus": vus, "duration": options["duration"]}
    if has["stages"]:
        return {"executor": "ramping-vus", "startVUs": vus, "stages": options["stages"]}
    return {"executor": "shared-iterations", "vus": vus, "iterations": 1}


def k6(path, service=None, seed=0) -> Load:
    """A k6 script (``export const options = {...}``) or a JSON options file, read with :func:`k6_options`.

    >>> load = k6("examples/k6-scenarios.js", service=0.1)
    >>> [p.name for p in load.pools], [t.name for t in load.traces]
    (['warm', 'ramp', 'batch'], ['spike'])
    """
    load = k6_options(_k6_file(path), str(path), service=service, seed=seed)
    return dataclasses.replace(load, source=str(path))


#: ``k6 run``'s flags: long name -> (short letter or "", takes a value). The first four are k6's execution
#: shortcuts; ``config`` is a JSON options file under the script's options; the rest do not change the load.
_K6_RUN_FLAGS = {
    "vus": ("u", True), "duration": ("d", True), "iterations": ("i", True), "stage": ("s", True),
    "config": ("c", True), "env": ("e", True), "out": ("o", True), "quiet": ("q", False), "tag": ("", True),
    "summary-export": ("", True), "no-thresholds": ("", False), "no-summary": ("", False),
    "http-debug": ("", False), "insecure-skip-tls-verify": ("", False), "include-system-env-vars": ("", False),
    "throw": ("w", False), "verbose": ("v", False), "log-output": ("", True), "no-color": ("", False),
}


def k6_run(argv, service=None, seed=0) -> Load:
    """``k6 run [flags] FILE``: the script's options, with k6 run's execution shortcuts on top.

    ``-u``/``--vus``, ``-d``/``--duration``, ``-i``/``--iterations`` and ``-s``/``--stage``
    (``30s:10``, repeatable or comma-separated) take precedence over the script's options,
    as in k6; ``--duration``, ``--iterations`` or ``--stage`` replace all of the script's
    execution options (its duration, iterations, stages and scenarios) by the ``default``
    scenario they make. ``-c``/``--config`` is a JSON options file under the script's
    options, by the same rule. Flags of k6's output, environment and logging are noted.

    >>> load = k6_run(["run", "-u", "4", "-d", "1m", "examples/k6-scenarios.js"], service=0.1)
    >>> [p.describe()[:40] for p in load.pools]
    ['default: 4 closed-loop clients, for 60 s']
    """
    argv = _argv(argv, "k6")
    if argv[:1] != ["run"]:
        raise ConfigError(f"k6 {' '.join(argv[:1])}: only 'k6 run FILE' sends load")
    given: dict = {}
    files: list[str] = []
    short = {s: name for name, (s, _) in _K6_RUN_FLAGS.items() if s}
    words = argv[1:]
    i = 0
    while i < len(words):
        w = words[i]
        if w == "--":
            files.extend(words[i + 1:])
            break
        if not w.startswith("-") or w == "-":
            files.append(w)
            i += 1
            continue
        if w.startswith("--"):
            name, eq, value = w[2:].partition("=")
        else:
            name, value = short.get(w[1:2], w[1:2]), w[2:]
            eq = "=" if value else ""
            value = value[1:] if value.startswith("=") else value
        if name not in _K6_RUN_FLAGS:
            raise ConfigError(f"k6 run: unknown flag {w}; k6 run's flags read here are "
                              + ", ".join(("-" + s + "/" if s else "") + "--" + n for n, (s, _) in
                                          _K6_RUN_FLAGS.items()))
        if _K6_RUN_FLAGS[name][1] and not eq:
            if i + 1 >= len(words):
                raise ConfigError(f"k6 run: flag needs an argument: --{name}")
            i += 1
            value = words[i]
        given.setdefault(name, []).append(value if _K6_RUN_FLAGS[name][1] else True)
        i += 1
    if len(files) != 1:
        raise ConfigError(f"k6 run: give one script, not {len(files)} ({' '.join(files) or 'none'})")
    for name in ("vus", "duration", "iterations", "config"):
        if len(given.get(name, ())) > 1:
            raise ConfigError(f"k6 run: --{name} is given twice; give it once")
    notes = [f"k6 run --{n}: does not change the load in the model: ignored" for n in given
             if n not in ("vus", "duration", "iterations", "stage", "config")]
    options = _k6_tier(_k6_file(given["config"][0]) if "config" in given else {}, _k6_file(files[0]))
    cli: dict = {}
    for name, convert in (("vus", int), ("iterations", int)):
        if name in given:
            try:
                cli[name] = convert(given[name][0])
            except ValueError:
                raise ConfigError(f"k6 run --{name} {given[name][0]}: must be a whole number") from None
    if "duration" in given:
        cli["duration"] = given["duration"][0]
    if "stage" in given:
        cli["stages"] = []
        for text in ",".join(given["stage"]).split(","):
            dur, sep, target = text.partition(":")
            try:
                cli["stages"].append({"duration": dur.strip(), "target": int(target)})
            except ValueError:
                raise ConfigError(f"k6 run --stage {text}: must be DURATION:TARGET such as 30s:10") from None
    if cli:
        replaces = any(k in cli for k in ("duration", "iterations", "stages"))
        if "scenarios" in options and not replaces:
            raise ConfigError("k6 run --vus with a script of scenarios: give --duration, --iterations or --stage "
                              "too, to replace the scenarios by k6's default scenario")
        if replaces and "scenarios" in options:
            flags = " ".join(f"--{k}" for k in given if k in ("vus", "duration", "iterations", "stage"))
            notes.append(f"k6 run {flags}: replace the script's scenarios, as in k6")
        options = _k6_tier(options, cli)
    load = k6_options(options, files[0], service=service, seed=seed)
    return dataclasses.replace(load, source=" ".join(["k6", *argv]), notes=tuple(notes) + load.notes)


def _k6_tier(lower: dict, higher: dict) -> dict:
    """k6's options of two tiers (config file < script < command line): each option from the higher tier if it
    sets it; and duration, iterations, stages or scenarios set there replace all four of the lower tier, as k6's
    ``Options.Apply`` does."""
    execution = ("duration", "iterations", "stages", "scenarios")
    if any(k in higher for k in execution):
        lower = {k: v for k, v in lower.items() if k not in execution}
    return {**lower, **higher}


def _k6_file(path) -> dict:
    """The options of a k6 script or JSON options file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"k6 options {path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"k6 options {path}: not a text file") from None
    if p.suffix.lower() == ".json":
        try:
            options = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
        if not isinstance(options, dict):
            raise ConfigError(f"{path}: must hold a JSON object of k6 options")
        return options
    return read_js_object(text, str(path))


# -- any of them --------------------------------------------------------------------------------


def _argv(argv, *tools: str) -> list[str]:
    """A command line as words (a string is split as a shell would), without the tool's own name."""
    if isinstance(argv, str):
        lexer = shlex.shlex(argv, posix=True, punctuation_chars="|")
        lexer.whitespace_split = True
        try:
            words = list(lexer)
        except ValueError as exc:
            raise ConfigError(f"{argv!r}: {exc} (a quote is not closed)") from None
    else:
        words = [str(w) for w in argv]
    if words and os.path.basename(words[0]) in tools:
        words = words[1:]
    return words


def parse(command, service=None, seed=0, name: str | None = None) -> Load:
    """A load generator's command line (``hey ...``, ``wrk ...``, ``wrk2 ...``, ``vegeta attack ...``,
    ``k6 run [flags] FILE``) or a k6 options file (a ``.js`` or ``.json`` path), read into a :class:`Load`.

    Parameters
    ----------
    command : str or sequence of str
        The command line (a string is split as a shell would), or the path of a k6 file.
    service : DurationDistribution, float or Trace, optional
        The service time of every request (default
        :data:`~autoscale.trace.durations.DEFAULT_SERVICE`).
    seed : int
        Seed of the open-loop requests' service times.
    name : str, optional
        The pool's name (default: the tool's name, or each k6 scenario's).

    Raises
    ------
    ConfigError
        For an unknown tool or flag (naming the flags the tool has), a value the tool
        would refuse, or a flag whose effect the model cannot follow.
    """
    words = _argv(command)
    if not words:
        raise ConfigError(f"load {command!r}: empty; give a command line ({', '.join(TOOLS)}) or a k6 file")
    tool = os.path.basename(words[0])
    if len(words) == 1 and (Path(words[0]).suffix.lower() in (".js", ".json") or Path(words[0]).is_file()):
        return k6(words[0], service=service, seed=seed)
    if tool == "hey":
        return hey(words[1:], service=service, **({"name": name} if name else {}))
    if tool in ("wrk", "wrk2"):
        return wrk(words, service=service, name=name)
    if tool == "vegeta" or (tool == "echo" and "vegeta" in words):
        return vegeta(words, service=service, seed=seed, **({"name": name} if name else {}))
    if tool == "k6":
        return k6_run(words[1:], service=service, seed=seed)
    raise ConfigError(f"load {' '.join(words)!r}: unknown load generator {tool!r}; give a command line of "
                      f"{', '.join(TOOLS)}, or a k6 script or JSON options file")


def workload(*loads: Load, trace: Trace | None = None):
    """The loads as one workload: a :class:`~autoscale.workload.ClosedLoop` of every pool (beside the open-loop
    requests, merged with ``trace`` if given), or, without pools, the open-loop requests as one trace.

    Pools with the same name get ``-2``, ``-3``, ... in the order given (``hey``, ``hey-2``).

    >>> w = workload(parse("hey -c 2 -z 5s", service=0.1), parse("hey -c 3 -z 5s", service=0.1))
    >>> [p.name for p in w.pools]
    ['hey', 'hey-2']
    """
    if not loads:
        raise ConfigError("workload: give at least one load")
    pools, traces = [], [] if trace is None else [trace]
    taken: set[str] = set()
    for load in loads:
        if not isinstance(load, Load):
            raise TypeError(f"workload: expected Load values, got {type(load).__name__}")
        for pool in load.pools:
            label, k = pool.name, 2
            while label in taken:
                label, k = f"{pool.name}-{k}", k + 1
            taken.add(label)
            pools.append(pool if label == pool.name else dataclasses.replace(pool, name=label))
        traces.extend(load.traces)
    merged = None
    if traces:
        merged = traces[0] if len(traces) == 1 else Trace.merge(traces, name="+".join(t.name for t in traces))
    if not pools:
        return merged
    return ClosedLoop(*pools, trace=merged, name="+".join([p.name for p in pools] + [t.name for t in traces]))
