"""HTML reports of every kind of results: self-contained, with figures, tables, configuration and provenance."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from autoscale import KPAConfig, __version__, compare, replay  # noqa: E402
from autoscale.cli import main  # noqa: E402
from autoscale.report import default_output, render, write_report  # noqa: E402
from autoscale.store import save  # noqa: E402
from autoscale.trace import load, synthetic  # noqa: E402

PNG = '<img src="data:image/png;base64,'


class _Page(HTMLParser):
    """Tags and the resources they load."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.loads: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "data", "poster", "srcset") and value and not value.startswith(("data:", "#")):
                self.loads.append(value)

    def handle_data(self, data):
        self.text.append(data)


def _check_page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert page.loads == [], "the page loads something from elsewhere"
    assert "<script" not in text and "@import" not in text and "url(" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text)
    assert "table" in page.tags and "img" in page.tags
    return page


@pytest.fixture(scope="module")
def trace():
    return synthetic.on_off(rate_on=20, mean_on=10, mean_off=30, duration=180, service=synthetic.constant(0.5),
                            seed=2)


@pytest.fixture(scope="module")
def run_dir(trace, tmp_path_factory):
    configs = [KPAConfig(container_concurrency=5, target_burst_capacity=t, container_concurrency_target_default=g)
               for t in (0, -1) for g in (1, 3)]
    result = replay(trace, configs, timeseries=True)
    return save(result, tmp_path_factory.mktemp("report") / "run", command="autoscale run --trace t")


@pytest.fixture(scope="module")
def compare_dir(trace, tmp_path_factory):
    cmp = compare(trace, ["kpa", "keepalive"], KPAConfig(container_concurrency=5), timeseries=True)
    fixed = replay(trace, KPAConfig(container_concurrency=5), policy="fixed", timeseries=True)
    return save({**cmp.results, "two pods": fixed}, tmp_path_factory.mktemp("report") / "cmp")


@pytest.fixture(scope="module")
def sweep_dir(trace, tmp_path_factory):
    """A sweep folder as autoscale sweep writes it: sweep.json and a tidy results.csv."""
    root = tmp_path_factory.mktemp("report") / "sweep"
    root.mkdir()
    tbcs, targets = (0, 10, -1), (1, 2, 5)
    configs = [KPAConfig(container_concurrency=5, target_burst_capacity=t, container_concurrency_target_default=g)
               for t in tbcs for g in targets]
    frames = []
    for function in ("f1", "f2"):
        for seed in (0, 1):
            summary = replay(trace, configs, seed=seed).summary.drop(columns=["config", "policy"])
            keys = ["target-burst-capacity", "container-concurrency-target-default"]
            summary = summary[keys + [c for c in summary.columns if c not in keys]]
            ident = pd.DataFrame({"trace": "azure2019-10", "function": function, "seed": seed, "policy": "kpa"},
                                 index=summary.index)
            frames.append(pd.concat([ident, summary], axis=1))
    table = pd.concat(frames, ignore_index=True)
    assert list(table.columns[4:6]) == ["target-burst-capacity", "container-concurrency-target-default"]
    table.to_csv(root / "results.csv", index=False)
    sweep = {"traces": ["azure2019-10"], "functions": ["f1", "f2"], "load_options": {},
             "axes": [{"grid": {"target-burst-capacity": list(tbcs),
                                "container-concurrency-target-default": list(targets)}}],
             "overrides": {"container-concurrency": 5}, "configmap": None, "service": None,
             "platform": {"mode_switch_delay": 1.0}, "seeds": [0, 1],
             "policies": [{"name": "kpa", "params": {}}], "duration": 180.0}
    (root / "sweep.json").write_text(json.dumps({"format": 1, "digest": "0123abcd", "sweep": sweep}))
    return root


