"""HTML reports: one self-contained file of a run, a comparison, a sweep or a summary table.

A report holds the results' tables, figures (PNG images embedded in the page), the
configurations, the trace's provenance and the attribution its data requires, and the
autoscale version and commands that made the results and the report. It loads nothing
from elsewhere: it opens in a browser from disk, with no server and no network.

What it shows depends on the results:

- a run: the latency and waiting-time distributions, the timeline of up to four
  configurations (when time series were kept) and, when there are more, one figure of
  every configuration, the Pareto front of the configurations and a heatmap when two
  keys vary;
- a comparison: the same per policy, and the Pareto front coloured by policy;
- a sweep or a table: heatmaps of p99 latency and pod-seconds over the first two swept
  keys (one panel per function, up to six; a cell of several runs shows their largest
  p99, since percentiles do not average, and their mean pod-seconds), the Pareto front
  (one per policy when there are several), and cold starts against keep-alive when a
  keep-alive time was swept.

Examples
--------
>>> from autoscale import KPAConfig, replay
>>> from autoscale.report import render
>>> from autoscale.trace import synthetic
>>> trace = synthetic.poisson(rate=2.0, duration=60.0, service=synthetic.constant(0.2), seed=1)
>>> html = render(replay(trace, [KPAConfig(target_burst_capacity=t) for t in (0, -1)]))
>>> html.startswith("<!DOCTYPE html>"), '<img src="data:image/png;base64,' in html
(True, True)
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import outputs as _outputs
from .results import whole_numbers
from .store import StoredResult, as_stored, load

__all__ = ["render", "write_report", "default_output"]

#: Identifying columns of sweep and table rows (with the swept keys).
_IDENT = ("trace", "function", "seed", "policy", "config")
#: Most configurations drawn as separate curves or timelines.
_MAX_CURVES = 8
_MAX_TIMELINES = 4
#: Most functions or traces that get a heatmap each.
_MAX_FACETS = 6
#: Most rows of the full table written into the page.
_MAX_ROWS = 2000
#: Words that mark a provenance as one of the shipped traces' (their files and data sets).
_SHIPPED_MARKERS = ("azure500-8h", "sample10-24h", "sample1250-24h", "Azure2021_200", "workload.tbz2",
                    "Azure Functions 2019", "Azure Functions 2021", "NASA-HTTP")

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; font-size: .9rem; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
table { border-collapse: collapse; font-size: .82rem; margin: .6rem 0; }
th, td { border: 1px solid #ddd; padding: .2rem .45rem; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
table.kv td { text-align: left; } .scroll { overflow-x: auto; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: .9rem; } nav a { margin-right: .8rem; }
details summary { cursor: pointer; color: #0072B2; }
"""


# -- small HTML helpers ----------------------------------------------------------------------


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _number(v) -> str:
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else f"{v:.4g}"
    return str(v)


def _frame_html(frame: pd.DataFrame) -> str:
    # Counts print as integers (autoscale.outputs), also in a column that a missing value made float;
    # a missing count prints as an empty cell (to_html's na_rep does not reach pandas' NA of Int64).
    counts = {}
    for c in frame.columns:
        if (o := _outputs.lookup(c)) is not None and o.prints == _outputs.COUNT:
            col = whole_numbers(frame[c])
            counts[c] = col.astype(object).where(col.notna(), "") if col.isna().any() else col
    if counts:
        frame = frame.assign(**counts)
    body = frame.to_html(index=False, border=0, na_rep="", float_format=_number, escape=True)
    return f'<div class="scroll">{body}</div>'


def _kv_html(pairs) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f'<table class="kv">{rows}</table>'


def _code(value) -> str:
    if isinstance(value, (dict, list)):
        return f"<code>{_e(json.dumps(value))}</code>"
    return f"<code>{_e(value)}</code>"


