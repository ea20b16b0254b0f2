"""Locust entry point: concurrent MCP sessions driven by the harness's session core.

    locust -f load/locustfile.py --host http://127.0.0.1:8000/mcp                 # web UI
    SCENARIO=tool_call:3,elicitation locust -f load/locustfile.py --headless -u 20 -r 20 -t 30s \\
        --host http://127.0.0.1:8000/mcp --csv reports/load/run

The host is the MCP endpoint itself: requests go to its path. Each task runs one scenario of
mcp_harness/scenarios.py, the flows the conformance checks run too (over the same session API): one new
session per task, DELETEd at its end — or when the user stops mid-scenario. This file only maps names to
weights. Settings come from the profile's [load] and [tools.*]
tables (MCP_PROFILE), each overridden by its environment variable (mcp_harness.profile.LOAD_KEYS):

    MCP_PROFILE         a target profile (TOML): headers, spec_version, timeout, idle_timeout, [tools.*], [load]
    SCENARIO            name[:weight][,name[:weight]…] of mcp_harness.scenarios.SCENARIOS ([load] scenarios;
                        default tool_call)
    SHAPE               steady | ramp | spike | churn | soak | capacity (load/shapes.py; default: -u/-r/-t)
    MCP_HARNESS_HEADER  one more header, 'Name: value' (as for `make conformance HEADER=…`)
    MCP_CALL_TOOL       the tool of the tool_call scenario ([tools.call] name; default echo) …
    MCP_CALL_ARGS       … and its arguments as JSON ([tools.call] arguments; default {"text": "hello"})
    MCP_TIMEOUT         seconds a step may take, stream and round trips included (default: profile timeout × 3)
    MCP_VALIDATE        fraction of sessions whose messages are schema-validated (default 0.1; 1 costs ~0.6 ms
                        of client CPU per session). Ids, session routing and content types are checked always.
    MCP_THINK_TIME      seconds a user waits between sessions (default 0)
    MCP_PING_INTERVAL   hold: seconds between pings (default 30) …
    MCP_HOLD            … and how long each held session lasts (default 60)
    MCP_CHURN_ABANDON   fraction of churn sessions left open on purpose, counted (default 0.1)
    MCP_IDLE            seconds idle_call stays idle before its call (default 3; exceed the idle timeout)
    MCP_MAX_SESSIONS    cap on sessions open at once over the whole run (divided among MCP_PROCESSES processes)
    MCP_PROCESSES       how many Locust processes generate load (set by load/run.py; default 1)
    MCP_MAX_ERROR_RATE  stop the run when more than this fraction of the last 10 s of requests failed
    MCP_SUMMARY         write the run's counters, CPU time and per-step percentiles to this JSON file
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from locust import FastHttpUser, constant, events

from mcp_harness import load_stats, scenarios
from mcp_harness.load_stats import COUNTERS
from mcp_harness.locust_driver import LoadConfig, LocustClient, ScenarioError
from mcp_harness.profile import (
    LOAD_KEYS,
    ProfileError,
    Target,
    ToolSpec,
    interpolate,
    load_profile,
    merge_headers,
    parse_header,
    start_auth,
)


def _load_shapes() -> Any:
    spec = importlib.util.spec_from_file_location("mcp_harness_load_shapes", Path(__file__).with_name("shapes.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _settings() -> tuple[Target, dict[str, Any], str | None]:
    """The target with every [load] setting, resolved once, and what was wrong with them (the run then ends
    with that line when Locust starts, before any user does: importing this file never exits)."""
    target = Target()
    try:
        if os.environ.get("MCP_PROFILE"):
            target = load_profile(os.environ["MCP_PROFILE"])
        if os.environ.get("MCP_HARNESS_HEADER"):
            name, value = parse_header(os.environ["MCP_HARNESS_HEADER"], "HEADER")
            target.headers = merge_headers(target.headers, {name: interpolate(value, "HEADER")})
        if os.environ.get("MCP_CALL_TOOL") or os.environ.get("MCP_CALL_ARGS"):
            arguments = json.loads(os.environ["MCP_CALL_ARGS"]) if os.environ.get("MCP_CALL_ARGS") else {}
            if not isinstance(arguments, dict):
                raise ProfileError("MCP_CALL_ARGS: expected a JSON object")
            target.tools["call"] = ToolSpec(os.environ.get("MCP_CALL_TOOL") or target.tools["call"].name, arguments)
        load = {name: target.load.get(name) for name in LOAD_KEYS}
        load["soak_limit"] = target.load.given("duration") or scenarios.SOAK_LIMIT_S  # unset: until Locust stops
        if unknown := [name for name in load["scenarios"] or {} if name not in scenarios.SCENARIOS]:
            raise ProfileError(f"scenario {unknown[0]!r} is not one of {', '.join(scenarios.SCENARIOS)}")
        start_auth(target)  # the first token, read once per process
        return target, load, None
    except ProfileError as e:
        error = str(e)
    except json.JSONDecodeError as e:
        error = f"MCP_CALL_ARGS: not JSON ({e})"
    return Target(), {name: spec[1] for name, spec in LOAD_KEYS.items()} | {"soak_limit": 0.0}, error


TARGET, LOAD, SETTINGS_ERROR = _settings()
SHAPES = _load_shapes()
SHAPES.SETTINGS = TARGET.load
STEP_TIMEOUT = float(os.environ.get("MCP_TIMEOUT", TARGET.timeout * 3))
PROCESSES = max(1, int(os.environ.get("MCP_PROCESSES", "1")))
RUN: dict[str, float] = {"start": time.monotonic()}  # reset when the test starts, in every process
SETTINGS = scenarios.Settings(
    tools=TARGET.tools,
    think_time=LOAD["think_time"],
    ping_interval=LOAD["ping_interval"],
    hold=LOAD["hold"],
    churn_abandon=LOAD["churn_abandon"],
    idle=LOAD["idle"],
    limit=LOAD["soak_limit"],
    elapsed=lambda: time.monotonic() - RUN["start"],
    quiet_for=SHAPES.quiet_for,
)


def _tasks(weights: dict[str, int] | None) -> dict[Callable[[MCPUser], None], int]:
    """scenarios.SCENARIOS by name, each with its weight ([load] scenarios / SCENARIO; default tool_call)."""
    weights = weights or {"tool_call": 1}
    return {_task(name): weight for name, weight in weights.items() if name in scenarios.SCENARIOS}


def _task(name: str) -> Callable[[MCPUser], None]:
    def run(user: MCPUser) -> None:
        user.run_scenario(scenarios.SCENARIOS[name])

    run.__name__ = name
    return run


# --- the user ---------------------------------------------------------------------------------------


class MCPUser(FastHttpUser):
    """One simulated MCP client: sessions one after another, each running one scenario."""

    wait_time = constant(LOAD["think_time"])
    tasks: ClassVar[dict[Callable[[MCPUser], None], int]] = _tasks(LOAD["scenarios"])
    # The step deadline governs; a socket read may wait as long (a slow tool's stream can be silent).
    network_timeout = STEP_TIMEOUT
    connection_timeout = 10.0
    concurrency = 4  # a call's open stream, the replies to the server's requests on it, a DELETE

    def on_start(self) -> None:
        config = LoadConfig(
            url=str(self.host),
            timeout=STEP_TIMEOUT,
            requested_version=TARGET.spec_version,
            headers=dict(TARGET.headers),
            validate=LOAD["validate"],
            max_sessions=max(1, LOAD["max_sessions"] // PROCESSES) if LOAD["max_sessions"] else None,
            idle_timeout=TARGET.idle_timeout or (TARGET.front.idle_timeout if TARGET.front else None),
            auth=TARGET.auth,
            front=TARGET.front,
            limits=TARGET.limits,
        )
        self.mcp = LocustClient(self.client, config)

    def on_stop(self) -> None:
        if hasattr(self, "mcp"):
            self.mcp.close()

    def run_scenario(self, scenario: Callable[[scenarios.SessionAPI, scenarios.Settings], None]) -> None:
        SHAPES.PACER.admit()  # SHAPE=capacity: arrivals are paced across users; otherwise at once
        conv = self.mcp.session()
        try:
            scenario(conv, SETTINGS)
            COUNTERS.sessions_completed += 1
        except ScenarioError:
            pass  # the failed step is in the stats already
        finally:
            conv.close()


# --- the run's shape (SHAPE=…): only the chosen class may be visible here, Locust takes the first -------

if LOAD["shape"]:
    Shape = SHAPES.SHAPES[LOAD["shape"]]


@events.init.add_listener
def _refuse_bad_settings(**_: Any) -> None:
    if SETTINGS_ERROR is not None:
        sys.exit(f"load: {SETTINGS_ERROR}")


@events.test_start.add_listener
def _started(**_: Any) -> None:
    RUN["start"] = time.monotonic()


load_stats.install_summary(events, os.environ.get("MCP_SUMMARY"))
load_stats.install_error_guard(events, LOAD["max_error_rate"])
