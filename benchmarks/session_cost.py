"""Client CPU per completed MCP session: the harness's Locust user against a bare FastHttpUser, in one run.

    .venv/bin/python benchmarks/session_cost.py [--users 20] [--duration 15] [--rounds 2] [--url URL]

Each variant runs as its own headless Locust process (tool_call scenario: initialize → initialized →
tools/call echo → DELETE) against one reference server (or --url), alternating variants round by round so
drift on a shared machine hits them alike:

    bare        benchmarks/bare_locustfile.py: the same HTTP exchanges, minimal parsing, no MCP logic
    harness     load/locustfile.py: the session core over the Locust driver, as shipped (MCP_VALIDATE=0.1:
                one session in ten schema-validated; ids, routing and content types always checked)
    harness-v1  every session schema-validated (MCP_VALIDATE=1)
    harness-v0  no schema validation (MCP_VALIDATE=0)
    sdk         benchmarks/sdk_locustfile.py: the official Python SDK client (streamable_http_client +
                ClientSession) under Locust, what people write today (it also lists tools and opens a GET stream)

CPU is the load process's own (user + system) time between Locust's test_start and test_stop, which it
writes to MCP_SUMMARY; this process never imports locust (its gevent monkey-patching breaks child rusage
accounting), and also reports each child's whole-process rusage (startup included) and the server's CPU.
A completed session is a successful DELETE. Prints the figures and the ratios to the bare user.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mcp_harness import embedded

ROOT = Path(__file__).resolve().parent.parent

LOCUST = Path(sys.executable).with_name("locust")
VARIANTS = {
    "bare": ("benchmarks/bare_locustfile.py", {}),
    "harness": ("load/locustfile.py", {"SCENARIO": "tool_call"}),
    "harness-v1": ("load/locustfile.py", {"SCENARIO": "tool_call", "MCP_VALIDATE": "1"}),
    "harness-v0": ("load/locustfile.py", {"SCENARIO": "tool_call", "MCP_VALIDATE": "0"}),
    "sdk": ("benchmarks/sdk_locustfile.py", {}),
}
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    sessions: int = 0
    failures: int = 0
    cpu_s: float = 0.0  # during the run, from the load process itself
    process_cpu_s: float = 0.0  # the whole load process, startup included (wait4)
    server_cpu_s: float = 0.0
    wall_s: float = 0.0

    def add(self, other: Sample) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def run_once(variant: str, url: str, users: int, duration: int, server_pid: int | None, out: Path) -> Sample:
    locustfile, extra = VARIANTS[variant]
    summary = out / f"{variant}.json"
    env = {**os.environ, **extra, "MCP_SUMMARY": str(summary)}
    cmd = [str(LOCUST), "-f", str(ROOT / locustfile), "--headless", "-u", str(users), "-r", str(users)]
    cmd += ["-t", f"{duration}s", "--host", url, "--only-summary", "--loglevel", "WARNING"]
    server_before = proc_cpu(server_pid) if server_pid else 0.0
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate(timeout=duration + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise SystemExit(f"{variant}: locust did not finish within {duration + 60}s") from None
    if not summary.exists():
        raise SystemExit(f"{variant}: locust wrote no summary: {stderr.strip().splitlines()[-1:]}")
    data = json.loads(summary.read_text())
    delete = data["steps"].get("DELETE DELETE", {"requests": 0, "failures": 0})
    return Sample(
        sessions=delete["requests"] - delete["failures"],
        failures=data["failures"],
        cpu_s=data["cpu_s"],
        server_cpu_s=(proc_cpu(server_pid) - server_before) if server_pid else 0.0,
        wall_s=data["duration_s"],
    )


def children_cpu() -> float:
    """CPU of the reaped children so far: the delta around one run is that load process's, startup included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(url: str, users: int, duration: int, rounds: int, variants: list[str], server_pid: int | None) -> None:
    totals = {v: Sample() for v in variants}
    ratios: dict[str, list[float]] = {v: [] for v in variants}  # per round, to the bare user of that round
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            per_session: dict[str, float] = {}
            for variant in variants:
                before = children_cpu()
                sample = run_once(variant, url, users, duration, server_pid, Path(tmp))
                sample.process_cpu_s = children_cpu() - before
                totals[variant].add(sample)
                per_session[variant] = sample.cpu_s / max(sample.sessions, 1)
                print(
                    f"round {r + 1} {variant:<11} {sample.sessions:>6} sessions  {sample.failures} failures  "
                    f"{1000 * per_session[variant]:.3f} ms CPU/session",
                    flush=True,
                )
            if per_session.get("bare"):
                for variant, cost in per_session.items():
                    ratios[variant].append(cost / per_session["bare"])
    report(totals, ratios, users, duration, rounds)


def report(totals: dict[str, Sample], ratios: dict[str, list[float]], users: int, duration: int, rounds: int) -> None:
    print(
        f"\n{users} users, {rounds} x {duration}s per variant (tool_call: initialize, initialized, tools/call, DELETE)"
    )
    print(
        f"{'variant':<11} {'sessions':>9} {'sessions/s':>10} {'client ms CPU/session':>22} "
        f"{'(whole process)':>16} {'server ms CPU/session':>22} {'failures':>9}"
    )
    for name, s in totals.items():
        n = max(s.sessions, 1)
        print(
            f"{name:<11} {s.sessions:>9} {s.sessions / max(s.wall_s, 1e-9):>10.1f} {1000 * s.cpu_s / n:>22.3f} "
            f"{1000 * s.process_cpu_s / n:>16.3f} {1000 * s.server_cpu_s / n:>22.3f} {s.failures:>9}"
        )
    harness, sdk = totals.get("harness"), totals.get("sdk")
    if harness and sdk and harness.sessions and sdk.sessions and harness.cpu_s:
        cheaper = (sdk.cpu_s / sdk.sessions) / (harness.cpu_s / harness.sessions)
        print(f"harness: {cheaper:.1f}x cheaper in client CPU per session than the SDK client (target >= 10x)")
    base = totals.get("bare")
    if base is None or not base.sessions:
        return
    per_base = base.cpu_s / base.sessions
    for name, s in totals.items():
        if name not in ("bare", "sdk") and s.sessions:
            rounds_text = ", ".join(f"{x:.2f}" for x in ratios[name])
            print(
                f"{name}: {s.cpu_s / s.sessions / per_base:.2f}x the bare user's client CPU per session "
                f"(target <= 1.21x; rounds: {rounds_text}; median {statistics.median(ratios[name]):.2f}x), "
                f"{s.sessions / s.wall_s / (base.sessions / base.wall_s):.2f}x its sessions/s"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=int, default=15, help="seconds per variant and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, from {', '.join(VARIANTS)}")
    parser.add_argument("--url", help="an MCP endpoint with the echo tool (default: the embedded reference server)")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    if unknown := set(variants) - set(VARIANTS):
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    if args.url:
        measure(args.url, args.users, args.duration, args.rounds, variants, None)
        return 0
    server = embedded.start(idle_timeout=None)
    try:
        measure(server.url, args.users, args.duration, args.rounds, variants, server.process.pid)
        # The bare user does not shield its initialize or DELETE from Locust's kill at the end: a few leak.
        print(f"sessions left open on the server: {server.open_sessions()}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
