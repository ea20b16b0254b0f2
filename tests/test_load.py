"""Load smoke tests: Locust runs load/locustfile.py in a subprocess against the reference server (or a mutant).

Locust is never imported into the pytest process: it monkey-patches the interpreter with gevent.
"""

from __future__ import annotations

import csv
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
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


def test_soak_idle_gaps_meet_404s_each_followed_by_reinitialization(server_factory, tmp_path: Path) -> None:
    """The soak acceptance: idle gaps longer than the idle timeout; every session survives each gap by a
    404 and a re-initialisation, and nothing fails."""
    server = server_factory(idle_timeout=1.2)
    env = {"SHAPE": "soak", "SHAPE_DURATION": "8", "SHAPE_GAP_EVERY": "1.5", "SHAPE_GAP": "2"}
    run = run_locust(server.url, tmp_path, users=4, SCENARIO="soak", MCP_THINK_TIME="0.3", **env)
    summary, counters = run["summary"], run["summary"]["counters"]
    assert summary["failures"] == 0 and run["code"] == 0
    assert counters["sessions_gone"] >= 4  # each user crossed at least one gap
    assert summary["reinitializations"] == counters["sessions_gone"]
    assert summary["steps"]["POST re-initialize"]["failures"] == 0
    assert server.open_sessions() == 0


def test_crossed_answers_under_concurrency_are_violations(server_factory, tmp_path: Path) -> None:
    """A server that routes answers to another session's stream passes a one-session check but not load."""
    server = server_factory(mutant="crossed-responses", idle_timeout=None)
    env = {"SCENARIO": "hold,tool_call", "MCP_HOLD": "2", "MCP_PING_INTERVAL": "0.5", "MCP_VALIDATE": "0"}
    run = run_locust(server.url, tmp_path, users=8, duration="4s", **env)
    summary = run["summary"]
    assert summary["violations"] > 0 and run["code"] == 1
    assert any("matches no request in flight on this session" in s for s in summary["counters"]["violation_samples"])
    assert summary["steps"]["MCP violation jsonrpc.response.same-id"]["failures"] > 0
    assert server.open_sessions() == 0


def test_held_sessions_keep_get_streams_and_stay_under_the_cap(server_factory, tmp_path: Path) -> None:
    server = server_factory(idle_timeout=None)
    env = {"SCENARIO": "hold", "MCP_HOLD": "1", "MCP_PING_INTERVAL": "0.3", "MCP_MAX_SESSIONS": "3"}
    run = run_locust(server.url, tmp_path, users=8, duration="4s", **env)
    summary, counters = run["summary"], run["summary"]["counters"]
    assert summary["failures"] == 0
    assert summary["open_sessions_peak"] == 3 < 8  # the cap held while 8 users wanted sessions
    assert counters["cap_waits"] > 0 and counters["sessions_started"] > 3
    assert counters["get_streams"] > 0 and summary["steps"]["GET GET stream"]["failures"] == 0
    assert summary["steps"]["POST ping"]["requests"] > 0
    assert summary["open_sessions"] == 0 and server.open_sessions() == 0


def test_error_rate_guard_stops_the_run(server_factory, tmp_path: Path) -> None:
    server = server_factory(mutant="schema-invalid-content", idle_timeout=None)
    run = run_locust(server.url, tmp_path, users=5, duration="30s", MCP_MAX_ERROR_RATE="0.05")
    summary = run["summary"]
    assert summary["stopped"] and "crossed the limit 5.0%" in summary["stopped"]
    assert summary["duration_s"] < 15 and run["code"] == 1
    assert server.open_sessions() == 0


def test_progress_calls_are_counted_and_spaced(server_factory, tmp_path: Path) -> None:
    server = server_factory(idle_timeout=None)
    run = run_locust(server.url, tmp_path, users=3, duration="3s", SCENARIO="progress")
    summary, counters = run["summary"], run["summary"]["counters"]
    assert summary["failures"] == 0
    assert counters["progress_calls"] > 0
    assert counters["progress_notifications"] >= 2 * counters["progress_calls"]
    assert summary["steps"]["MCP progress spacing"]["requests"] > 0
    assert summary["steps"]["MCP session setup"]["requests"] >= counters["progress_calls"]


