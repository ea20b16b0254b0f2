"""A capacity run: the highest sustainable rate of a target, and a report that reads on its own.

    .venv/bin/python load/capacity.py [--url URL] [--profile FILE] [--scenario tool_call] [--slo-p95-ms 1000]
        [--max-error-rate 0.01] [--time-limit 180] [--out reports/capacity]
        [--plan-arrival-rate 20 --plan-session-duration 300 [--plan-idle-timeout 900] [--quota 5000]]

Locust runs load/locustfile.py with SHAPE=capacity (load/shapes.py): paced arrivals, one step per offered rate
of new sessions, grown until a step misses an objective, then bisected (mcp_harness/capacity.py describes the
model). The SLO applies to the p95 of the scenario's tool call (tool_call: [tools.call], default echo; or
--slo-step); with the default scenario tool_call one session is one call, so sessions/s = calls/s. Without --url
(or a url in the profile) the embedded reference server is the target. Writes OUT/capacity.json and
OUT/capacity.html (self-contained, with plots), Locust's CSV and HTML. Exit status: 0 when a sustainable rate
was found, 1 when no step was sustainable, 2 for bad settings, an unreachable target or a run that had to be
stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from run import reachable  # load/ beside this script (the checkout's or the wheel's bundled copy)

from mcp_harness import capacity, embedded, scenarios
from mcp_harness.profile import ProfileError, Target, check_url, load_profile, load_value, start_auth

ROOT = Path(__file__).resolve().parent.parent

LOCUST = Path(sys.executable).with_name("locust")
GRACE_S = 90  # beyond the search's time limit, before the run is stopped


def shown(url: str) -> str:
    """The URL as reports show it: no credentials, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def slo_step(scenario: str, target: Target) -> str:
    """The request the SLO applies to: the tool call of the first scenario that calls one, else initialize."""
    for item in scenario.split(","):
        role = scenarios.ROLES.get(item.partition(":")[0].strip())
        if role:
            return f"tools/call {target.tools[role].name}"
    return "initialize"


def config_from(args: argparse.Namespace, target: Target) -> capacity.Config:
    step = args.slo_step or slo_step(args.scenario, target)
    config = capacity.Config(slo_p95_ms=args.slo_p95_ms, max_error_rate=args.max_error_rate, slo_step=step)
    config.time_limit_s = args.time_limit
    config.start_rate = args.start_rate
    config.step_s = args.step_time
    config.warmup_s = min(config.warmup_s, args.step_time / 3)
    return config


def run(args: argparse.Namespace, config: capacity.Config, url: str, out: Path, shown_url: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        steps_file = Path(tmp) / "steps.json"
        env = {
            **os.environ,
            "SHAPE": "capacity",
            "SCENARIO": args.scenario,
            "MCP_CAPACITY": json.dumps(config.__dict__),
            "MCP_CAPACITY_STEPS": str(steps_file),
            "MCP_SUMMARY": str(out / "summary.json"),
        }
        if args.profile:
            env["MCP_PROFILE"] = args.profile
        cmd = [str(LOCUST), "-f", str(ROOT / "load" / "locustfile.py"), "--headless", "--host", url]
        cmd += ["--csv", str(out / "locust"), "--html", str(out / "report.html"), "--only-summary"]
        limit = config.time_limit_s + GRACE_S
        try:
            subprocess.run(cmd, env=env, timeout=limit)
        except subprocess.TimeoutExpired:
            print(f"capacity: the run did not end within {limit:g}s and was stopped", file=sys.stderr)
            return 2
        if not steps_file.exists():
            print("capacity: the run ended without measuring a step (see Locust's output above)", file=sys.stderr)
            return 2
        steps = [capacity.Step(**s) for s in json.loads(steps_file.read_text())]
    planning = None
    if args.plan_arrival_rate is not None:
        planning = capacity.plan(
            args.plan_arrival_rate,
            args.plan_session_duration,
            args.plan_idle_timeout,
            args.plan_max_lifetime,
            args.quota,
        )
    data = capacity.report_data(steps, config, shown_url, planning, args.scenario)
    (out / "capacity.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / "capacity.html").write_text(capacity.render_html(data))
    print(data["conclusion"])
    print(f"capacity: report in {out / 'capacity.html'} and {out / 'capacity.json'}")
    return 0 if data["sustainable_calls_per_s"] else 1


def positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def fraction(text: str) -> float:
    try:
        return float(load_value("max_error_rate", text, "--max-error-rate"))
    except ProfileError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="the MCP endpoint (default: the profile's url, else the embedded reference server)")
    p.add_argument("--profile", help="a target profile (TOML): headers, [tools.call] (the SLO's tool), …")
    p.add_argument("--scenario", default="tool_call", help="name[:weight],… as for make load (default tool_call)")
    p.add_argument("--slo-p95-ms", type=positive, default=1000.0, help="p95 objective of the tool call (ms)")
    p.add_argument(
        "--slo-step",
        help="the request the SLO applies to, as named in Locust's stats (default: the "
        "scenario's tool call, e.g. 'tools/call echo'; initialize for scenarios without one)",
    )
    p.add_argument("--max-error-rate", type=fraction, default=0.01, help="error objective (fraction; default 0.01)")
    p.add_argument("--time-limit", type=positive, default=180.0, help="seconds for the whole search (default 180)")
    p.add_argument("--start-rate", type=positive, default=5.0, help="sessions/s offered first (default 5)")
    p.add_argument("--step-time", type=positive, default=10.0, help="seconds per step (default 10, 3 of warm-up)")
    p.add_argument("--plan-arrival-rate", type=positive, help="planning: new sessions per second at peak")
    p.add_argument("--plan-session-duration", type=positive, default=300.0, help="planning: mean session seconds")
    p.add_argument("--plan-idle-timeout", type=positive, help="planning (default: [agentcore] of the profile, or 900)")
    p.add_argument("--plan-max-lifetime", type=positive, help="planning (default: [agentcore] of the profile, or 8 h)")
    p.add_argument("--quota", type=int, default=capacity.AGENTCORE_QUOTA, help="concurrent-session quota (5000)")
    p.add_argument("--out", default="reports/capacity", help="where capacity.json and capacity.html go")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        target = load_profile(args.profile) if args.profile else Target()
        start_auth(target)  # a token that cannot be read: one line now, not a Locust that will not start
        url = check_url(args.url, "--url") if args.url else target.url
    except ProfileError as e:
        print(f"capacity: {e}", file=sys.stderr)
        return 2
    config = config_from(args, target)
    front = target.front  # a profile's [agentcore] knows the runtime's idle timeout and lifetime
    if args.plan_idle_timeout is None:
        args.plan_idle_timeout = front.idle_timeout if front else capacity.AGENTCORE_IDLE_S
    if args.plan_max_lifetime is None:
        args.plan_max_lifetime = front.max_lifetime if front else capacity.AGENTCORE_LIFETIME_S
    if url:
        if problem := reachable(url):
            print(f"capacity: {problem}", file=sys.stderr)
            return 2
        return run(args, config, url, Path(args.out), shown(url))
    server = embedded.start(idle_timeout=None)
    try:
        return run(args, config, server.url, Path(args.out), "the embedded reference server")
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