def test_a_run_report_has_figures_tables_configuration_and_provenance(run_dir, trace):
    text = render(run_dir)
    page = _check_page(text)
    assert text.count(PNG) >= 5  # two distributions, four timelines, Pareto, two heatmaps
    assert "Timeline of kpa, configuration 0" in text and "Pareto front" in text
    assert "latency_p99_s" in text and "pod_seconds" in text  # the summary table
    assert "target-burst-capacity" in text and "container-concurrency-target-default" in text
    assert "Settings every configuration shares" in text and "stable-window" in text
    assert str(trace.provenance) in "".join(page.text)
    assert "autoscale run --trace t" in text and f"autoscale {__version__}" in text
    assert "Attribution" not in text  # a synthetic trace needs none


def test_a_comparison_report_shows_every_policy(compare_dir):
    text = render(compare_dir)
    _check_page(text)
    for label in ("kpa", "keepalive", "two pods"):
        assert f"Timeline of {label}, configuration 0" in text
        assert f"<td>{label}</td>" in text
    assert "policy <code>fixed</code>" in text
    assert "Distribution of end-to-end latency" in text and "Distribution of waiting time" in text


def test_a_sweep_report_has_heatmaps_a_pareto_front_and_the_attribution(sweep_dir):
    text = render(sweep_dir)
    page = _check_page(text)
    assert text.count(PNG) == 3  # p99 and pod-seconds heatmaps, Pareto coloured by function
    assert "over target-burst-capacity and container-concurrency-target-default" in text
    assert "coloured by function" in text
    assert "The 20 runs with the lowest p99 latency" in text and "Every column" in text
    assert "0123abcd" in text and "sweep.json" in text
    assert "Azure 2019: 10 busy functions" in text  # the shipped trace's description
    words = " ".join(page.text)
    assert "Shahrad et al." in words and "CC-BY 4.0" in words  # the shipped traces' attribution and licence


def test_a_bare_csv_report_and_where_reports_go(sweep_dir, tmp_path):
    csv = tmp_path / "table.csv"
    pd.read_csv(sweep_dir / "results.csv").to_csv(csv, index=False)
    assert default_output(csv) == tmp_path / "table.html"
    assert default_output(sweep_dir) == sweep_dir / "report.html"
    out = write_report(csv)
    text = out.read_text()
    _check_page(text)
    assert "Results table" in text and "carries no configuration beyond its columns" in text
    assert PNG in text


def test_a_report_of_a_shipped_trace_carries_its_attribution(tmp_path):
    trace = load("default").slice(0, 600)
    text = render(replay(trace, KPAConfig(container_concurrency=10)))
    page = _check_page(text)
    words = " ".join(page.text)
    assert "Attribution that results built on these traces must carry" in words
    assert 'Shahrad et al., "Serverless in the Wild' in words
    assert "cite" in words and "licence" in words


def test_results_in_memory_need_an_output_path(run_dir, tmp_path):
    result = replay(synthetic.poisson(rate=1, duration=30, service=synthetic.constant(0.1), seed=1), KPAConfig())
    with pytest.raises(TypeError, match="give the output path"):
        write_report(result)
    out = write_report(result, tmp_path / "deep" / "r.html", title="My <run>")
    assert "<title>My &lt;run&gt;</title>" in out.read_text()


def test_the_report_command_writes_each_kind(run_dir, compare_dir, sweep_dir, tmp_path, capsys):
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").is_file()
    assert "wrote" in capsys.readouterr().err
    out = tmp_path / "cmp.html"
    assert main(["report", str(compare_dir), "-o", str(out)]) == 0
    assert f"autoscale report {compare_dir} -o {out}" in out.read_text()
    assert main(["report", str(sweep_dir / "results.csv"), "--out", str(tmp_path / "s.html")]) == 0
    assert "Sweep" in (tmp_path / "s.html").read_text()


