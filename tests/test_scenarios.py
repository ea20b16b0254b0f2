"""Scenarios are written once: every load scenario, run through the httpx driver (the conformance checks') and the
Locust driver (tests/load_flows.py, in its own process) against the reference server, sends the same exchanges —
the same HTTP methods and JSON-RPC methods in the same order, the same MCP headers, the same bodies once request
ids, progress tokens, session ids, event ids and the run id are masked."""

from __future__ import annotations

import difflib
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from exchange_record import record

from mcp_harness import scenarios
from mcp_harness.driver import Client, ClientConfig
from mcp_harness.profile import ToolSpec

ROOT = Path(__file__).resolve().parent.parent
IDLE_TIMEOUT = 1.0
SETTINGS: dict[str, Any] = {
    "tools": {
        "call": ["echo", {"text": "hello"}],
        "elicitation": ["test_elicitation", {}],
        "sampling": ["test_sampling", {}],
        "progress": ["test_tool_with_progress", {"steps": 3, "delay": 0.05}],
        "slow": ["test_tool_with_progress", {"steps": 4, "delay": 0.1}],
    },
    # hold: with random.Random("hold") the first ping waits 0.1 s, the second comes at 0.6 s, well inside 0.8 s
    "ping_interval": 0.5,
    "hold": 0.8,
    "churn_abandon": 0.5,  # random.Random("churn") draws 0.43: abandoned
    "idle": IDLE_TIMEOUT + 0.8,  # past the idle timeout: a 404, then initialize again and the call once more
    "think_time": 0.3,  # soak: calls at 0 and 0.3 s …
    "limit": 0.5,  # … and none after 0.5 s
}
MCP_HEADERS = ("accept", "content-type", "mcp-session-id", "mcp-protocol-version", "last-event-id")
MASKED_HEADERS = {"mcp-session-id": "<session>", "last-event-id": "<event>"}


def _settings(raw: dict[str, Any]) -> scenarios.Settings:
    tools = {role: ToolSpec(name, arguments) for role, (name, arguments) in raw["tools"].items()}
    return scenarios.Settings(tools=tools, **{k: v for k, v in raw.items() if k != "tools"})


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if key in ("id", "progressToken") and value is not None:
        return f"<{key}>"
    if key == "version" and isinstance(value, str) and "+run." in value:
        return "<version>"
    return value


def normalised(records: list[dict[str, Any]]) -> list[str]:
    """One line per exchange: HTTP method, JSON-RPC method (or reply), MCP headers, masked body."""
    lines = []
    for r in records:
        headers = {k.lower(): v for k, v in r["headers"].items()}
        shown = {n: MASKED_HEADERS.get(n, headers[n]) for n in MCP_HEADERS if n in headers}
        body = _mask(json.loads(r["body"])) if r["body"] else None
        what = body.get("method", "reply") if isinstance(body, dict) else "-"
        lines.append(f"{r['method']} {what} {json.dumps(shown, sort_keys=True)} {json.dumps(body, sort_keys=True)}")
    return lines


def httpx_side(url: str, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    settings = _settings(SETTINGS)
    out = {}
    with Client(ClientConfig(url=url, reinitialize=True)) as client:
        for name in names:
            conv = client.session()
            settings.rng = random.Random(name)
            settings.elapsed = scenarios.clock_from(time.monotonic())
            try:
                scenarios.SCENARIOS[name](conv, settings)
            finally:
                conv.close()
            out[name] = record(conv.core)
    return out


def test_every_scenario_sends_the_same_exchanges_through_both_drivers(server_factory) -> None:
    server = server_factory(idle_timeout=IDLE_TIMEOUT)
    names = list(scenarios.SCENARIOS)
    load = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "load_flows.py"), server.url, json.dumps(SETTINGS), *names],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert load.returncode == 0, load.stderr[-3000:]
    loaded = json.loads(load.stdout.strip().splitlines()[-1])
    assert loaded["failures"] == [], loaded["failures"]
    mine = httpx_side(server.url, names)
    for name in names:
        a, b = normalised(mine[name]), normalised(loaded["exchanges"][name])
        diff = "\n".join(difflib.unified_diff(a, b, "httpx driver", "Locust driver", lineterm=""))
        assert a == b, f"{name}:\n{diff}"
    methods = {name: [line.split(" ", 2)[1] for line in normalised(mine[name])] for name in names}
    assert "reply" in methods["elicitation"] and "reply" in methods["sampling"]  # the round trips happened
    assert methods["idle_call"].count("initialize") == 2  # the 404 and the session opened again
    assert methods["hold"].count("ping") == 2 and "DELETE" not in " ".join(methods["churn"])
    assert server.open_sessions() <= 1  # only churn's abandoned session


def test_the_mask_hides_only_what_differs_between_runs() -> None:
    record = {
        "method": "POST",
        "headers": {"Mcp-Session-Id": "abc", "Accept": "application/json, text/event-stream", "User-Agent": "x"},
        "body": json.dumps(
            {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"_meta": {"progressToken": "s1-p7"}}}
        ),
    }
    (line,) = normalised([record])
    assert line.startswith("POST tools/call ")
    assert '"<session>"' in line and '"<id>"' in line and '"<progressToken>"' in line and "User-Agent" not in line
