"""A bounded, headless load run: `make load` calls this.

    .venv/bin/python load/run.py [--url URL] [--users 20] [--rate 20] [--duration 30s] [--scenario tool_call]
                                 [--shape steady] [--processes N] [--profile FILE] [--out reports/load]

Without --url the embedded reference server is started (and stopped) for the run, with --idle-timeout if
given. Locust runs load/locustfile.py in a subprocess and writes OUT/locust_*.csv, OUT/report.html and
OUT/summary.json (the harness's counters, per-step percentiles); the exit status is Locust's (0: no
failure). With --shape, the SHAPE_* variables (see load/shapes.py) set the shape's parameters and
--users/--rate/--duration are its defaults.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcp_harness import embedded  # noqa: E402  (after the path set-up, for a run from a checkout)

LOCUST = Path(sys.executable).with_name("locust")
GRACE_S = 120  # beyond the run's duration, before the run is killed


def locust_command(args: argparse.Namespace, url: str, out: Path) -> list[str]:
    cmd = [str(LOCUST), "-f", str(ROOT / "load" / "locustfile.py"), "--headless", "--host", url]
    cmd += ["-u", str(args.users), "-r", str(args.rate or args.users), "-t", args.duration]
    cmd += ["--csv", str(out / "locust"), "--html", str(out / "report.html"), "--only-summary"]
    if args.processes > 1:
        cmd += ["--processes", str(args.processes)]
    return cmd


def seconds(timespan: str) -> int:
    """Locust's 30s / 5m / 1h30m, roughly, to bound the subprocess."""
    total, number = 0, ""
    for c in timespan:
        if c.isdigit():
            number += c
        else:
            total += int(number or 0) * {"h": 3600, "m": 60, "s": 1}.get(c, 1)
            number = ""
    return total + int(number or 0)


def run(args: argparse.Namespace, url: str) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SCENARIO": args.scenario, "MCP_SUMMARY": str(out / "summary.json")}
    if args.shape:
        env["SHAPE"] = args.shape
    if args.profile:
        env["MCP_PROFILE"] = args.profile
    limit = seconds(os.environ.get("SHAPE_DURATION", args.duration)) + GRACE_S
    try:
        return subprocess.run(locust_command(args, url, out), env=env, timeout=limit).returncode
    except subprocess.TimeoutExpired:
        print(f"load: the run did not end within {limit}s and was stopped", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the MCP endpoint (default: the embedded reference server)")
    parser.add_argument("--users", type=int, default=20, help="concurrent users, each holding one session")
    parser.add_argument("--rate", type=float, default=None, help="users started per second (default: --users)")
    parser.add_argument("--duration", default="30s", help="Locust timespan: 30s, 5m, 1h (default 30s)")
    parser.add_argument("--scenario", default="tool_call", help="name[:weight],… (see load/locustfile.py)")
    parser.add_argument("--shape", help="steady, ramp, spike, churn or soak (see load/shapes.py)")
    parser.add_argument("--processes", type=int, default=1, help="Locust worker processes on this machine")
    parser.add_argument("--profile", help="a target profile (TOML)")
    parser.add_argument("--idle-timeout", type=float, help="the embedded server's session idle timeout (seconds)")
    parser.add_argument("--out", default="reports/load", help="where CSV, HTML and summary.json go")
    args = parser.parse_args(argv)
    if args.url:
        return run(args, args.url)
    server = embedded.start(idle_timeout=args.idle_timeout)
    try:
        code = run(args, server.url)
        print(f"load: sessions the reference server still holds: {server.open_sessions()}")
        return code
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
