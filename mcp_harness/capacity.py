"""Capacity planning: the step model, the knee search, the analysis and the report (capacity.json, capacity.html).

The model is **paced arrivals** (an open model): each step offers a fixed rate of new sessions per second,
started by a pacer on a pool of users large enough that arrivals do not wait for a free user; a step is
sustainable when the SLO latency's p95 is within the SLO, errors are within the limit, and the achieved rate
keeps up with the offered one (a server past its capacity falls behind and queues). The search grows the
offered rate geometrically until a step fails, then bisects between the best sustainable step and the first
failing one, bounded in steps and time. The sustainable rate is what the best sustainable step *achieved*.

Pure functions over measured steps (load/shapes.py's CapacityShape measures them inside Locust; this module
never imports locust), so the search and the report are unit-tested without a server.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mcp_harness import agentcore

KEEP_UP = 0.95  # a step whose achieved rate falls below this share of the offered rate is saturated
QUANTILES = (50, 95, 99)
AGENTCORE_QUOTA = 5000  # AgentCore's default concurrent sessions per region (approximately)
AGENTCORE_IDLE_S = agentcore.DEFAULT_IDLE_TIMEOUT
AGENTCORE_LIFETIME_S = agentcore.MAX_LIFETIME


@dataclass
class Config:
    slo_p95_ms: float = 1000.0
    max_error_rate: float = 0.01
    slo_step: str = "tools/call echo"  # the request whose latency the SLO applies to
    start_rate: float = 5.0  # sessions/s offered at the first step
    growth: float = 1.6  # each coarse step offers this many times the last
    max_rate: float = 2000.0
    resolution: float = 0.05  # the bisection stops when the bracket is this narrow (relative)
    step_s: float = 10.0  # each step's length …
    warmup_s: float = 3.0  # … of which the first seconds are not measured
    time_limit_s: float = 180.0  # the whole search
    max_users: int = 2000

    @classmethod
    def from_json(cls, text: str | None) -> Config:
        data = json.loads(text) if text else {}
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown capacity settings: {', '.join(sorted(unknown))}")
        return cls(**data)


@dataclass
class Step:
    """One measured step. Latencies in ms, per request name: {"p50": …, "p95": …, "p99": …, "mean": …}."""

    offered: float  # sessions/s offered
    users: int
    window_s: float  # measured seconds (after the warm-up)
    calls: int  # successful requests of the SLO step completed in the window
    sessions: int  # sessions completed (DELETE answered) in the window
    requests: int
    failures: int
    latency: dict[str, dict[str, float]] = field(default_factory=dict)
    open_sessions_mean: float = 0.0
    open_sessions_max: int = 0
    verdict: str = ""  # ok | slo | errors | saturated
    reason: str = ""

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.window_s if self.window_s else 0.0

    @property
    def sessions_per_s(self) -> float:
        return self.sessions / self.window_s if self.window_s else 0.0

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank) and the mean of response times in ms."""
    if not values:
        return {}
    ordered = sorted(values)
    stats = {f"p{q}": ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)] for q in QUANTILES}
    stats["mean"] = sum(ordered) / len(ordered)
    return stats


def judge(step: Step, config: Config) -> Step:
    """Set the step's verdict: errors first, then the SLO, then whether it kept up with the offered rate."""
    p95 = step.latency.get(config.slo_step, {}).get("p95")
    if step.requests == 0 or step.calls == 0:
        step.verdict, step.reason = "errors", f"no successful {config.slo_step} in the window"
    elif step.error_rate > config.max_error_rate:
        step.verdict, step.reason = "errors", f"error rate {step.error_rate:.1%} > {config.max_error_rate:.1%}"
    elif p95 is not None and p95 > config.slo_p95_ms:
        step.verdict, step.reason = "slo", f"p95 {p95:.0f} ms > SLO {config.slo_p95_ms:.0f} ms"
    elif step.sessions_per_s < KEEP_UP * step.offered:
        step.verdict = "saturated"
        step.reason = f"achieved {step.sessions_per_s:.1f}/s of {step.offered:.1f}/s offered"
    else:
        step.verdict, step.reason = "ok", f"p95 {p95 or 0:.0f} ms, {step.sessions_per_s:.1f}/s"
    return step


