"""Load generators' command lines and k6 files: every flag, executor and refusal, and the workloads they replay."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoscale import KPAConfig, compare, replay
from autoscale.cli import main
from autoscale.errors import ConfigError
from autoscale.loadgen import Load, go_duration, hey, k6, k6_options, parse, read_js_object, vegeta, workload, wrk
from autoscale.trace import Trace
from autoscale.trace import durations as d
from autoscale.workload import Clients, ClosedLoop

SETTINGS = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only(load: Load) -> Clients:
    assert len(load.pools) == 1 and not load.traces
    return load.pools[0]


# -- hey ----------------------------------------------------------------------------------------


def test_hey_duration_rate_and_clients():
    p = _only(hey("hey -c 20 -q 1 -z 600s http://hello.default.example.com", service=0.1))
    assert (p.clients, p.duration, p.rate, p.requests, p.name) == (20, 600.0, 1.0, None, "hey")


def test_hey_defaults_are_200_requests_over_50_clients():
    p = _only(hey([], service=0.1))
    assert (p.clients, p.requests, p.duration, p.rate) == (50, 4, None, None)


def test_hey_divides_n_among_the_clients_as_hey_does():
    load = hey("hey -n 205 -c 20 http://x", service=0.1)
    assert _only(load).requests == 10
    assert any("each client sends 10 requests (200 in all)" in n for n in load.notes)


def test_hey_ignores_n_with_z_and_says_so():
    load = hey("hey -n 1000 -c 5 -z 1m http://x", service=0.1)
    p = _only(load)
    assert p.duration == 60.0 and p.requests is None
    assert any("-n 1000: ignored, as hey ignores it with -z" in n for n in load.notes)


@pytest.mark.parametrize("argv", [["-c", "3", "-z", "90s"], ["-c=3", "-z=90s"], ["--c", "3", "--z=1m30s"]])
def test_hey_reads_flags_the_way_go_does(argv):
    p = _only(hey(argv, service=0.1))
    assert (p.clients, p.duration) == (3, 90.0)


def test_hey_notes_request_flags_the_timeout_and_the_url():
    load = hey(["-c", "2", "-z", "5s", "-t", "5", "-m", "POST", "-H", "a: b", "-H", "c: d", "-d", "{}",
                "-D", "body.json", "-A", "*/*", "-T", "application/json", "-a", "u:p", "-x", "proxy:1",
                "-host", "h", "-U", "agent", "-h2", "-cpus", "2", "-disable-compression", "-disable-keepalive",
                "-disable-redirects", "http://x"], service=0.1)
    text = "\n".join(load.notes)
    assert "hey -t 5: client-side timeouts are not modelled" in text
    for flag in ("-m", "-H", "-d", "-D", "-A", "-T", "-a", "-x", "-host", "-U", "-h2", "-cpus",
                 "-disable-compression", "-disable-keepalive", "-disable-redirects"):
        assert f"{flag}," in text or f"{flag} do" in text, flag
    assert "URL http://x: the simulated revision answers every request" in text


def test_hey_bool_flags_take_go_bools():
    load = hey(["-z", "1s", "-h2=false", "http://x"], service=0.1)
    assert any("-h2" in n for n in load.notes)
    with pytest.raises(ConfigError, match="must be a bool"):
        hey(["-z", "1s", "-h2=maybe"], service=0.1)


@pytest.mark.parametrize("command, message", [
    ("hey -foo 1 http://x", "flag provided but not defined: -foo; hey's flags are -A, -a, -c"),
    ("hey -n 10 -c 20 http://x", "-n cannot be less than -c"),
    ("hey -c 0 http://x", "hey -c 0: must be a whole number >= 1"),
    ("hey -n 0 http://x", "hey -n 0: must be a whole number >= 1"),
    ("hey -c two http://x", "hey -c two: must be a whole number >= 1"),
    ("hey -q -1 -z 5s http://x", "hey -q -1: must be a rate >= 0"),
    ("hey -q fast -z 5s http://x", "hey -q fast: must be a number"),
    ("hey -z 600 http://x", "Go durations need a unit: 600s"),
    ("hey -z 10 parsecs http://x", "hey -z 10: not a Go duration"),
    ("hey -z -5s http://x", "hey -z -5s: must be a duration >= 0"),
    ("hey -t soon -z 5s http://x", "hey -t soon: must be a whole number >= 0"),
    ("hey -o csv -z 5s http://x", "hey -o csv: hey's output format does not apply"),
    ("hey -z 5s http://x -c 3", "'-c 3' after the URL: hey reads flags only before the URL"),
    ("hey -c 2 -c 3 -z 5s", "hey: -c is given twice (2 and 3)"),
    ("hey -z", "flag needs an argument: -z"),
], ids=lambda v: v if " " not in v else None)
def test_hey_refuses_with_the_flag_and_the_reason(command, message):
    with pytest.raises(ConfigError, match=_re(message)):
        parse(command, service=0.1)


# -- wrk ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    "wrk -t4 -c100 -d30s http://x", "wrk -t 4 -c 100 -d 30 http://x", "wrk --threads=4 --connections 100 "
    "--duration=30s http://x", "wrk http://x --conn 100 -d 30s -t4", "wrk -- http://x"])
def test_wrk_options_as_getopt_reads_them(command):
    p = _only(wrk(command, service=0.1))
    if command.endswith("-- http://x"):
        assert (p.clients, p.duration) == (10, 10.0)  # wrk's defaults
    else:
        assert (p.clients, p.duration, p.rate, p.name) == (100, 30.0, None, "wrk")


def test_wrk_reads_its_units():
    p = _only(wrk("wrk -c 1k -t 2 -d 2m http://x", service=0.1))
    assert (p.clients, p.duration) == (1000, 120.0)
    assert _only(wrk("wrk -c 10 -d 1h http://x", service=0.1)).duration == 3600.0


def test_wrk2_rate_is_a_per_connection_limit():
    load = wrk("wrk2 -t2 -c100 -d30s -R2000 http://x", service=0.1)
    p = _only(load)
    assert (p.clients, p.rate, p.name) == (100, 20.0, "wrk2")
    assert any("each of the 100 connections sends at most 20 req/s" in n for n in load.notes)
    assert _only(wrk("wrk -c 10 -d 10s --rate 1k http://x", service=0.1)).rate == 100.0


def test_wrk_notes_threads_headers_latency_and_timeout():
    load = wrk(["wrk", "-t", "2", "-c", "4", "-d", "5s", "-H", "Host: a", "--latency", "-U", "-B", "--timeout", "2s",
                "http://x", "extra"], service=0.1)
    text = "\n".join(load.notes)
    assert "wrk -t 2: threads spread the connections" in text
    assert "--header, --latency, --u_latency, --batch_latency do not change the load" in text
    assert "wrk --timeout 2s: client-side timeouts are not modelled" in text
    assert "'extra': arguments after the URL go to a script; ignored" in text


@pytest.mark.parametrize("command, message", [
    ("wrk -s post.lua http://x", "wrk -s post.lua: a Lua script can change every request"),
    ("wrk --bogus http://x", "unrecognized option --bogus; wrk's options are -c/--connections"),
    ("wrk -q http://x", "invalid option -q"),
    ("wrk --t http://x", "ambiguous option --t"),
    ("wrk -c 2 -t 4 http://x", "number of connections must be >= threads"),
    ("wrk -d 1.5s http://x", "wrk -d 1.5s: must be a whole number of seconds"),
    ("wrk -c ten http://x", "wrk -c ten: must be a whole number"),
    ("wrk -t 0 http://x", "-t and -d must be at least 1"),
    ("wrk -c 10", "no URL given"),
    ("wrk2 -c 10 -d 5s http://x", "wrk2: throughput must be specified with the --rate or -R option"),
    ("wrk -R 0 http://x", "wrk -R 0: must be at least 1 request per second"),
    ("wrk --timeout 1.5 http://x", "wrk --timeout 1.5"),
    ("wrk -Lc10 http://x", "-L takes no value"),
    ("wrk --latency=yes http://x", "option --latency takes no value"),
    ("wrk -c 10 -c 20 http://x", "--connections is given twice"),
    ("wrk -c", "option --connections (-c) requires an argument"),
    ("wrk --version", "wrk --version: prints wrk's version and sends no load"),
], ids=lambda v: v if " " not in v else None)
def test_wrk_refuses_with_the_option_and_the_reason(command, message):
    with pytest.raises(ConfigError, match=_re(message)):
        parse(command, service=0.1)


# -- vegeta -------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate, per_second", [("50", 50.0), ("50/s", 50.0), ("50/1s", 50.0), ("3000/m", 50.0),
                                              ("1/20ms", 50.0), ("100/2s", 50.0), ("180000/1h", 50.0)])
def test_vegeta_rates_in_every_form(rate, per_second):
    t = vegeta(f"vegeta attack -rate {rate} -duration 4s", service=0.1).traces[0]
    assert len(t) == round(per_second * 4)
    assert np.allclose(np.diff(t.arrivals), 1 / per_second)


def test_vegeta_default_rate_is_50_per_second():
    assert len(vegeta("vegeta attack -duration 2s", service=0.1).traces[0]) == 100


def test_vegeta_rate_zero_is_max_workers_closed_loop_clients():
    load = vegeta("vegeta attack -rate 0 -max-workers 8 -workers 2 -duration 30s", service=0.1)
    p = _only(load)
    assert (p.clients, p.duration, p.name) == (8, 30.0, "vegeta")
    assert any("-workers 2: vegeta adds workers up to -max-workers" in n for n in load.notes)
    assert _only(vegeta("vegeta attack -rate infinity -max-workers 3 -duration 1s", service=0.1)).clients == 3


def test_vegeta_pipeline_reads_the_attack_and_notes_the_rest():
    load = parse('echo "GET http://x" | vegeta attack -rate=10/s -duration=5s -workers 4 -max-workers 20 '
                 '-timeout 10s -header "A: b" -keepalive=false | vegeta report', service=0.1)
    assert len(load.traces[0]) == 50 and not load.pools
    text = "\n".join(load.notes)
    assert "'echo GET http://x', 'vegeta report' in the pipeline" in text
    assert "-workers 4: the open loop holds the rate" in text
    assert "-max-workers 20: the open loop holds the rate with as many workers as it needs (a -max-workers" in text
    assert "-timeout 10s: client-side timeouts are not modelled" in text
    assert "-header, -keepalive do not change the load" in text


@pytest.mark.parametrize("command, message", [
    ("vegeta attack -rate 50/s", "give -duration"),
    ("vegeta attack -rate 50/s -duration 0s", "-duration 0s: must be > 0"),
    ("vegeta attack -rate 50/s -duration 60", "Go durations need a unit: 60s"),
    ("vegeta attack -rate 0 -duration 5s", "-rate 0: give -max-workers"),
    ("vegeta attack -rate fifty -duration 5s", "-rate fifty: must be FREQ/PER"),
    ("vegeta attack -rate -5 -duration 5s", "-rate -5: must be >= 0"),
    ("vegeta attack -rate 5/0s -duration 5s", "PER must be a duration > 0"),
    ("vegeta attack -rate 5/x -duration 5s", "not a Go duration"),
    ("vegeta attack -turbo -duration 5s", "flag provided but not defined: -turbo"),
    ("vegeta attack -duration 5s http://x", "takes its targets on standard input"),
    ("vegeta report", "only 'vegeta attack' sends load"),
    ("vegeta attack -max-workers 0 -duration 5s", "-max-workers 0: must be a whole number >= 1"),
    ("echo x | vegeta report", "exactly one 'vegeta attack'"),
], ids=lambda v: v if " " not in v else None)
def test_vegeta_refuses_with_the_flag_and_the_reason(command, message):
    with pytest.raises(ConfigError, match=_re(message)):
        parse(command, service=0.1)


# -- k6 -----------------------------------------------------------------------------------------


def test_the_example_k6_file_reads_into_its_four_scenarios():
    load = parse("examples/k6-scenarios.js", service=0.1)
    warm, ramp, batch = load.pools
    assert (warm.name, warm.clients, warm.duration) == ("warm", 10, 300.0)
    assert (ramp.name, ramp.clients, ramp.start, ramp.stages) == ("ramp", 0, 30.0,
                                                                  ((60.0, 40), (120.0, 40), (30.0, 0)))
    assert (batch.name, batch.clients, batch.requests, batch.start, batch.duration) == ("batch", 5, 20, 240.0, 60.0)
    (spike,) = load.traces
    assert spike.name == "spike" and len(spike) == 300 and spike.arrivals[0] == 120.0
    assert np.allclose(np.diff(spike.arrivals), 0.1)
    text = "\n".join(load.notes)
    for fragment in ("thresholds does not change the load", "scenarios.ramp.gracefulRampDown: not modelled",
                     "scenarios.spike: preAllocatedVUs and maxVUs are not modelled",
                     "scenarios.batch.exec: does not change the load"):
        assert fragment in text
    again = parse("k6 run examples/k6-scenarios.js", service=0.1)
    assert [p.describe() for p in again.pools] == [p.describe() for p in load.pools]
    assert np.array_equal(again.traces[0].arrivals, spike.arrivals) and again.notes == load.notes


def test_k6_run_flags_take_precedence_over_the_script_as_in_k6(tmp_path):
    load = parse("k6 run -u 4 -d 1m --out json=r.json -e HOST=x examples/k6-scenarios.js", service=0.1)
    p = _only(load)
    assert (p.name, p.clients, p.duration) == ("default", 4, 60.0)
    text = "\n".join(load.notes)
    assert "k6 run --vus --duration: replace the script's scenarios, as in k6" in text
    assert "k6 run --out: does not change the load" in text and "k6 run --env: does not change" in text
    p = _only(parse("k6 run --vus=3 --stage 10s:5,20s:0 examples/k6-scenarios.js", service=0.1))
    assert (p.clients, p.stages) == (3, ((10.0, 5), (20.0, 0)))
    p = _only(parse("k6 run -s 10s:5 -s 5s:1 examples/k6-scenarios.js", service=0.1))
    assert p.stages == ((10.0, 5), (5.0, 1))
    script = tmp_path / "s.js"
    script.write_text("export const options = { duration: '2m' };")
    config = tmp_path / "c.json"
    config.write_text('{"vus": 7, "duration": "10s"}')
    p = _only(parse(f"k6 run --config {config} {script}", service=0.1))
    assert (p.clients, p.duration) == (7, 120.0)  # the script's options over the config file's
    # A shortcut on the command line replaces every execution option of the script (k6's Options.Apply):
    # the script's duration is not the iterations' maxDuration, which keeps its default of 10 minutes.
    p = _only(parse(f"k6 run -i 9 -u 3 {script}", service=0.1))
    assert (p.clients, p.requests, p.duration) == (3, 3, 600.0)
    config.write_text('{"vus": 2, "scenarios": {"a": {"executor": "constant-vus", "duration": "5s"}}}')
    p = _only(parse(f"k6 run -c {config} {script}", service=0.1))  # the script's duration replaces them
    assert (p.name, p.clients, p.duration) == ("default", 2, 120.0)


@pytest.mark.parametrize("command, message", [
    ("k6 run -u 3 examples/k6-scenarios.js", "k6 run --vus with a script of scenarios: give --duration"),
    ("k6 run -x examples/k6-scenarios.js", "k6 run: unknown flag -x; k6 run's flags read here are -u/--vus"),
    ("k6 run", "give one script, not 0 (none)"),
    ("k6 run a.js b.js", "give one script, not 2 (a.js b.js)"),
    ("k6 cloud x.js", "k6 cloud: only 'k6 run FILE' sends load"),
    ("k6 run --stage 10s examples/k6-scenarios.js", "--stage 10s: must be DURATION:TARGET"),
    ("k6 run -u many -d 1m examples/k6-scenarios.js", "--vus many: must be a whole number"),
    ("k6 run -d 1m -d 2m examples/k6-scenarios.js", "--duration is given twice"),
    ("k6 run examples/k6-scenarios.js -d", "flag needs an argument: --duration"),
    ("k6 run missing.js", "k6 options missing.js: cannot read it"),
], ids=lambda v: None)
def test_k6_run_refuses_with_the_flag_and_the_reason(command, message):
    with pytest.raises(ConfigError, match=_re(message)):
        parse(command, service=0.1)


def _scenario(**sc) -> Load:
    return k6_options({"scenarios": {"s": sc}}, service=0.1)


def test_every_executor_with_its_defaults():
    p = _only(_scenario(executor="constant-vus", duration="1m"))
    assert (p.clients, p.duration) == (1, 60.0)
    p = _only(_scenario(executor="ramping-vus", stages=[{"duration": "10s", "target": 5}]))
    assert (p.clients, p.stages) == (1, ((10.0, 5),))  # startVUs defaults to 1
    p = _only(_scenario(executor="per-vu-iterations"))
    assert (p.clients, p.requests, p.duration) == (1, 1, 600.0)  # one iteration, maxDuration 10m
    p = _only(_scenario(executor="shared-iterations", vus=4, iterations=12, maxDuration="30s"))
    assert (p.clients, p.requests, p.duration) == (4, 3, 30.0)
    t = _scenario(executor="constant-arrival-rate", rate=30, duration="10s").traces[0]
    assert len(t) == 300  # timeUnit 1s
    t = _scenario(executor="ramping-arrival-rate", stages=[{"duration": "10s", "target": 10}]).traces[0]
    assert len(t) == 50  # from startRate 0 to 10/s over 10 s
    t = _scenario(executor="ramping-arrival-rate", startRate=60, timeUnit="1m", startTime="5s",
                  stages=[{"duration": "20s", "target": 60}]).traces[0]
    assert len(t) == 20 and t.arrivals[0] == 5.0


def test_shared_iterations_split_among_users_as_evenly_as_they_go():
    load = _scenario(executor="shared-iterations", vus=3, iterations=10)
    a, b = load.pools
    assert (a.name, a.clients, a.requests) == ("s", 1, 4)
    assert (b.name, b.clients, b.requests) == ("s.rest", 2, 3)
    assert any("split among the 3 virtual users" in n for n in load.notes)


@pytest.mark.parametrize("options, scenario", [
    ({"vus": 10, "duration": "30s"}, dict(executor="constant-vus", vus=10, duration="30s")),
    ({"vus": 2, "stages": [{"duration": "1m", "target": 8}]},
     dict(executor="ramping-vus", startVUs=2, stages=[{"duration": "1m", "target": 8}])),
    ({"vus": 5, "iterations": 50}, dict(executor="shared-iterations", vus=5, iterations=50)),
    ({"vus": 5, "iterations": 50, "duration": "20s"},
     dict(executor="shared-iterations", vus=5, iterations=50, maxDuration="20s")),
    ({}, dict(executor="shared-iterations", vus=1, iterations=1)),
], ids=["duration", "stages", "iterations", "iterations-duration", "nothing"])
def test_top_level_shortcuts_are_k6s_default_scenario(options, scenario):
    got = k6_options(options, service=0.1)
    want = k6_options({"scenarios": {"default": scenario}}, service=0.1)
    assert [p.describe() for p in got.pools] == [p.describe() for p in want.pools]
    assert got.pools[0].name == "default"


def test_k6_durations_as_numbers_are_milliseconds_and_days_read():
    assert _only(_scenario(executor="constant-vus", duration=90000)).duration == 90.0
    assert _only(_scenario(executor="constant-vus", duration="1d2h")).duration == 93600.0


@pytest.mark.parametrize("options, message", [
    ({"scenarios": {"s": {"executor": "externally-controlled", "vus": 1}}},
     "scenarios.s.executor = 'externally-controlled': its virtual users are changed at run time"),
    ({"scenarios": {"s": {"executor": "warp"}}}, "executor = 'warp': must be one of constant-vus"),
    ({"scenarios": {"s": {"executor": "constant-vus", "duration": "1m", "rate": 3}}},
     "scenarios.s.rate: not an option of the constant-vus executor; it takes executor, startTime"),
    ({"scenarios": {"s": {"executor": "constant-vus"}}}, "constant-vus needs a duration"),
    ({"scenarios": {"s": {"executor": "constant-vus", "vus": 0, "duration": "1m"}}}, "vus = 0: must be a whole"),
    ({"scenarios": {"s": {"executor": "constant-vus", "vus": 2.5, "duration": "1m"}}}, "vus = 2.5"),
    ({"scenarios": {"s": {"executor": "constant-vus", "duration": "1 minute"}}}, "not a Go duration"),
    ({"scenarios": {"s": {"executor": "constant-vus", "duration": "60"}}}, "Go durations need a unit"),
    ({"scenarios": {"s": {"executor": "ramping-vus"}}}, "stages = None: must be a non-empty list"),
    ({"scenarios": {"s": {"executor": "ramping-vus", "stages": [{"target": 3}]}}},
     "stages[0] = {'target': 3}: must be {duration, target}"),
    ({"scenarios": {"s": {"executor": "ramping-vus", "stages": [{"duration": "1m", "target": -1}]}}},
     "stages[0].target = -1"),
    ({"scenarios": {"s": {"executor": "shared-iterations", "vus": 5, "iterations": 2}}},
     "iterations = 2 can't be less than vus = 5"),
    ({"scenarios": {"s": {"executor": "per-vu-iterations", "maxDuration": "0s"}}}, "maxDuration = '0s': must be > 0"),
    ({"scenarios": {"s": {"executor": "constant-arrival-rate", "duration": "1m"}}},
     "constant-arrival-rate needs a rate"),
    ({"scenarios": {"s": {"executor": "constant-arrival-rate", "rate": 0, "duration": "1m"}}}, "rate = 0: must be > 0"),
    ({"scenarios": {"s": {"executor": "constant-arrival-rate", "rate": 5, "duration": "1m", "timeUnit": "0s"}}},
     "timeUnit = '0s': must be > 0"),
    ({"scenarios": {"s": {"executor": "ramping-arrival-rate", "stages": [{"duration": "1m", "target": 0}]}}},
     "the arrival rate starts no iteration"),
    ({"scenarios": {"s": {"executor": "constant-arrival-rate", "rate": 5, "duration": "0s"}}},
     "duration = '0s': must be > 0"),
    ({"scenarios": {"s": {"executor": "ramping-arrival-rate", "startRate": -1,
                          "stages": [{"duration": "1m", "target": 1}]}}}, "startRate = -1: must be a number >= 0"),
    ({"scenarios": {"s": "constant-vus"}}, "must be an object with an executor"),
    ({"scenarios": {}}, "scenarios = {}: must be an object of named scenarios"),
    ({"scenarios": {"s": {"executor": "constant-vus", "duration": "1m"}}, "vus": 3},
     "scenarios and the shortcut vus together"),
    ({"stages": [{"duration": "1m", "target": 1}], "duration": "1m"}, "stages and duration together"),
    ({"stages": [{"duration": "1m", "target": 1}], "iterations": 3}, "stages and iterations together"),
    ({"scenarios": {"s": {"executor": "constant-vus", "duration": "1m", "startTime": True}}},
     "startTime = True: must be a duration"),
    ({"scenarios": {"s": {"executor": "constant-vus", "duration": -5}}}, "duration = -5: must be >= 0 milliseconds"),
], ids=lambda v: None)
def test_k6_options_refused_with_the_scenario_the_key_and_the_reason(options, message):
    with pytest.raises(ConfigError, match=_re(message)):
        k6_options(options, service=0.1)


def test_k6_files_js_and_json(tmp_path):
    js = tmp_path / "test.js"
    js.write_text("import http from 'k6/http';\n"
                  "export let options = {\n"
                  "  vus: 3, // users\n"
                  "  /* a comment */ duration: `45s`,\n"
                  "  thresholds: { 'http_req_failed': [\"rate<0.01\"], },\n"
                  "};\n"
                  "export default function () { http.get('http://x'); }\n")
    p = _only(k6(js, service=0.1))
    assert (p.clients, p.duration, p.name) == (3, 45.0, "default")
    js_json = tmp_path / "options.json"
    js_json.write_text(json.dumps({"scenarios": {"api": {"executor": "constant-vus", "vus": 2, "duration": "5s"}}}))
    assert _only(parse(str(js_json), service=0.1)).name == "api"
    bad = tmp_path / "bad.json"
    bad.write_text('{"vus": 2,\n "duration": }')
    with pytest.raises(ConfigError, match=_re("bad.json:2:14: not valid JSON")):
        k6(bad, service=0.1)
    with pytest.raises(ConfigError, match="cannot read it"):
        k6(tmp_path / "missing.js", service=0.1)


@pytest.mark.parametrize("text, message", [
    ("export const options = { vus: __ENV.VUS || 10 };", "1:31: '__ENV': autoscale reads k6 options of literal"),
    ("export const options = {\n  duration: `${d}s`,\n};", "2:14: a template string with ${...}"),
    ("export const options = {\n  vus: 'ten,\n};", "2:8: a string is not closed"),
    ("export const options = { ...base, vus: 1 };", "1:26: a spread (...)"),
    ("export const options = { vus };", "1:26: 'vus' without ':' and a value"),
    ("export const options = { vus: 1, vus: 2 };", "'vus' is given twice"),
    ("export const options = { vus: 1 /* open", "a /* comment is not closed"),
    ("export const options = { vus: 1", "1:32: expected '}', found 'the end of the file'"),
    ("export const options = { vus: ", "the object ends too early"),
    ("export const options = { vus: 1 duration: '1m' };", "1:33: expected '}', found \"duration: '1\""),
    ("export const options = makeOptions();", "options must be an object literal"),
    ("export default function () {}", "no 'export const options = {...}'"),
    ("{\"vus\": 1} extra", "text after the options object"),
    ("export const options = { vus: 1x };", "'1x': not a number literal"),
    ("export const options = { s: '\\u12' };", "a \\u escape needs four hex digits"),
], ids=lambda v: None)
def test_k6_scripts_that_are_not_literal_options_are_refused_at_their_line_and_column(text, message):
    with pytest.raises(ConfigError, match=_re(f"script.js:{message}" if message[0].isdigit() else message)):
        read_js_object(text, "script.js")


def test_js_literals_read_as_javascript_reads_them():
    got = read_js_object("export const options = {'a': 1_000, \"b\": -2.5e1, c: .5, d: 0x10, e: [true, false, null,"
                         " undefined,], f: 'it\\'s\\n', 0: {}, g: `x`,}")
    assert got == {"a": 1000, "b": -25.0, "c": 0.5, "d": 16, "e": [True, False, None, None], "f": "it's\n",
                   "0": {}, "g": "x"}


# -- hypothesis: durations and literals round trip ----------------------------------------------

_UNITS_NS = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


@st.composite
def go_durations(draw):
    """A Go duration text and its nanoseconds: unit parts such as 1h30m, 2.5s, 250ms, in any order."""
    # Fractions exact in nanoseconds (Go truncates each part's fraction of a nanosecond on its own).
    parts = draw(st.lists(st.tuples(st.sampled_from(list(_UNITS_NS)), st.integers(0, 500),
                                    st.sampled_from(["", "5", "25", "125"])), min_size=1, max_size=4))
    parts = [(u, w, "" if u == "ns" else f) for u, w, f in parts]
    text, ns = "", 0
    for unit, whole, frac in parts:
        text += f"{whole}.{frac}{unit}" if frac else f"{whole}{unit}"
        ns += whole * _UNITS_NS[unit] + (int(frac) * _UNITS_NS[unit]) // 10 ** len(frac) if frac else \
            whole * _UNITS_NS[unit]
    return text, ns


@given(go_durations())
@settings(max_examples=200, **SETTINGS)
def test_go_durations_read_as_go_parses_them(case):
    text, ns = case
    assert go_duration(text, "hey -z") == ns / 1e9
    if ns > 0:
        assert _only(hey(["-c", "1", "-z", text], service=0.1)).duration == ns / 1e9
        sc = _only(_scenario(executor="constant-vus", duration=text))
        assert sc.duration == ns / 1e9


@given(st.integers(1, 10**6))
@settings(max_examples=50, **SETTINGS)
def test_k6_durations_in_milliseconds_round_trip(ms):
    assert _only(_scenario(executor="constant-vus", duration=ms)).duration == ms / 1000


@given(st.integers(1, 500), st.sampled_from(["", "s", "m", "h"]))
@settings(max_examples=50, **SETTINGS)
def test_wrk_times_round_trip(n, unit):
    assert _only(wrk(f"wrk -d {n}{unit} http://x", service=0.1)).duration == n * {"": 1, "s": 1, "m": 60,
                                                                                   "h": 3600}[unit]


@given(st.integers(1, 200), st.sampled_from([("s", 1), ("1s", 1), ("2s", 2), ("m", 60), ("500ms", 0.5)]))
@settings(max_examples=50, **SETTINGS)
def test_vegeta_rates_round_trip(freq, per):
    text, seconds = per
    t = vegeta(f"vegeta attack -rate {freq}/{text} -duration 10s", service=0.1).traces[0]
    assert len(t) == math.ceil(freq / seconds * 10 - 1e-9)


_plain = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                   st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: not x.is_integer()),
                   st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8))
_values = st.recursive(_plain, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.from_regex(r"[A-Za-z_$][\w$]{0,6}", fullmatch=True), inner,
                                                 max_size=3)), max_leaves=12)


def _js(value, draw) -> str:
    """``value`` written as a k6 script might: quoting, trailing commas and comments drawn."""
    sep = draw(st.sampled_from([",", ", ", " ,\n  ", ", // note\n", ", /* c */ "]))
    trail = draw(st.sampled_from(["", ","]))
    if isinstance(value, dict):
        keys = [draw(st.sampled_from([k, json.dumps(k), "'" + k.replace("\\", "\\\\").replace("'", "\\'") + "'"]))
                for k in value]
        body = sep.join(f"{k}: {_js(v, draw)}" for k, v in zip(keys, value.values()))
        return "{" + body + (trail if value else "") + "}"
    if isinstance(value, list):
        return "[" + sep.join(_js(v, draw) for v in value) + (trail if value else "") + "]"
    if isinstance(value, str):
        if draw(st.booleans()):
            return json.dumps(value)
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r") \
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "'"
    if value is None:
        return draw(st.sampled_from(["null", "undefined"]))
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


@given(st.dictionaries(st.from_regex(r"[A-Za-z_$][\w$]{0,6}", fullmatch=True), _values, max_size=4), st.data())
@settings(max_examples=150, **SETTINGS)
def test_object_literals_read_back_what_was_written(options, data):
    text = "import http from 'k6/http';\n// options\nexport const options = " + _js(options, data.draw) + ";\n"
    assert read_js_object(text, "script.js") == options


# -- workloads: replays, the command line, comparisons and sweeps -------------------------------


def test_pools_of_the_same_tool_are_numbered_and_open_loops_merge():
    w = workload(parse("hey -c 2 -z 5s", service=0.1), parse("hey -c 3 -z 5s", service=0.1),
                 parse("vegeta attack -rate 2/s -duration 5s", service=0.1),
                 parse("vegeta attack -rate 4/s -duration 5s", service=0.1))
    assert isinstance(w, ClosedLoop) and [p.name for p in w.pools] == ["hey", "hey-2"]
    assert len(w.trace) == 30 and w.name == "hey+hey-2+vegeta+vegeta"
    only = workload(parse("vegeta attack -rate 2/s -duration 5s", service=0.1))
    assert isinstance(only, Trace) and len(only) == 10
    assert parse("hey -c 1 -z 5s", service=0.1).workload().pools[0].name == "hey"
    with pytest.raises(ConfigError, match="at least one load"):
        workload()


def test_a_trace_gives_its_durations_as_service_times():
    trace = Trace(arrivals=np.arange(5.0), durations=np.array([0.1, 0.2, 0.3, 0.4, 0.5]), name="t")
    p = _only(hey("hey -c 2 -z 10s", service=trace))
    assert isinstance(p._service, d.Empirical) and sorted(p._service.samples) == [0.1, 0.2, 0.3, 0.4, 0.5]


@pytest.mark.parametrize("command, message", [
    ("", "empty; give a command line"), ("curl http://x", "unknown load generator 'curl'"),
("hey -c '2", "a quote is not closed"),
])
def test_parse_refuses_what_is_not_a_load_generator(command, message):
    with pytest.raises(ConfigError, match=_re(message)):
        parse(command, service=0.1)


def test_a_pool_with_a_request_budget_counts_its_rate_until_its_last_response():
    from autoscale.reference import simulate

    w = ClosedLoop(Clients(5, service=0.2, requests=20, start=3.0, delay=0.01, name="hey-n"))
    cfg = KPAConfig(min_scale=1)
    row = replay(w, cfg).load_summary.iloc[0]
    last = simulate(w, cfg).requests.end.max() + 0.01  # the last response reaches its client
    assert row.responses == 100 and row.rps == pytest.approx(100 / (last - 3.01), rel=1e-6)
    # hey -n 100 -c 5 of 0.2 s requests on a warm pod: 5 x 20 in about 20 x (0.2 + 0.02) s.
    assert 100 / (20 * 0.22) * 0.8 < row.rps < 100 / (20 * 0.22) * 1.05


HEY = "hey -c 4 -q 2 -z 40s http://hello.default.example.com"


def _hey_pool() -> ClosedLoop:
    return ClosedLoop(Clients(4, service=d.exponential(0.1), duration=40.0, rate=2.0, name="hey"))


def test_a_load_run_on_the_command_line_reports_what_the_python_replay_of_its_clients_does(tmp_path, capsys):
    out = tmp_path / "r.csv"
    rc = main(["run", "--load", HEY, "--service-time", "exponential:100ms", "--set", "container-concurrency=1,5",
               "--seed", "3", "--out", str(out), "--quiet"])
    assert rc == 0
    printed = capsys.readouterr().out
    configs = [KPAConfig(container_concurrency=1), KPAConfig(container_concurrency=5)]
    want = replay(_hey_pool(), configs, seed=3)
    got = pd.read_csv(tmp_path / "r-load.csv")
    pd.testing.assert_frame_equal(got, want.load_summary, check_dtype=False)
    assert pd.read_csv(out)["requests"].tolist() == want.summary["requests"].tolist()
    assert "service times: exponential, mean 0.1 s (--service-time)" in printed
    assert "pool hey: 4 closed-loop clients, for 40 s, at most 2 req/s each" in printed
    assert "note: hey: URL http://hello.default.example.com: the simulated revision answers" in printed
    table = printed.split("load:\n", 1)[1].splitlines()
    assert table[0].split()[:6] == ["config", "container-concurrency", "pool", "clients", "sent", "responses"]
    for line, (_, row) in zip(table[1:], want.load_summary.iterrows()):
        cells = line.split()
        assert cells[4] == str(row.sent) and cells[5] == str(row.responses)  # integers as integers
        assert cells[8] == str(row.status_200) and float(cells[7]) == pytest.approx(row.rps, abs=0.01)


def test_a_load_run_takes_the_service_times_of_a_trace(tmp_path, capsys):
    path = tmp_path / "t.csv"
    Trace(arrivals=np.arange(50.0), durations=np.full(50, 0.25), name="t").to_csv(path)
    assert main(["run", "--load", "hey -c 2 -n 20", "--trace", str(path), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "service times: resampled from the 50 durations of trace" in printed
    row = replay(ClosedLoop(Clients(2, service=0.25, requests=10, name="hey")), KPAConfig()).load_summary.iloc[0]
    load_line = printed.split("load:\n", 1)[1].splitlines()[1].split()
    assert load_line[:4] == ["0", "hey", "2", "20"] and int(load_line[4]) == row.responses == 20


def test_an_open_loop_only_load_says_it_has_no_pools(capsys):
    assert main(["run", "--load", "vegeta attack -rate 5/s -duration 20s", "--service-time", "0.1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "open loop vegeta: 100 requests over 20 s" in printed
    assert "load: no client pools" in printed


@pytest.mark.parametrize("args, message", [
    (["run", "--service-time", "0.1", "--trace", "default"], "--service-time applies to --load requests"),
    (["run"], "give --trace (a bundled trace name or a trace file) or --load"),
    (["run", "--load", "hey -z 5s", "--trace", "default", "--service-time", "0.1"], "--service-time and --trace: "
                                                                                     "give one"),
    (["run", "--load", "hey -z 5s", "--per-function"], "--per-function applies to a trace's requests"),
    (["run", "--load", "hey -z 5s", "--async"], "--async applies to a trace's requests"),
    (["run", "--load", "hey -z 5s", "--function", "f"], "--function applies to a trace's requests"),
    (["run", "--load", "hey -x"], "flag needs an argument: -x"),
    (["run", "--load", "hey -z 5s", "--service-time", "uniform:1"], "unknown distribution 'uniform'"),
    (["run", "--load", "wrk -s x.lua http://x"], "a Lua script"),
    (["compare", "--policies", "kpa", "--load", "hey -z 5s", "--invocations", "async"],
     "closed-loop clients wait for each response"),
    (["sweep", "--load", "hey -z 5s", "--trace", "a", "--trace", "b", "--out", "x"], "--load takes one --trace"),
    (["sweep", "--load", "hey -z 5s", "--functions", "2", "--out", "x"], "--functions applies to a trace's"),
], ids=lambda v: None)
def test_load_options_refused_before_any_work(args, message, capsys):
    try:
        rc = main(args)
    except SystemExit as exc:  # argparse's own check of --service-time
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_compare_with_a_closed_loop_reports_each_policys_pools(tmp_path, capsys):
    w = _hey_pool()
    cmp = compare(w, ["kpa", "fixed"], KPAConfig(container_concurrency=2), seed=1)
    table = cmp.load_summary
    assert table.policy.tolist() == ["kpa", "fixed"] and table.pool.tolist() == ["hey", "hey"]
    for label in ("kpa", "fixed"):
        alone = replay(w, KPAConfig(container_concurrency=2), policy=label, seed=1).load_summary
        got = table[table.policy == label].drop(columns="policy").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, alone)
    assert main(["compare", "--policies", "kpa,fixed", "--load", HEY, "--service-time", "exponential:0.1",
                 "--set", "container-concurrency=2", "--seed", "1", "--quiet", "--out", str(tmp_path / "c.csv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "c-load.csv"), table, check_dtype=False)
    assert "load:\n policy  config  pool" in capsys.readouterr().out
    from autoscale.trace import synthetic

    assert compare(synthetic.poisson(1.0, 10.0, seed=1), ["kpa"]).load_summary is None


def test_a_sweep_of_a_closed_loop_carries_each_pools_columns_and_resumes_identically(tmp_path):
    from autoscale.sweep import Grid, Sweep, run_sweep
    from autoscale.trace import synthetic

    w = workload(parse(HEY, service=d.exponential(0.1)), parse("wrk -c 2 -d 20s http://x", service=0.2))
    trace = synthetic.poisson(rate=2.0, duration=40.0, service=synthetic.constant(0.2), seed=1)
    sweep = Sweep(traces=[w, trace], axes=Grid({"container-concurrency": [1, 5]}), seeds=[0, 1], batch_size=1)
    table = run_sweep(sweep, tmp_path / "s", progress=False)
    rows = table[table.trace == "hey+wrk"]
    assert len(rows) == 4 and table[table.trace == "poisson-2rps"]["load.hey.sent"].isna().all()
    for _, row in rows.iterrows():
        want = replay(w, KPAConfig(container_concurrency=int(row["container-concurrency"])), seed=int(row.seed))
        for _, pool in want.load_summary.iterrows():
            for col in ("sent", "responses", "status_200", "status_503", "rps", "latency_p99_s"):
                assert row[f"load.{pool.pool}.{col}"] == pool[col], (pool.pool, col)
    assert str(table["load.hey.sent"].dtype) == "Int64"
    # Resumed: two batches gone, the rest read back; the table is the same.
    batches = sorted((tmp_path / "s" / "batches").glob("*.csv"))
    for path in batches[:2]:
        path.unlink()
    again = run_sweep(sweep, tmp_path / "s", progress=False)
    assert again.attrs["sweep"]["replayed_batches"] == 2
    pd.testing.assert_frame_equal(again, table)
    with pytest.raises(ConfigError, match="has client pools, not functions"):
        run_sweep(Sweep(traces=[w], functions=2), progress=False)


def test_a_sweep_on_the_command_line_takes_a_load(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "--load", HEY, "--service-time", "exponential:100ms", "--grid",
                 "container-concurrency=1,5", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "pool hey: 4 closed-loop clients" in printed
    table = pd.read_csv(out / "results.csv")
    want = replay(_hey_pool(), [KPAConfig(container_concurrency=1), KPAConfig(container_concurrency=5)])
    assert table["load.hey.sent"].tolist() == want.load_summary.sent.tolist()


def _re(text: str) -> str:
    import re

    return re.escape(text)