@pytest.mark.parametrize("name, message", [
    ("missing", "no such results folder or file"),
    ("folder", "not a results folder"),
])
def test_the_report_command_fails_cleanly(tmp_path, capsys, name, message):
    target = tmp_path / name
    if name == "folder":
        target.mkdir()
    assert main(["report", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autoscale: error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "report.html").exists()


def test_a_sweep_of_policies_gets_heatmaps_per_policy_and_cold_starts_against_keep_alive(trace, tmp_path):
    from autoscale.sweep import Grid, Sweep, run_sweep

    sweep = Sweep(traces=[trace], axes=Grid({"target-burst-capacity": [0, -1], "container-concurrency": [1, 5]}),
                  policies=["kpa", ("keepalive", {"keep_alive": 10}), ("keepalive", {"keep_alive": 120})])
    run_sweep(sweep, tmp_path / "sweep", progress=False)
    text = render(tmp_path / "sweep")
    _check_page(text)
    for name in ("kpa", "keepalive(keep_alive=10)", "keepalive(keep_alive=120)"):
        assert f"over target-burst-capacity and container-concurrency under {name}" in text
    assert "Requests delayed by a cold start and pod-seconds against the keep-alive (s)" in text
    assert text.count(PNG) == 3 * 2 + 2  # heatmaps per policy, the Pareto front, cold starts


def test_a_large_batch_shows_a_sample_of_its_configurations(trace):
    configs = [KPAConfig(container_concurrency=5, target_burst_capacity=t, container_concurrency_target_default=g)
               for t in (0, 5, 10, -1) for g in (1, 2, 3)]
    text = render(replay(trace, configs, timeseries=True))
    _check_page(text)
    assert "Distribution of end-to-end latency for 8 of the 12 configurations" in text
    assert text.count("<figcaption>Timeline of kpa") == 4


#: Appended to a copy of a report: once the page has loaded, write what the browser made of
#: each image (decoded size, size on the page, share of non-white pixels, distinct colours)
#: into a <pre> that ``--dump-dom`` prints.
_PROBE = """<script>
window.addEventListener("load", function () {
  var out = [];
  for (var k = 0; k < document.images.length; k++) {
    var img = document.images[k], box = img.getBoundingClientRect();
    var row = {alt: img.alt, width: img.naturalWidth, height: img.naturalHeight, shown: [box.width, box.height]};
    if (img.naturalWidth > 0) {
      var canvas = document.createElement("canvas");
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      var g = canvas.getContext("2d");
      g.drawImage(img, 0, 0);
      var d = g.getImageData(0, 0, canvas.width, canvas.height).data, ink = 0, colours = {};
      for (var i = 0; i < d.length; i += 4) {
        if (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240) ink++;
        if (i % 64 === 0) colours[(d[i] << 16) | (d[i + 1] << 8) | d[i + 2]] = 1;
      }
      row.ink = ink / (d.length / 4);
      row.colours = Object.keys(colours).length;
    }
    out.push(row);
  }
  var pre = document.createElement("pre");
  pre.id = "image-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


#: Where Debian's chromium package puts the browser (.ci/run installs it when it is missing).
CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    """Debian's Chromium; missing, the test skips, or fails where the environment variable CI is set."""
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        message = "no Chromium to render the reports (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI is set, so the browser test must run")
        pytest.skip(message)
    return path


def _images_in_browser(page, tmp_path) -> list[dict]:
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", _PROBE + "\n</body>"), encoding="utf-8")
    profile = tmp_path / "profile"
    done = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, check=False)
    found = re.search(r'<pre id="image-check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the browser did not run the page (exit {done.returncode}): {done.stderr[-1500:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("kind", ["run", "compare", "sweep", "table"])
def test_every_figure_of_a_report_shows_in_a_real_browser(kind, run_dir, compare_dir, sweep_dir, tmp_path):
    source = {"run": run_dir, "compare": compare_dir, "sweep": sweep_dir, "table": sweep_dir / "results.csv"}[kind]
    text = render(source)
    figures = text.count(PNG)
    assert figures >= 3
    images = _images_in_browser(text, tmp_path)
    assert len(images) == figures
    for image in images:
        what = image["alt"][:60]
        assert image["width"] > 200 and image["height"] > 150, f"{what}: not decoded ({image})"
        assert image["shown"][0] > 200 and image["shown"][1] > 100, f"{what}: not laid out ({image})"
        assert 0.02 < image["ink"] < 0.95, f"{what}: blank or solid ({image})"
        assert image["colours"] > 8, f"{what}: too few colours for a figure ({image})"


def test_a_missing_browser_fails_under_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    import sys

    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set, so the browser test must run"):
        _chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        _chromium()