def next_rate(steps: Sequence[Step], config: Config, elapsed_s: float) -> float | None:
    """The next offered rate, or None when the search is done (bracket narrow enough, limits reached)."""
    if elapsed_s + config.step_s > config.time_limit_s:
        return None
    if not steps:
        return config.start_rate
    good = [s.offered for s in steps if s.ok]
    lo = max(good, default=0.0)
    bad = [s.offered for s in steps if not s.ok and s.offered > lo]
    if not bad:
        rate = steps[-1].offered * config.growth
        return rate if rate <= config.max_rate else None
    hi = min(bad)
    if lo == 0.0:  # even the first step failed: look lower, down to a tenth of the start rate
        rate = hi / config.growth
        return rate if rate >= config.start_rate / 10 else None
    if (hi - lo) / hi <= config.resolution:
        return None
    return (lo + hi) / 2


def users_for(rate: float, config: Config, steps: Sequence[Step]) -> int:
    """Enough users that arrivals never wait for one: rate × (the longest plausible session) × 3, plus slack."""
    session_s = config.slo_p95_ms / 1000
    for step in steps:
        session_s = max(session_s, session_time_ms(step) / 1000)
    return max(2, min(config.max_users, math.ceil(rate * session_s * 3) + 5))


def session_time_ms(step: Step) -> float:
    """Mean time of one session: the sum of its requests' mean times (session setup is one of them, derived)."""
    return sum(v.get("mean", 0.0) for name, v in step.latency.items() if not name.startswith("MCP "))


# --- analysis ------------------------------------------------------------------------------------------


def analyse(steps: Sequence[Step], config: Config) -> dict[str, Any]:
    """The sustainable rate, the knee (the first failing step above it), concurrency by Little's law."""
    good = [s for s in steps if s.ok]
    best = max(good, key=lambda s: s.calls_per_s, default=None)
    above = [s for s in steps if not s.ok and best is not None and s.offered > best.offered]
    knee = min(above, key=lambda s: s.offered, default=None)
    if best is None:  # nothing passed: the lowest step tried tells why
        knee = min(steps, key=lambda s: s.offered, default=None)
    result: dict[str, Any] = {
        "sustainable_calls_per_s": round(best.calls_per_s, 2) if best else 0.0,
        "sustainable_sessions_per_s": round(best.sessions_per_s, 2) if best else 0.0,
        "best_step_offered": best.offered if best else None,
        "knee_offered": knee.offered if knee else None,
        "knee_reason": knee.reason if knee else "no step failed: the capacity is above the highest rate tried",
        "found": best is not None and knee is not None,
    }
    if best is not None:
        w = session_time_ms(best) / 1000
        result["little"] = {
            "throughput_sessions_per_s": round(best.sessions_per_s, 2),
            "mean_session_s": round(w, 4),
            "concurrent_sessions": round(best.sessions_per_s * w, 1),  # L = λ W
            "measured_open_sessions_mean": round(best.open_sessions_mean, 1),
        }
    return result


def plan(arrival_rate: float, session_s: float, idle_timeout_s: float, lifetime_s: float, quota: int) -> dict[str, Any]:
    """Concurrent sessions needed for a given arrival rate, by Little's law, against a session quota: with every
    session DELETEd when its client is done (L = λ D) and with none (each then lingers until the idle timeout,
    capped by the maximum lifetime: L = λ min(D + idle, lifetime))."""
    deleted = arrival_rate * min(session_s, lifetime_s)
    abandoned = arrival_rate * min(session_s + idle_timeout_s, lifetime_s)
    return {
        "arrival_rate_per_s": arrival_rate,
        "mean_session_s": session_s,
        "idle_timeout_s": idle_timeout_s,
        "max_lifetime_s": lifetime_s,
        "quota": quota,
        "concurrent_if_deleted": round(deleted, 1),
        "concurrent_if_abandoned": round(abandoned, 1),
        "quota_share_if_deleted": round(deleted / quota, 3),
        "quota_share_if_abandoned": round(abandoned / quota, 3),
        "fits_if_deleted": deleted <= quota,
        "fits_if_abandoned": abandoned <= quota,
    }


def conclusion(result: Mapping[str, Any], config: Config, target: str) -> str:
    if not result["sustainable_calls_per_s"]:
        return (
            f"No step met the objectives (p95 of {config.slo_step} ≤ {config.slo_p95_ms:.0f} ms, errors ≤ "
            f"{config.max_error_rate:.1%}), even at the lowest rate tried: {result['knee_reason']}."
        )
    text = (
        f"{target} sustained {result['sustainable_calls_per_s']:.1f} tool calls/s "
        f"({result['sustainable_sessions_per_s']:.1f} new sessions/s) with the p95 of {config.slo_step} within "
        f"{config.slo_p95_ms:.0f} ms and errors within {config.max_error_rate:.1%}."
    )
    if result["knee_offered"] is not None:
        text += (
            f" Offering {result['knee_offered']:.1f} sessions/s broke an objective ({result['knee_reason']}), so the "
            "capacity lies between the two."
        )
    else:
        text += " No rate tried broke an objective: the capacity is higher than this run could show."
    little = result.get("little")
    if little:
        text += (
            f" At that rate about {little['concurrent_sessions']:.0f} sessions are in flight at once "
            f"(Little's law: {little['throughput_sessions_per_s']:.1f}/s × {little['mean_session_s'] * 1000:.0f} ms)."
        )
    return text