def _markdown(text: str) -> str:
    """The little Markdown of the traces' README: paragraphs, bullet lists, tables and `code`."""
    def inline(s: str) -> str:
        s = _e(s)
        s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
        return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)

    out, para, items, rows = [], [], [], []

    def flush():
        if para:
            out.append(f"<p>{inline(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
            items.clear()
        if rows:
            head, *body = rows
            cells = "".join(f"<th>{inline(c)}</th>" for c in head)
            trs = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body)
            out.append(f'<div class="scroll"><table class="kv"><tr>{cells}</tr>{trs}</table></div>')
            rows.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                rows.append(cells)
        elif stripped.startswith("- "):
            if para:
                flush()
            items.append(stripped[2:])
        elif items and line.startswith("  "):
            items[-1] += " " + stripped
        else:
            para.append(stripped)
    flush()
    return "\n".join(out)


def _readme_sections(*titles: str) -> str:
    """The named ``## `` sections of the shipped traces' README, as HTML ("" when it is not found)."""
    from .errors import TraceError
    from .trace import traces_dir

    try:
        text = (traces_dir() / "README.md").read_text(encoding="utf-8")
    except (TraceError, OSError):
        return ""
    parts = re.split(r"^## ", text, flags=re.M)
    out = []
    for part in parts[1:]:
        title, _, body = part.partition("\n")
        if title.strip() in titles:
            out.append(f"<h3>{_e(title.strip())}</h3>\n{_markdown(body)}")
    return "\n".join(out)