def test_profile_chooses_scenarios_and_tool(server_factory, tmp_path: Path) -> None:
    server = server_factory(idle_timeout=None)
    profile = tmp_path / "target.toml"
    profile.write_text(
        '[tools.call]\nname = "test_simple_text"\n[load]\nscenarios = { tool_call = 3, handshake = 1 }\n'
        "think_time = 0.05\n"
    )
    run = run_locust(server.url, tmp_path, users=4, duration="3s", MCP_PROFILE=str(profile))
    steps = run["summary"]["steps"]
    assert run["summary"]["failures"] == 0
    assert steps["POST tools/call test_simple_text"]["requests"] > 0 and "POST tools/call echo" not in steps
    assert steps["POST initialize"]["requests"] > steps["POST tools/call test_simple_text"]["requests"]


def test_bad_load_settings_end_the_run_with_one_line(tmp_path: Path) -> None:
    profile = tmp_path / "target.toml"
    profile.write_text("[load]\nscenarios = { tool_cal = 1 }\n")
    cmd = [str(LOCUST), "-f", str(ROOT / "load" / "locustfile.py"), "--headless", "-t", "1s"]
    env = {**os.environ, "MCP_PROFILE": str(profile)}
    p = subprocess.run([*cmd, "--host", "http://127.0.0.1:9/mcp"], capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode != 0 and "scenario 'tool_cal' is not one of" in p.stderr
    assert "Traceback" not in p.stderr


def test_an_unreadable_token_ends_make_load_with_one_line(tmp_path: Path) -> None:
    profile = tmp_path / "target.toml"
    profile.write_text('[auth]\ntoken_command = "exit 4"\n')
    cmd = [sys.executable, str(ROOT / "load" / "run.py"), "--profile", str(profile), "--url", "http://127.0.0.1:9/mcp"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.strip() == "load: auth.token_command: exited with status 4"


def test_master_and_two_workers_merge_their_stats(server_factory, tmp_path: Path) -> None:
    """A distributed run on loopback: a master, two workers; the master's stats and counters cover both."""
    server = server_factory(idle_timeout=None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MCP_SUMMARY": str(tmp_path / "summary.json"), "SHAPE": "steady", "SHAPE_DRAIN": "1"}
    base = [str(LOCUST), "-f", str(ROOT / "load" / "locustfile.py")]
    master = [*base, "--master", "--headless", "--expect-workers", "2", "-u", "10", "-t", "5s", "--host", server.url]
    master += ["--master-bind-host", "127.0.0.1", "--master-bind-port", str(port), "--csv", str(tmp_path / "x")]
    worker = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    procs = [subprocess.Popen(master, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)]
    procs += [subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        _, stderr = procs[0].communicate(timeout=60)
        for p in procs[1:]:
            p.wait(timeout=30)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert procs[0].returncode == 0, stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    with (tmp_path / "x_stats.csv").open() as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    assert summary["distributed"] and summary["workers"] == 2
    initialize = int(rows["initialize"]["Request Count"])
    assert initialize == summary["steps"]["POST initialize"]["requests"] == summary["sessions_started"] > 0
    assert summary["counters"]["sessions_deleted"] == summary["sessions_started"]
    assert summary["failures"] == 0 and summary["open_sessions"] == 0
    assert server.open_sessions() == 0


def test_deploy_examples_use_the_pinned_locust_image() -> None:
    """The container examples run Locust's official image at the version pyproject.toml pins."""
    pin = re.search(r'"locust==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin is not None
    deploy = ROOT / "load" / "deploy"
    assert f"FROM locustio/locust:{pin.group(1)}\n" in (deploy / "Dockerfile").read_text()
    for manifest in ("docker-compose.yml", "kubernetes.yaml"):
        text = (deploy / manifest).read_text()
        assert "load/locustfile.py" in text and "--master" in text and "--worker" in text


def test_web_ui_serves_with_plain_locust(server_factory) -> None:
    """`locust -f load/locustfile.py` without --headless: the web UI comes up and lists the MCP user."""
    server = server_factory(idle_timeout=None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [str(LOCUST), "-f", str(ROOT / "load" / "locustfile.py"), "--host", server.url]
    cmd += ["--web-host", "127.0.0.1", "--web-port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.3)
        assert "locust" in page.lower()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats/requests", timeout=5) as r:
            assert json.load(r)["state"] == "ready"
    finally:
        proc.terminate()
        proc.wait(10)