# --- the report ----------------------------------------------------------------------------------------


def report_data(
    steps: Sequence[Step], config: Config, target: str, planning: Mapping[str, Any] | None, scenario: str
) -> dict[str, Any]:
    result = analyse(steps, config)
    return {
        "target": target,
        "scenario": scenario,
        "model": "paced arrivals (open model): each step offers a fixed rate of new sessions per second",
        "slo": {"step": config.slo_step, "p95_ms": config.slo_p95_ms, "max_error_rate": config.max_error_rate},
        **result,
        "conclusion": conclusion(result, config, target),
        "config": asdict(config),
        "steps": [
            {
                **asdict(s),
                "calls_per_s": round(s.calls_per_s, 2),
                "sessions_per_s": round(s.sessions_per_s, 2),
                "error_rate": round(s.error_rate, 4),
            }
            for s in steps
        ],
        "planning": dict(planning) if planning else None,
    }


def _figure(plot: Any) -> str:
    """A matplotlib figure drawn by `plot(ax)`, as a data: URI (the page stays self-contained)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    plot(ax)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def plots(data: Mapping[str, Any]) -> dict[str, str]:
    steps = sorted(data["steps"], key=lambda s: s["offered"])
    x = [s["offered"] for s in steps]
    slo = data["slo"]

    def throughput(ax: Any) -> None:
        ax.plot(x, x, ":", color="grey", label="offered")
        ax.plot(x, [s["sessions_per_s"] for s in steps], "o-", label="sessions/s achieved")
        ax.plot(x, [s["calls_per_s"] for s in steps], "s--", label="tool calls/s achieved")
        if data["sustainable_calls_per_s"]:
            ax.axhline(data["sustainable_calls_per_s"], color="green", alpha=0.5, label="sustainable")
        ax.set(xlabel="offered sessions/s", ylabel="per second", title="Throughput against offered load")
        ax.legend()

    def latency(ax: Any) -> None:
        for q in QUANTILES:
            ax.plot(
                x, [s["latency"].get(slo["step"], {}).get(f"p{q}", float("nan")) for s in steps], "o-", label=f"p{q}"
            )
        ax.axhline(slo["p95_ms"], color="red", alpha=0.5, label="SLO (p95)")
        ax.set(xlabel="offered sessions/s", ylabel="ms", title=f"{slo['step']} latency", yscale="log")
        ax.legend()

    def errors(ax: Any) -> None:
        ax.plot(x, [100 * s["error_rate"] for s in steps], "o-", color="firebrick", label="errors")
        ax.axhline(100 * slo["max_error_rate"], color="red", alpha=0.5, label="limit")
        ax.set(xlabel="offered sessions/s", ylabel="% of requests", title="Error rate")
        ax.legend()

    def sessions(ax: Any) -> None:
        ax.plot(x, [s["open_sessions_mean"] for s in steps], "o-", label="mean")
        ax.plot(x, [s["open_sessions_max"] for s in steps], "^--", label="max")
        ax.set(xlabel="offered sessions/s", ylabel="sessions", title="Open sessions")
        ax.legend()

    return {
        name: _figure(f)
        for name, f in (("throughput", throughput), ("latency", latency), ("errors", errors), ("sessions", sessions))
    }


def render_html(data: Mapping[str, Any]) -> str:
    """A self-contained page: conclusion, plots, step table, planning estimate."""
    e = html.escape
    figures = plots(data) if data["steps"] else {}
    slo = data["slo"]
    rows = "".join(
        f"<tr class='{e(s['verdict'])}'><td>{s['offered']:.1f}</td><td>{s['users']}</td>"
        f"<td>{s['sessions_per_s']:.1f}</td><td>{s['calls_per_s']:.1f}</td>"
        + "".join(f"<td>{s['latency'].get(slo['step'], {}).get(f'p{q}', 0):.0f}</td>" for q in QUANTILES)
        + f"<td>{100 * s['error_rate']:.2f}%</td><td>{s['open_sessions_mean']:.1f}</td>"
        f"<td>{e(s['verdict'])}: {e(s['reason'])}</td></tr>"
        for s in data["steps"]
    )
    breakdown = "".join(
        f"<tr><td>{s['offered']:.1f}</td>"
        + "".join(
            f"<td>{e(name)}: {v.get('p50', 0):.0f} / {v.get('p95', 0):.0f} / {v.get('p99', 0):.0f}</td>"
            for name, v in sorted(s["latency"].items())
        )
        + "</tr>"
        for s in data["steps"]
    )
    images = "".join(f"<figure><img alt='{e(name)}' src='{uri}'></figure>" for name, uri in figures.items())
    return PAGE.format(
        title=e(f"Capacity of {data['target']}"),
        conclusion=e(data["conclusion"]),
        model=e(data["model"]),
        scenario=e(data["scenario"]),
        slo=e(f"p95 of {slo['step']} ≤ {slo['p95_ms']:.0f} ms, errors ≤ {100 * slo['max_error_rate']:.1f}%"),
        images=images,
        rows=rows,
        breakdown=breakdown,
        planning=planning_html(data.get("planning"), data),
        data=e(json.dumps({k: v for k, v in data.items() if k != "steps"}, indent=1)),
    )


def planning_html(p: Mapping[str, Any] | None, data: Mapping[str, Any]) -> str:
    e = html.escape
    if not p:
        return (
            "<p>No planning inputs were given. Pass <code>--plan-arrival-rate</code> (new sessions per second at "
            "peak) and <code>--plan-session-duration</code> (mean seconds a client keeps a session) to estimate "
            "the concurrent sessions a fleet must hold.</p>"
        )
    fits = (
        "fits within"
        if p["fits_if_abandoned"]
        else ("fits only if clients DELETE" if p["fits_if_deleted"] else "exceeds")
    )
    sustainable = data["sustainable_sessions_per_s"]
    per_target = f"{p['arrival_rate_per_s'] / sustainable:.1f}" if sustainable else "n/a"
    return (
        f"<p>At {p['arrival_rate_per_s']:g} new sessions/s, each lasting {p['mean_session_s']:g} s on average, "
        f"a fleet holds about <b>{p['concurrent_if_deleted']:,.0f}</b> sessions at once if every client DELETEs its "
        f"session, and about <b>{p['concurrent_if_abandoned']:,.0f}</b> if none does (each then lingers for the "
        f"{p['idle_timeout_s']:g} s idle timeout, within the {p['max_lifetime_s'] / 3600:g} h maximum lifetime) — "
        f"{100 * p['quota_share_if_deleted']:.1f}% and {100 * p['quota_share_if_abandoned']:.1f}% of a quota of "
        f"{p['quota']:,} sessions: the estimate {e(fits)} the quota. Arrivals of that rate need "
        f"{e(per_target)} times the capacity measured here (Little's law, L = λ W; the sustainable rate above "
        "limits new sessions per second, the quota limits sessions held at once).</p>"
    )


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
figure {{ display: inline-block; width: 48%; margin: 0.3rem; }} img {{ width: 100%; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }} td, th {{ border: 1px solid #ccc; padding: 0.2rem 0.5rem; }}
tr.ok td {{ background: #eef8ee; }} tr.slo td, tr.errors td, tr.saturated td {{ background: #fbeeee; }}
.conclusion {{ font-size: 1.1rem; background: #f4f6fa; padding: 1rem; border-left: 4px solid #4a6fa5; }}
pre {{ background: #f7f7f7; padding: 0.5rem; overflow-x: auto; }}
</style></head><body>
<h1>{title}</h1>
<p class="conclusion" id="conclusion">{conclusion}</p>
<h2>How it was measured</h2>
<p>Model: {model}. Scenario: {scenario}. Objectives: {slo}. The offered rate grew step by step until a step
missed an objective, then was bisected between the best passing step and the first failing one; each step's
first seconds were a warm-up and not measured. A step passes when its error rate and p95 are within the
objectives and it achieved at least 95% of the rate offered (a server past capacity falls behind).</p>
<h2>Plots</h2>
<div id="plots">{images}</div>
<h2>Steps</h2>
<table id="steps"><tr><th>offered sessions/s</th><th>users</th><th>sessions/s</th><th>tool calls/s</th>
<th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>errors</th><th>open sessions</th><th>verdict</th></tr>{rows}</table>
<h3>Latency breakdown per step (p50 / p95 / p99 ms)</h3>
<table>{breakdown}</table>
<h2>Planning estimate</h2>
{planning}
<h2>Data</h2>
<pre>{data}</pre>
</body></html>
"""
