"""Every scenario of ``tests/golden/scenarios.py`` gives exactly the outputs pinned in ``engine_outputs.npz``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))

from scenarios import STORE, outputs, scenarios  # noqa: E402

SCENARIOS = scenarios()


@pytest.fixture(scope="module")
def pinned():
    with np.load(STORE) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_replay_reproduces_pinned_outputs(name, pinned):
    got = outputs(SCENARIOS[name]())
    want = {k.split("/", 1)[1]: v for k, v in pinned.items() if k.startswith(name + "/")}
    assert want, f"nothing pinned for {name}"
    assert sorted(got) == sorted(want)
    for key, expected in want.items():
        actual = np.asarray(got[key])
        assert actual.shape == expected.shape, key
        assert np.array_equal(actual, expected, equal_nan=True), (
            f"{name}: {key} differs at {np.argwhere(~np.isclose(actual, expected, rtol=0, atol=0, equal_nan=True))[:5].tolist()}")
