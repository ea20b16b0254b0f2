"""Load smoke tests: Locust runs load/locustfile.py in a subprocess against the reference server (or a mutant).

Locust is never imported into the pytest process: it monkey-patches the interpreter with gevent.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCUST = Path(sys.executable).with_name("locust")
TOOL_CALL_STEPS = {"initialize", "notifications/initialized", "tools/call echo", "DELETE"}


def run_locust(url: str, out: Path, *, users: int = 20, duration: str = "5s", **env: str) -> dict[str, Any]:
    """Run a headless, bounded Locust; returns the per-name CSV rows and the harness's summary."""
    cmd = [str(LOCUST), "-f", str(ROOT / "load" / "locustfile.py"), "--headless", "-u", str(users)]
    cmd += ["-r", str(users), "-t", duration, "--host", url, "--csv", str(out / "x"), "--only-summary"]
    # Every message schema-validated (the load default validates a sample of sessions).
    environment = {**os.environ, "MCP_SUMMARY": str(out / "summary.json"), "MCP_VALIDATE": "1", **env}
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=environment, cwd=ROOT)
    assert p.returncode in (0, 1), p.stderr[-3000:]  # 1: some request failed, judged by the caller
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    with (out / "x_stats.csv").open() as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    return {"rows": rows, "summary": json.loads((out / "summary.json").read_text()), "code": p.returncode}


def test_tool_call_sessions_leave_nothing_open(server_factory, tmp_path: Path) -> None:
    server = server_factory(idle_timeout=None)
    run = run_locust(server.url, tmp_path)
    rows, summary = run["rows"], run["summary"]
    assert int(rows["Aggregated"]["Request Count"]) > 0
    assert int(rows["Aggregated"]["Failure Count"]) == 0
    assert set(rows) - {"Aggregated"} >= TOOL_CALL_STEPS
    assert summary["failures"] == 0 and run["code"] == 0
    counters = summary["counters"]
    assert summary["sessions_started"] == counters["sessions_started"] > 0
    assert summary["violations"] == summary["reinitializations"] == 0
    assert counters["violations"] == 0
    assert counters["sessions_completed"] > 0
    assert counters["sessions_started"] == counters["sessions_deleted"]
    assert server.open_sessions() == 0


def test_expired_sessions_are_reinitialized(server_factory, tmp_path: Path) -> None:
    server = server_factory(idle_timeout=1.0)
    run = run_locust(server.url, tmp_path, users=4, duration="5s", SCENARIO="idle_call", MCP_IDLE="1.8")
    counters = run["summary"]["counters"]
    assert run["summary"]["failures"] == 0
    assert counters["sessions_gone"] > 0
    assert counters["reinitializations"] == counters["sessions_gone"]
    assert {"404 session gone", "re-initialize"} <= set(run["rows"])
    assert server.open_sessions() == 0


def test_violations_are_failures_and_counted(server_factory, tmp_path: Path) -> None:
    server = server_factory(mutant="schema-invalid-content", idle_timeout=None)
    run = run_locust(server.url, tmp_path, users=5, duration="3s")
    counters = run["summary"]["counters"]
    assert counters["violations"] > 0
    assert any(s.startswith("schema.server-messages") for s in counters["violation_samples"])
    violation = run["summary"]["steps"]["MCP violation schema.server-messages"]
    assert violation["failures"] == violation["requests"] > 0
    assert run["code"] == 1  # Locust's exit status for a run with failures
    assert server.open_sessions() == 0


def test_streams_closed_early_are_resumed(server_factory, tmp_path: Path) -> None:
    server = server_factory(idle_timeout=None)
    env = {"MCP_CALL_TOOL": "test_reconnection", "MCP_CALL_ARGS": "{}"}
    run = run_locust(server.url, tmp_path, users=3, duration="3s", **env)
    assert run["summary"]["failures"] == 0
    assert run["summary"]["steps"]["POST tools/call test_reconnection"]["requests"] > 0
    assert run["summary"]["counters"]["streams_dropped"] == 0
    assert server.open_sessions() == 0