def _figure(fig, caption: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


# -- what the results hold -------------------------------------------------------------------


def _keys(table: pd.DataFrame) -> list[str]:
    """The configuration keys of a summary table: the columns before the outputs, bar the identifying ones."""
    end = table.columns.get_loc("requests") if "requests" in table else len(table.columns)
    return [c for c in table.columns[:end] if c not in _IDENT]


def _varying(table: pd.DataFrame, columns) -> list[str]:
    return [c for c in columns if c in table and table[c].astype(str).nunique() > 1]


def _numeric(table: pd.DataFrame, column: str) -> bool:
    return pd.to_numeric(table[column], errors="coerce").notna().all()


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    keys = _keys(table)
    # The main tables show the report view's outputs (every column is in the full table below them).
    shown = [c for c in _outputs.shown("report") if c in table]
    if not shown:
        return table
    frame = table[[c for c in table.columns if c in _IDENT or c in keys] + shown]
    if "function" in frame:  # Azure hashes are 64 characters: the first 12 identify them
        frame = frame.assign(function=frame["function"].astype(str).str.slice(0, 12))
    return frame


def _uses_shipped_trace(names, provenances) -> bool:
    from .trace import bundled_names

    shipped = set(bundled_names())
    if any(str(n).split(":")[0] in shipped for n in names):
        return True
    return any(m in str(p) for p in provenances for m in _SHIPPED_MARKERS)


def _cite(provenance: str) -> tuple[str, str]:
    """(licence, attribution) parts of a provenance line: source; notes; licence: ...; cite: ..."""
    parts = {"licence": [], "cite": []}
    current = None
    for part in str(provenance).split("; "):
        for key in parts:
            if part.startswith(f"{key}: "):
                current, part = key, part[len(key) + 2:]
        if current is not None:  # a licence or citation may itself hold "; "
            parts[current].append(part)
    return "; ".join(parts["licence"]), "; ".join(parts["cite"])


# -- sections --------------------------------------------------------------------------------


def _trace_section(stored: StoredResult) -> tuple[str, list, list]:
    """(HTML, trace names, provenance strings)."""
    from .trace import BUNDLED

    if stored.kind in ("run", "compare"):
        name, provenance = stored.trace_name, stored.provenance
        licence, attribution = _cite(provenance)
        pairs = [("trace", _e(name or "(unnamed)")), ("durations", _e(_durations(provenance))),
                 ("provenance", _e(provenance or "(none recorded)"))]
        if licence:
            pairs.append(("licence", _e(licence)))
        if attribution:
            pairs.append(("cite", _e(attribution)))
        return _kv_html(pairs), [name], [provenance]
    names = []
    if stored.kind == "sweep":
        for t in stored.manifest.get("sweep", {}).get("traces", []):
            names.append(t if isinstance(t, str) else t.get("name", ""))
    elif "trace" in stored.summary:
        names = list(dict.fromkeys(stored.summary["trace"].astype(str)))
    rows = []
    for n in names:
        shipped = BUNDLED.get(str(n))
        rows.append((_e(n), _e(shipped.description) if shipped else "a trace file or an in-memory trace"))
    parts = [_kv_html(rows)] if rows else ["<p>The table does not name its traces.</p>"]
    if "function" in stored.summary:
        functions = list(dict.fromkeys(stored.summary["function"].astype(str)))
        parts.append(f"<p>{len(functions)} function(s) replayed each as its own trace: "
                     + ", ".join(f"<code>{_e(f[:12])}</code>" for f in functions[:40])
                     + (" ..." if len(functions) > 40 else "") + "</p>")
    recorded = stored.manifest.get("provenance", []) if stored.kind == "sweep" else []
    by_durations: dict[str, list[str]] = {}
    for e in recorded:
        by_durations.setdefault(e.get("durations") or "(not recorded)", []).append(str(e.get("trace", "")))
    if by_durations:
        parts.append("<h3>Durations</h3>" + _kv_html([(", ".join(dict.fromkeys(t)), _e(d))
                                                     for d, t in by_durations.items()]))
        provenances = list(dict.fromkeys(str(e.get("provenance", "")) for e in recorded))
        parts.append("<h3>Provenance</h3>" + "".join(f"<p>{_e(p)}</p>" for p in provenances))
        return "\n".join(parts), names, provenances
    parts.append("<p>Durations: not recorded (a sweep folder written before durations were recorded).</p>"
                 if stored.kind == "sweep" else "")
    return "\n".join(parts), names, []


def _durations(provenance: str) -> str:
    """Where the durations come from, read from a provenance line (``...; durations: ...; licence: ...``)."""
    marker = "; durations: "
    if marker not in str(provenance):
        return "(not recorded in the provenance)"
    rest = str(provenance).split(marker, 1)[1]
    for end in ("; licence: ", "; cite: "):
        rest = rest.split(end, 1)[0]
    return rest


def _config_section(stored: StoredResult) -> str:
    m = stored.manifest
    if stored.kind in ("run", "compare"):
        parts = [_kv_html([("seed", _code(m.get("seed"))), ("simulated", _e(f"{m.get('duration') or 0:g} s")),
                           ("platform", _code(m.get("platform", "")))])]
        entries = m.get("results", [])
        all_configs = [c for e in entries for c in e.get("configs", [])]
        keys = list(dict.fromkeys(k for c in all_configs for k in c))
        shared = [k for k in keys if len({json.dumps(c.get(k)) for c in all_configs}) == 1]
        varying = [k for k in keys if k not in shared]
        for e in entries:
            params = e.get("policy_params") or {}
            text = f"{_e(e.get('label'))}: policy <code>{_e(e.get('policy'))}</code>"
            if params:
                text += " with " + ", ".join(f"<code>{_e(k)}={_e(v)}</code>" for k, v in params.items())
            parts.append(f"<p>{text}</p>")
            if varying:
                frame = pd.DataFrame([{k: c.get(k) for k in varying} for c in e.get("configs", [])])
                frame.insert(0, "config", range(len(frame)))
                parts.append(_frame_html(frame))
        parts.append("<h3>Settings every configuration shares</h3>")
        parts.append(_kv_html([(k, _code(all_configs[0].get(k))) for k in shared]))
        return "\n".join(parts)
    if stored.kind == "sweep":
        sweep = m.get("sweep", {})
        pairs = [(k, _code(v)) for k, v in sweep.items() if v not in (None, {}, [])]
        if "digest" in m:
            pairs.append(("digest", _code(m["digest"])))
        return (f"<p>The sweep as described in <code>sweep.json</code>: every configuration of the axes, crossed "
                f"with the traces, seeds and policies.</p>{_kv_html(pairs)}")
    keys = _keys(stored.summary)
    return ("<p>A summary table carries no configuration beyond its columns; the keys among them: "
            + (", ".join(f"<code>{_e(k)}</code>" for k in keys) or "none") + ".</p>")


def _run_figures(stored: StoredResult) -> list[str]:
    from . import plotting

    figs = []
    runs = stored.results
    table = stored.summary
    comparing = stored.kind == "compare"
    n_curves = sum(len(r) for r in runs.values())
    if n_curves <= _MAX_CURVES:
        source = runs if comparing else next(iter(runs.values()))
        for which, what in (("latency", "end-to-end latency"), ("wait", "waiting time")):
            fig, _ = plotting.latency_cdf(source, which=which, edges=stored.edges)
            figs.append(_figure(fig, f"Distribution of {what} of every request, per "
                                     f"{'policy' if comparing else 'configuration'} "
                                     "(from histograms with 100 bins a decade)."))
    elif comparing:
        labels = list(runs)[:_MAX_CURVES]
        counts = np.array([runs[label].latency_hist[0] for label in labels])
        fig, _ = plotting.latency_cdf(counts, labels=labels, edges=stored.edges)
        figs.append(_figure(fig, f"Distribution of end-to-end latency of the first configuration of "
                                 f"{len(labels)} of the {len(runs)} policies."))
    else:
        run = next(iter(runs.values()))
        pick = np.unique(np.linspace(0, len(run) - 1, _MAX_CURVES).round().astype(int))
        labels = plotting._config_labels(run)
        fig, _ = plotting.latency_cdf(run.latency_hist[pick], labels=[f"{i}: {labels[i]}" for i in pick],
                                      edges=stored.edges)
        figs.append(_figure(fig, f"Distribution of end-to-end latency for {len(pick)} of the {len(run)} "
                                 "configurations, evenly spaced through the batch (see the table for each)."))
    # Timelines: the first configurations of a run, or the first configuration of each policy.
    panels = [(label, run, i) for label, run in runs.items() if run.timeseries is not None
              for i in range(1 if comparing else len(run))]
    shown = panels[:_MAX_CURVES if comparing else _MAX_TIMELINES]
    for label, run, i in shown:
        fig, axes = plotting.timeline(run, config=i)
        if comparing:
            axes[0].set_title(f"{label}: {axes[0].get_title()}")
        figs.append(_figure(fig, f"Timeline of {label}, configuration {i}: demand and observed concurrency (top), "
                                 "pods (bottom); activator-in-path periods shaded, panic hatched, 503 and 504 "
                                 "responses ticked at the top."))
    every = sum(len(run) for run in runs.values() if run.timeseries is not None)
    if every > len(shown):
        fig, _ = plotting.timelines({label: run for label, run in runs.items() if run.timeseries is not None})
        figs.append(_figure(fig, f"Every one of the {every} configurations: demand and pods of each, small "
                                 "multiples on their own scales or overlaid with a legend."))
    if len(table) >= 2 and {"pod_seconds", "latency_p99_s"} <= set(table.columns):
        varying = _varying(table, _keys(table))
        group = "policy" if comparing and table["policy"].nunique() > 1 else None
        fig, _ = plotting.pareto(table, group=group, annotate=varying[:2] or None)
        figs.append(_figure(fig, "Pod-seconds against p99 latency; the Pareto front joins the configurations "
                                 "no other beats on both."))
        figs.extend(_heatmaps(table, varying))
    return figs


def _variants(table: pd.DataFrame) -> pd.Series:
    """Each row's policy with its swept parameters, ``keepalive(keep_alive=60)``; "" without a policy column."""
    if "policy" not in table:
        return pd.Series("", index=table.index)
    params = [c for c in table.columns if c.startswith("policy.")]

    def label(row) -> str:
        given = [f"{c.removeprefix('policy.')}={_number(row[c])}" for c in params if pd.notna(row[c])]
        return f"{row['policy']}({', '.join(given)})" if given else str(row["policy"])

    return table.apply(label, axis=1) if params else table["policy"].astype(str)


def _heatmaps(table: pd.DataFrame, keys: list[str]) -> list[str]:
    """p99 latency and pod-seconds over the first two numeric keys; one pair per policy (up to four)."""
    from . import plotting

    keys = [k for k in keys if _numeric(table, k)]
    if len(keys) < 2:
        return []
    x, y = keys[0], keys[1]
    variants = _variants(table)
    names = list(dict.fromkeys(variants))
    figs = []
    for name in names[:4]:
        rows = table[variants == name]
        # Several functions (or traces) get a heatmap each, up to six; more are combined, as the title says.
        facet = next((c for c in ("function", "trace") if c in rows and 1 < rows[c].nunique() <= _MAX_FACETS),
                     None)
        shared = rows.groupby([x, y] + ([facet] if facet else [])).size().max() > 1
        for value in ("latency_p99_s", "pod_seconds"):
            if value not in table:
                continue
            agg = _outputs.cell_aggregate(value, shared)  # percentiles do not average
            fig, ax = plotting.heatmap(rows, x=x, y=y, value=value, agg=agg, facet=facet)
            what = plotting.axis_label(value)
            if len(names) > 1:
                for a in np.atleast_1d(ax):
                    a.set_title(f"{name}: {a.get_title()}", fontsize="medium")
            how = ""
            if shared:
                how = (", the largest of the runs sharing a cell (percentiles do not average)" if agg == "max"
                       else ", averaged over the runs sharing a cell") + "; the title names the keys they differ in"
            figs.append(_figure(fig, f"{what} over {x} and {y}" + (f" under {name}" if len(names) > 1 else "")
                                + (f", one heatmap per {facet}" if facet else "") + how + "."))
    if len(names) > 4:
        figs.append(f"<p>Heatmaps of the first 4 of {len(names)} policies; the table has them all.</p>")
    return figs


def _table_figures(stored: StoredResult) -> list[str]:
    from . import plotting

    table = stored.summary
    figs = []
    if "requests" not in table:
        return figs
    keys = _varying(table, _keys(table))
    config_keys = [k for k in keys if not k.startswith("policy.")]
    figs.extend(_heatmaps(table, config_keys))
    if len(table) >= 2 and {"pod_seconds", "latency_p99_s"} <= set(table.columns):
        group = next((g for g in ("policy", "function", "trace") if g in table and table[g].nunique() > 1), None)
        annotate = config_keys[:2] if group is None and len(table) <= 64 else None
        fig, _ = plotting.pareto(table, group=group, annotate=annotate or None)
        figs.append(_figure(fig, "Pod-seconds against p99 latency of every run"
                                 + (f", coloured by {group}" if group else "")
                                 + "; the Pareto front joins the runs no other beats on both."))
    keep_alive = _keep_alive_column(table, keys)
    if keep_alive is not None and "cold_start_delayed" in table and "pod_seconds" in table:
        rows = table.dropna(subset=[keep_alive])
        group = "function" if "function" in rows and rows["function"].nunique() > 1 else None
        fig, _ = plotting.cold_starts_vs_keepalive(rows, keep_alive=keep_alive, group=group)
        figs.append(_figure(fig, "Requests delayed by a cold start and pod-seconds against the "
                                 f"{plotting.axis_label(keep_alive)}, averaged over the runs that share a value."))
    return figs


def _keep_alive_column(table: pd.DataFrame, keys: list[str]) -> str | None:
    """The swept column that says how long idle pods live (a keep-alive, a scale-to-zero grace), if any."""
    for key in ("policy.keep_alive", "scale-to-zero-grace-period", "scale-to-zero-pod-retention-period"):
        if key in keys:
            values = table[key].dropna()
            if values.size and pd.to_numeric(values, errors="coerce").notna().all():
                return key
    return None


def _tables_section(stored: StoredResult) -> str:
    table = stored.summary
    parts = []
    if stored.kind in ("run", "compare"):
        parts.append(_frame_html(_shown(table)))
    else:
        if "latency_p99_s" in table and len(table) > 20:
            parts.append("<h3>The 20 runs with the lowest p99 latency</h3>")
            parts.append(_frame_html(_shown(table.nsmallest(20, "latency_p99_s"))))
        else:
            parts.append(_frame_html(_shown(table)))
    full = table if len(table) <= _MAX_ROWS else table.head(_MAX_ROWS)
    note = "" if len(table) <= _MAX_ROWS else f" (the first {_MAX_ROWS:,} of {len(table):,} rows)"
    parts.append(f"<details><summary>Every column{_e(note)}</summary>{_frame_html(full)}</details>")
    return "\n".join(parts)


# -- the report ------------------------------------------------------------------------------


def _load_any(results) -> StoredResult:
    if isinstance(results, (str, Path)):
        return load(results)
    return as_stored(results)


def render(results, *, title: str | None = None, command: str | None = None) -> str:
    """The HTML report of ``results``, as text.

    Parameters
    ----------
    results : path, StoredResult, ReplayResult, Comparison, mapping or DataFrame
        A folder or CSV that :func:`autoscale.store.load` reads, or results in memory.
    title : str, optional
        The page title (by default from the kind of results and the trace).
    command : str, optional
        The command that made the report, shown beside the one that made the results.
    """
    from . import __version__

    stored = _load_any(results)
    table = stored.summary
    kinds = {"run": "Replay", "compare": "Policy comparison", "sweep": "Sweep", "table": "Results table"}
    trace_html, names, provenances = _trace_section(stored)
    if title is None:
        what = stored.trace_name or (stored.path.name if stored.path is not None else "")
        title = f"{kinds[stored.kind]}: {what}" if what else kinds[stored.kind]
    figures = _run_figures(stored) if stored.kind in ("run", "compare") else _table_figures(stored)
    made = stored.manifest.get("command") if stored.kind in ("run", "compare") else None
    version = stored.manifest.get("autoscale_version") if stored.kind in ("run", "compare") else None
    meta = [("results", _e(stored.path) if stored.path is not None else "in memory"),
            ("kind", _e(stored.kind)), ("rows", _e(f"{len(table):,}"))]
    if stored.kind in ("run", "compare"):
        meta.append(("made by", _code(made) if made else "the Python API (no command recorded)"))
        meta.append(("with autoscale", _e(version or "unknown")))
    meta.append(("report by", (_code(command) + " with " if command else "") + f"autoscale {_e(__version__)}"))

    attribution = ""
    if _uses_shipped_trace(names, provenances):
        attribution = _readme_sections("Attribution that results built on these traces must carry",
                                       "Origin and licence")
    sections = [
        ("summary", "Results", _tables_section(stored)),
        ("figures", "Figures", "\n".join(figures) if figures else "<p>No figures: the results lack the columns "
                                                                  "or histograms they need.</p>"),
        ("configuration", "Configuration", _config_section(stored)),
        ("trace", "Trace", trace_html),
    ]
    if attribution:
        sections.append(("attribution", "Attribution", "<p>These results are built on traces shipped with "
                                                       "autoscale; publications must carry this attribution.</p>"
                         + attribution))
    nav = " ".join(f'<a href="#{key}">{_e(name)}</a>' for key, name, _ in sections)
    body = "\n".join(f'<section id="{key}"><h2>{_e(name)}</h2>\n{content}\n</section>'
                     for key, name, content in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_e(title)}</h1>\n{_kv_html(meta)}\n<nav>{nav}</nav>\n{body}\n"
        f'<footer><p class="meta">autoscale {_e(__version__)}: a batched model of Knative Serving\'s '
        "autoscaler.</p></footer>\n</body>\n</html>\n"
    )


def default_output(results) -> Path:
    """Where ``autoscale report`` writes by default: ``report.html`` in a results folder, or beside a CSV."""
    path = Path(results)
    return path / "report.html" if path.is_dir() else path.with_suffix(".html")


def write_report(results, path=None, *, title: str | None = None, command: str | None = None) -> Path:
    """Write the report of ``results`` (see :func:`render`) to ``path`` and return it.

    ``path`` defaults to :func:`default_output` for results given as a path.
    """
    if path is None:
        if not isinstance(results, (str, Path)):
            raise TypeError("write_report: give the output path for results in memory")
        path = default_output(results)
    text = render(results, title=title, command=command)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
