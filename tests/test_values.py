"""Knative's value syntax: Go durations, bools and numbers, read and written as Knative and the command line do."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoscale import values
from autoscale.errors import ConfigError
from autoscale.values import (
    INT32_MAX,
    duration_ns,
    first_repeat,
    format_bound,
    format_duration,
    format_number,
    parse_bool,
    parse_duration,
    parse_float,
    parse_int,
    parse_seconds,
)


def test_exported_names_are_pinned():
    assert set(values.__all__) == {
        "parse_duration", "parse_seconds", "parse_bool", "parse_float", "parse_int", "duration_ns", "first_repeat",
        "format_number", "format_duration", "format_bound", "INT32_MAX",
    }
    for name in values.__all__:
        assert hasattr(values, name)


# -- Go durations ------------------------------------------------------------------------------


@pytest.mark.parametrize("text,seconds", [
    ("60s", 60.0), ("1m30s", 90.0), ("1h", 3600.0), ("500ms", 0.5), ("1.5s", 1.5), (".5s", 0.5),
    ("1.s", 1.0), ("0", 0.0), ("-0", 0.0), ("+2m", 120.0), ("-1s", -1.0), ("1h2m3s4ms", 3723.004),
    ("250us", 0.00025), ("250\u00b5s", 0.00025), ("100ns", 1e-7), (" 60s ", 60.0),
])
def test_parse_duration_accepts_go_syntax(text, seconds):
    assert parse_duration(text, "stable-window") == pytest.approx(seconds, rel=1e-15, abs=0)


@pytest.mark.parametrize("text", ["60", "1", "", "s", ".s", "1d", "1 m", "60 s", "1m30", "one"])
def test_parse_duration_rejects_non_go_syntax_naming_the_key(text):
    with pytest.raises(ConfigError, match=r"^stable-window = .*must be a duration"):
        parse_duration(text, "stable-window")


@pytest.mark.parametrize("text,value", [(t, True) for t in ("1", "t", "T", "TRUE", "true", "True")]
                         + [(f, False) for f in ("0", "f", "F", "FALSE", "false", "False")])
def test_parse_bool_accepts_go_syntax(text, value):
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["yes", "no", "on", "tRUE", "2", ""])
def test_parse_bool_rejects_other_spellings(text):
    with pytest.raises(ConfigError, match="enable-scale-to-zero"):
        parse_bool(text, "enable-scale-to-zero")


@settings(max_examples=60, derandomize=True, deadline=None)
@given(h=st.integers(0, 2), m=st.integers(0, 59), s=st.integers(0, 59), ms=st.integers(0, 999))
def test_parse_duration_matches_arithmetic(h, m, s, ms):
    text = f"{h}h{m}m{s}s{ms}ms"
    assert parse_duration(text) == pytest.approx(h * 3600 + m * 60 + s + ms / 1000, rel=1e-15, abs=0)


def test_durations_are_exact_integer_nanoseconds_truncating_below_one():
    assert duration_ns("1.5s") == 1_500_000_000
    assert duration_ns("0.0000000019s") == 1  # 1.9 ns, truncated as Go truncates
    assert duration_ns("-1m") == -60 * 10**9
    assert duration_ns("2562048h") is None  # beyond int64 nanoseconds, as Go refuses it
    assert duration_ns("90") is None and duration_ns("") is None


# -- seconds on the command line ---------------------------------------------------------------


@pytest.mark.parametrize("text,seconds", [
    ("90", 90.0), ("1.5", 1.5), ("-2", -2.0), ("1e3", 1000.0), (" 90 ", 90.0), ("90s", 90.0), ("5m", 300.0),
    ("1h", 3600.0), ("250ms", 0.25), ("0", 0.0),
])
def test_parse_seconds_takes_a_plain_number_or_a_go_duration(text, seconds):
    assert parse_seconds(text, "--duration") == pytest.approx(seconds, rel=1e-15, abs=0)


@pytest.mark.parametrize("text", ["", "5 m", "1d", "ninety", "1m30"])
def test_parse_seconds_rejects_anything_else_naming_the_key(text):
    with pytest.raises(ConfigError, match=r"^--duration = .*must be a number of seconds or a duration"):
        parse_seconds(text, "--duration")


def test_parsers_reject_a_value_that_is_not_a_string():
    for parse in (parse_duration, parse_seconds, parse_bool):
        with pytest.raises(TypeError, match="stable-window"):
            parse(60, "stable-window")


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text,value", [("0.8", 0.8), (" 70 ", 70.0), ("1e2", 100.0), ("0x1p-1", 0.5),
                                        ("-inf", float("-inf")), ("+3", 3.0)])
def test_parse_float_reads_go_float_syntax(text, value):
    assert parse_float(text, "target") == value


@pytest.mark.parametrize("text", ["1_000", "", "seventy", "70%"])
def test_parse_float_rejects_other_text(text):
    with pytest.raises(ConfigError, match=r"^target = .*must be a number$"):
        parse_float(text, "target")


def test_parse_int_reads_32_bit_decimal_integers():
    assert parse_int(" 20 ", "max-scale") == 20
    assert parse_int(str(INT32_MAX), "max-scale") == INT32_MAX
    assert parse_int(str(-INT32_MAX - 1), "max-scale") == -INT32_MAX - 1
    with pytest.raises(ConfigError, match=r"^max-scale = 2147483648, must be a 32-bit integer$"):
        parse_int("2147483648", "max-scale")
    for text in ("2.0", "1e3", "0x10", ""):
        with pytest.raises(ConfigError, match=r"must be an integer$"):
            parse_int(text, "max-scale")


# -- formatting and repeats --------------------------------------------------------------------


def test_numbers_and_durations_are_written_the_knative_way():
    assert [format_number(v) for v in (70.0, 0.7, 3, -1.0, 1e20)] == ["70", "0.7", "3", "-1", "1e+20"]
    assert [format_duration(v) for v in (60.0, 0.5, 0)] == ["60s", "0.5s", "0s"]
    assert [format_bound(v) for v in (3600.0, 120.0, 6.0, 90.0, 0.0)] == ["1h", "2m", "6s", "90s", "0s"]


def test_first_repeat_finds_the_first_value_given_twice():
    assert first_repeat([1, 2, 1, 2]) == 2
    assert first_repeat(["10", "20"]) == -1 and first_repeat([]) == -1
    assert first_repeat([[1], [1]]) == 1  # unhashable values compare too
