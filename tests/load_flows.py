"""Run scenarios through the Locust driver, outside a Locust run, and print every exchange sent as JSON.

    python tests/load_flows.py URL SETTINGS_JSON NAME [NAME …]

tests/test_scenarios.py runs the same scenarios through the httpx driver and compares the two. This runs in its
own process because importing locust monkey-patches the process (gevent). The session records are kept whole
(`Session.prune`, which a long-lived load session calls before each step, is turned off here).
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

import locust  # noqa: F401  (gevent's monkey-patching, as under Locust)
from exchange_record import record  # this script's folder is on sys.path
from locust.contrib.fasthttp import FastHttpSession
from locust.event import EventHook

from mcp_harness import core, scenarios
from mcp_harness.locust_driver import LoadConfig, LocustClient
from mcp_harness.profile import ToolSpec


def main() -> None:
    url, raw, names = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    core.Session.prune = lambda self: None  # type: ignore[method-assign]
    tools = {role: ToolSpec(name, arguments) for role, (name, arguments) in raw.pop("tools").items()}
    settings = scenarios.Settings(tools=tools, **raw)
    failures: list[str] = []

    def fired(**kwargs: Any) -> None:
        if kwargs.get("exception") is not None:
            failures.append(f"{kwargs['request_type']} {kwargs['name']}: {kwargs['exception']}")

    events = EventHook()
    events.add_listener(fired)
    http = FastHttpSession(url, request_event=events, user=None, concurrency=4, network_timeout=10.0)
    client = LocustClient(http, LoadConfig(url=url, timeout=10.0))
    out: dict[str, Any] = {}
    for name in names:
        conv = client.session()
        settings.rng = random.Random(name)  # the same draws as the httpx side's (hold's phase, churn's abandonment)
        settings.elapsed = scenarios.clock_from(time.monotonic())
        try:
            scenarios.SCENARIOS[name](conv, settings)
        finally:
            conv.close()
        out[name] = record(conv.core)
    client.close()
    print(json.dumps({"exchanges": out, "failures": failures}))


if __name__ == "__main__":
    main()
