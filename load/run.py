"""A bounded, headless load run: `make load` calls this.

    .venv/bin/python load/run.py [--url URL] [--profile FILE] [--scenario tool_call:3,elicitation]
        [--shape steady] [--users 20] [--rate 20] [--duration 30s] [--processes N]
        [--max-error-rate 0.05] [--max-sessions 500] [--out reports/load]

Settings: command line > environment variables > the profile's [load] table > defaults (see
mcp_harness.profile.LOAD_KEYS). Without --url (or a url in the profile) the embedded reference server is
started (and stopped) for the run, with --idle-timeout (or the profile's idle_timeout) if given. Locust runs
load/locustfile.py in a subprocess and writes OUT/locust_*.csv, OUT/report.html and OUT/summary.json (the
harness's counters, open sessions, per-step percentiles). Exit status: Locust's (0: no failure, 1: some
failure or violation), 2 for bad settings or a run that had to be killed.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp_harness import embedded
from mcp_harness.profile import LOAD_KEYS, ProfileError, Target, check_url, load_profile, load_value, start_auth

ROOT = Path(__file__).resolve().parent.parent

LOCUST = Path(sys.executable).with_name("locust")
CONNECT_TIMEOUT_S = 5.0
GRACE_S = 120  # beyond the run's duration, before the run is killed
DISTRIBUTED_DRAIN_S = 5.0  # with several processes, users stop this long before the end (see load/shapes.py)
# option → [load] key; the value goes to the locustfile in that key's environment variable
OPTION_KEYS = {
    "scenario": "scenarios",
    "shape": "shape",
    "users": "users",
    "rate": "rate",
    "duration": "duration",
    "max_error_rate": "max_error_rate",
    "max_sessions": "max_sessions",
}


def resolve(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    """Every run-level [load] setting: command line > environment > profile > default."""
    settings = {}
    for option, key in OPTION_KEYS.items():
        given = getattr(args, option)
        settings[key] = load_value(key, given, f"--{option.replace('_', '-')}") if given else target.load.get(key)
    if args.processes > 1:
        settings["shape"] = settings["shape"] or "steady"  # the drain needs a shape
        if target.load.given("drain") is None:
            settings["drain"] = min(DISTRIBUTED_DRAIN_S, settings["duration"] / 4)
    return settings


def environment(args: argparse.Namespace, settings: dict[str, Any], out: Path) -> dict[str, str]:
    env = {**os.environ, "MCP_SUMMARY": str(out / "summary.json"), "MCP_PROCESSES": str(args.processes)}
    if args.profile:
        env["MCP_PROFILE"] = args.profile
    for key, value in settings.items():
        if value is not None:
            variable = LOAD_KEYS[key][2]
            env[variable] = ",".join(f"{k}:{w}" for k, w in value.items()) if key == "scenarios" else str(value)
    return env


def locust_command(args: argparse.Namespace, settings: dict[str, Any], url: str, out: Path) -> list[str]:
    users = settings["users"]
    cmd = [str(LOCUST), "-f", str(ROOT / "load" / "locustfile.py"), "--headless", "--host", url]
    cmd += ["-u", str(users), "-r", str(settings["rate"] or users), "-t", f"{settings['duration']:g}s"]
    cmd += ["--csv", str(out / "locust"), "--html", str(out / "report.html"), "--only-summary"]
    if args.processes > 1:
        cmd += ["--processes", str(args.processes)]
    return cmd


def reachable(url: str) -> str | None:
    """None if a TCP connection to the URL's host and port opens, else why not (one line)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        return f"cannot reach {parts.hostname}:{port} ({e.strerror or type(e).__name__})"
    return None


def run(args: argparse.Namespace, settings: dict[str, Any], url: str) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    limit = settings["duration"] + GRACE_S
    try:
        cmd = locust_command(args, settings, url, out)
        return subprocess.run(cmd, env=environment(args, settings, out), timeout=limit).returncode
    except subprocess.TimeoutExpired:
        print(f"load: the run did not end within {limit:g}s and was stopped", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the MCP endpoint (default: the profile's url, else the embedded server)")
    parser.add_argument("--profile", help="a target profile (TOML) with [load] and [tools.*] tables")
    parser.add_argument("--scenario", help="name[:weight],… (see load/locustfile.py; default tool_call)")
    parser.add_argument("--shape", help="steady, ramp, spike, churn or soak (see load/shapes.py)")
    parser.add_argument("--users", help="concurrent users, each holding one session at a time (default 20)")
    parser.add_argument("--rate", help="users started per second (default: all within a second)")
    parser.add_argument("--duration", help="seconds, or Locust's 30s / 5m / 1h (default 30s)")
    parser.add_argument("--processes", type=int, default=1, help="Locust worker processes on this machine")
    parser.add_argument("--max-error-rate", help="stop when more than this fraction failed in the last 10 s")
    parser.add_argument("--max-sessions", help="cap on sessions open at once, over all processes")
    parser.add_argument("--idle-timeout", type=float, help="the embedded server's session idle timeout (seconds)")
    parser.add_argument("--out", default="reports/load", help="where CSV, HTML and summary.json go")
    args = parser.parse_args(argv)
    try:
        target = load_profile(args.profile) if args.profile else Target()
        start_auth(target)  # a token that cannot be read: one line now, not a Locust that will not start
        url = check_url(args.url, "--url") if args.url else target.url
        settings = resolve(args, target)
    except ProfileError as e:
        print(f"load: {e}", file=sys.stderr)
        return 2
    if args.processes < 1:
        print("load: --processes: expected a whole number >= 1", file=sys.stderr)
        return 2
    if url:
        if problem := reachable(url):
            print(f"load: {problem}", file=sys.stderr)
            return 2
        return run(args, settings, url)
    server = embedded.start(idle_timeout=args.idle_timeout or target.idle_timeout)
    try:
        code = run(args, settings, server.url)
        print(f"load: sessions the reference server still holds: {server.open_sessions()}")
        return code
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
