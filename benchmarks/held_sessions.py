"""How many concurrent MCP sessions one Locust process holds, and what each costs the client and the server.

    .venv/bin/python benchmarks/held_sessions.py [--sessions 1000,5000] [--rate 50] [--hold 40]
                                                  [--ping-interval 30] [--url URL]

Each session is one user of load/locustfile.py running the `hold` scenario: initialize, its GET stream kept
open, a ping every --ping-interval seconds (first at a random phase, so pings do not come in bursts). One
headless Locust process per level (SHAPE=spike from 0 users): a baseline of the idle process, N users
spawned at --rate per second, then, once the server holds N sessions, a --hold window in which CPU (client
and server, from /proc) and resident memory are measured; at the end every user stops and DELETEs its
session. Memory per session is (RSS while holding − RSS of the idle process) / N.

Open files: a held session takes two client descriptors (its GET stream and the connection its pings use)
and two on the server. This script raises its soft RLIMIT_NOFILE to the hard limit, which the Locust process
and the embedded server inherit; if the hard limit is still below 2 × N + 1,000 it stops and says so (raise
it with `ulimit -Hn` as root, `LimitNOFILE=` for a systemd unit, or `--ulimit nofile=` for a container).

With pings every 30 s neither side is near a core at 5,000 sessions on a 2-core machine; at intervals of a
few seconds the single-process SDK reference server saturates first (../shared/LOAD-NOTES.md). The script
prints both sides' CPU so a reader can see which one limits.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from session_cost import proc_cpu  # benchmarks/ beside this script

from mcp_harness import embedded

ROOT = Path(__file__).resolve().parent.parent

LOCUST = Path(sys.executable).with_name("locust")
BASELINE_S = 5.0  # the idle Locust process, before any user starts
DRAIN_S = 5.0  # the end of the run: every user stops and DELETEs its session (+ 1 s per 500 sessions)
FDS_PER_SESSION = 2


@dataclass
class Level:
    sessions: int
    held: int = 0  # the most sessions the server reported open at once
    client_rss_base_kib: int = 0
    client_rss_kib: int = 0
    server_rss_base_kib: int = 0
    server_rss_kib: int = 0
    client_cpu: float = 0.0  # cores, over the hold window
    server_cpu: float = 0.0
    pings: int = 0
    failures: int = 0
    left_open: int = 0
    errors: list[str] = field(default_factory=list)


def proc_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def raise_open_files(sessions: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = FDS_PER_SESSION * sessions + 1000
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(
            f"held_sessions: {sessions} sessions need about {needed} open files per process; the hard limit is "
            f"{hard}: raise it (ulimit -Hn as root, LimitNOFILE= for systemd, --ulimit nofile= for a container)"
        )
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def open_sessions(sessions_url: str | None) -> int:
    if sessions_url is None:
        return 0
    with urllib.request.urlopen(sessions_url, timeout=5) as r:
        return int(json.load(r)["open"])


def measure(level: Level, url: str, server_pid: int | None, sessions_url: str | None, args: argparse.Namespace) -> None:
    spawn_s = level.sessions / args.rate
    drain = DRAIN_S + level.sessions / 500
    duration = BASELINE_S + spawn_s * 1.5 + args.hold + drain
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        env = {
            **os.environ,
            "SCENARIO": "hold",
            "SHAPE": "spike",
            "SHAPE_USERS": str(level.sessions),
            "SHAPE_RATE": str(args.rate),
            "SHAPE_BASE_USERS": "0",
            "SHAPE_SPIKE_AT": str(BASELINE_S),
            "SHAPE_SPIKE_FOR": str(duration),
            "SHAPE_DURATION": str(duration),
            "SHAPE_DRAIN": str(drain),
            "MCP_HOLD": str(duration),
            "MCP_PING_INTERVAL": str(args.ping_interval),
            "MCP_SUMMARY": str(summary),
        }
        cmd = [str(LOCUST), "-f", str(ROOT / "load" / "locustfile.py"), "--headless", "--host", url]
        cmd += ["--only-summary", "--loglevel", "WARNING"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(BASELINE_S - 1)
            level.client_rss_base_kib = proc_rss_kib(proc.pid)
            level.server_rss_base_kib = proc_rss_kib(server_pid) if server_pid else 0
            deadline = time.monotonic() + spawn_s * 1.5 + 1
            while time.monotonic() < deadline and open_sessions(sessions_url) < level.sessions:
                time.sleep(1)
            level.held = open_sessions(sessions_url)
            client0, server0, t0 = proc_cpu(proc.pid), proc_cpu(server_pid) if server_pid else 0.0, time.monotonic()
            time.sleep(args.hold)
            elapsed = time.monotonic() - t0
            level.client_cpu = (proc_cpu(proc.pid) - client0) / elapsed
            level.server_cpu = ((proc_cpu(server_pid) - server0) / elapsed) if server_pid else 0.0
            level.client_rss_kib = proc_rss_kib(proc.pid)
            level.server_rss_kib = proc_rss_kib(server_pid) if server_pid else 0
            level.held = max(level.held, open_sessions(sessions_url))
            _, stderr = proc.communicate(timeout=duration + 60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if not summary.exists():
            raise SystemExit(f"held_sessions: locust wrote no summary: {stderr.strip().splitlines()[-1:]}")
        data = json.loads(summary.read_text())
    level.pings = data["steps"].get("POST ping", {}).get("requests", 0)
    level.failures = data["failures"]
    level.errors = [f"{e['step']}: {e['error']} ({e['occurrences']})" for e in data.get("errors", [])]
    level.left_open = open_sessions(sessions_url)


def report(levels: list[Level], args: argparse.Namespace) -> None:
    print(f"\nheld sessions: GET stream open, a ping every {args.ping_interval:g} s, {args.hold:g} s measured")
    header = (
        f"{'sessions':>8} {'held':>6} {'client KiB/session':>19} {'client cores':>13} "
        f"{'server KiB/session':>19} {'server cores':>13} {'pings':>6} {'failures':>9} {'left open':>10}"
    )
    print(header)
    for lv in levels:
        n = max(lv.held, 1)
        print(
            f"{lv.sessions:>8} {lv.held:>6} {(lv.client_rss_kib - lv.client_rss_base_kib) / n:>19.1f} "
            f"{lv.client_cpu:>13.2f} {(lv.server_rss_kib - lv.server_rss_base_kib) / n:>19.1f} "
            f"{lv.server_cpu:>13.2f} {lv.pings:>6} {lv.failures:>9} {lv.left_open:>10}"
        )
    for lv in levels:
        per = (lv.client_rss_kib - lv.client_rss_base_kib) / max(lv.held, 1)
        side = "the client" if lv.client_cpu > lv.server_cpu else "the server"
        verdict = "held all" if lv.held >= lv.sessions and not lv.failures else "did NOT hold all"
        print(
            f"{lv.sessions}: {verdict} ({lv.held}), {per:.1f} KiB client memory per session (target <= 50); "
            f"the busier side is {side} ({max(lv.client_cpu, lv.server_cpu):.2f} of a core)"
        )
        for error in lv.errors:
            print(f"{lv.sessions}: failed: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="1000,5000", help="comma-separated levels (default 1000,5000)")
    parser.add_argument("--rate", type=float, default=50.0, help="sessions opened per second (default 50)")
    parser.add_argument("--hold", type=float, default=40.0, help="seconds measured while all are held (default 40)")
    parser.add_argument("--ping-interval", type=float, default=30.0, help="seconds between a session's pings")
    parser.add_argument("--url", help="an MCP endpoint (default: the embedded reference server; its CPU is measured)")
    args = parser.parse_args(argv)
    levels = [Level(int(n)) for n in args.sessions.split(",") if n.strip()]
    raise_open_files(max(lv.sessions for lv in levels))
    if args.url:
        for level in levels:
            measure(level, args.url, None, None, args)
        report(levels, args)
        return 0
    server = embedded.start(idle_timeout=None)
    try:
        for level in levels:
            print(f"holding {level.sessions} sessions ...", flush=True)
            measure(level, server.url, server.process.pid, server.sessions_url, args)
        report(levels, args)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
