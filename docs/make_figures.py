"""Render the README's figures that no CLI command draws (``python docs/make_figures.py``).

- ``docs/figures/closed-vs-open.png``: 20 closed-loop clients (``hey -c 20 -q 1 -z 300s``)
  against an open-loop replay of the same mean rate (20 requests per second, evenly spaced),
  both from zero pods, CC 1, Knative's defaults otherwise. The README's section on
  closed-loop clients prints the numbers of the same two replays.
- ``docs/figures/chain_cascade.png``: the three-function chain of ``examples/chain.yaml`` (frontend calls
  auth, auth calls db; cold starts of 1, 3 and 5 s), its second burst: each service's pods start only
  once the request reaches it, so the cold starts add up along the chain.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from autoscale import KPAConfig, replay  # noqa: E402
from autoscale.trace import durations  # noqa: E402
from autoscale.chains import load_chain  # noqa: E402
from autoscale.workload import Clients, ClosedLoop, constant_arrival_rate  # noqa: E402

FIGURES = Path(__file__).resolve().parent / "figures"


def closed_vs_open(path: Path = FIGURES / "closed-vs-open.png", seconds: float = 90.0) -> Path:
    service = durations.exponential(0.2)
    workloads = {
        "20 clients, hey -c 20 -q 1 (closed loop)":
            ClosedLoop(Clients(20, service=service, duration=300.0, rate=1.0, name="hey -c 20 -q 1")),
        "20 requests/s, vegeta -rate 20/s (open loop)": constant_arrival_rate(20.0, 300.0, service=service),
    }
    config = KPAConfig(container_concurrency=1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True, constrained_layout=True)
    for (label, work), colour in zip(workloads.items(), ("tab:blue", "tab:orange")):
        frame = replay(work, config, timeseries=True, duration=400.0).timeseries.frame(0)
        frame = frame[frame.index <= seconds]
        top.plot(frame.index, frame["panic"], color=colour, label=label)
        bottom.plot(frame.index, frame["ready"], color=colour, label=label)
        bottom.plot(frame.index, frame["desired"].clip(lower=0), color=colour, ls=":", lw=1)
    top.set_ylabel("concurrency the\nautoscaler sees (6 s)")
    bottom.set_ylabel("pods ready\n(dotted: desired)")
    bottom.set_xlabel("time (s)")
    top.legend(loc="upper right", frameon=False)
    top.set_title("From zero pods, CC 1: the same mean rate, closed and open loop", fontsize=11)
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def chain_cascade(path: Path = FIGURES / "chain_cascade.png", start: float = 305.0, stop: float = 335.0) -> Path:
    example = Path(__file__).resolve().parents[1] / "examples" / "chain.yaml"
    loaded = load_chain(example)
    run = loaded.replay(timeseries=True)
    fig, (top, bottom) = run.plot()
    total = sum(s.platform.cold_start.mean() for s in loaded.chain.services)
    bottom.axhline(total, color="0.4", ls=":", lw=1)
    bottom.annotate(f"sum of the cold starts ({total:g} s)", (start + 0.5, total), xytext=(0, 4),
                    textcoords="offset points", fontsize="small", color="0.3")
    top.set_xlim(start, stop)
    bottom.set_ylim(0, 1.4 * total)
    top.set_title("A burst through frontend -> auth -> db, every service at zero pods (cold starts 1, 3, 5 s)",
                  fontsize=10)
    fig.savefig(path, dpi=110)
    return path


if __name__ == "__main__":
    print(closed_vs_open())
    print(chain_cascade())
