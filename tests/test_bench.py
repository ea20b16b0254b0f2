"""The benchmark scripts run end to end on a tiny budget and print their figures (the figures themselves are
measured by `make bench`, not judged here: the machines are shared and noisy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench(script: str, *args: str) -> str:
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True, text=True, timeout=240
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout


def test_session_cost_prints_the_ratios() -> None:
    out = bench("session_cost.py", "--users", "3", "--duration", "3", "--rounds", "1", "--variants", "bare,harness,sdk")
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()}
    for variant in ("bare", "harness", "sdk"):
        sessions, failures = int(lines[variant].split()[1]), int(lines[variant].split()[-1])
        assert sessions > 0 and failures == 0, lines[variant]
    assert "x the bare user's client CPU per session" in out
    assert "x cheaper in client CPU per session than the SDK client" in out


def test_held_sessions_holds_and_reports_both_sides() -> None:
    out = bench("held_sessions.py", "--sessions", "30", "--rate", "30", "--hold", "2", "--ping-interval", "1")
    assert "30: held all (30)" in out, out
    assert "KiB client memory per session" in out and "the busier side is" in out
