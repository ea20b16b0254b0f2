"""One record per exchange a session sent (HTTP method, headers, body), as tests/test_scenarios.py compares them
between the two drivers; tests/load_flows.py (its own process) prints the same records."""

from __future__ import annotations

from typing import Any

from mcp_harness import core


def record(session: core.Session) -> list[dict[str, Any]]:
    return [
        {"method": ex.http.method, "headers": dict(ex.http.headers), "body": (ex.http.body or b"").decode() or None}
        for ex in session.exchanges
    ]
