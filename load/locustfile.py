"""Locust entry point: concurrent MCP sessions driven by the harness's session core.

    locust -f load/locustfile.py --host http://127.0.0.1:8000/mcp                 # web UI
    SCENARIO=tool_call:3,elicitation locust -f load/locustfile.py --headless -u 20 -r 20 -t 30s \\
        --host http://127.0.0.1:8000/mcp --csv reports/load/run

The host is the MCP endpoint itself: requests go to its path. Each task runs one scenario, a plain function
over the session API (the same API the conformance driver offers): one new session per task, DELETEd at
its end — or when the user stops mid-scenario. Settings come from the profile's [load] and [tools.*]
tables (MCP_PROFILE), each overridden by its environment variable (mcp_harness.profile.LOAD_KEYS):

    MCP_PROFILE         a target profile (TOML): headers, spec_version, timeout, idle_timeout, [tools.*], [load]
    SCENARIO            name[:weight][,name[:weight]…] from SCENARIOS below ([load] scenarios; default tool_call)
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
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import gevent
from locust import FastHttpUser, constant, events

from mcp_harness import locust_driver
from mcp_harness.locust_driver import COUNTERS, LoadConfig, LoadConversation, LocustClient, ScenarioError
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


def _settings() -> tuple[Target, dict[str, Any]]:
    """The target and every [load] setting, resolved once: a bad value ends the run before it starts."""
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
        start_auth(target)  # the first token, read once per process
        return target, {name: target.load.get(name) for name in LOAD_KEYS}
    except ProfileError as e:
        sys.exit(f"load: {e}")
    except json.JSONDecodeError as e:
        sys.exit(f"load: MCP_CALL_ARGS: not JSON ({e})")


TARGET, LOAD = _settings()
SHAPES = _load_shapes()
SHAPES.SETTINGS = TARGET.load
STEP_TIMEOUT = float(os.environ.get("MCP_TIMEOUT", TARGET.timeout * 3))
PROCESSES = max(1, int(os.environ.get("MCP_PROCESSES", "1")))
SOAK_LIMIT_S = 24 * 3600.0  # a soak session's bound when no duration is set (Locust normally stops it first)
RUN: dict[str, float] = {"start": time.monotonic()}  # reset when the test starts, in every process


# --- scenarios: plain functions over the session API (driver.Conversation or LoadConversation) ---------


def _call(conv: LoadConversation, role: str, *, progress: bool = False) -> Any:
    tool = TARGET.tools[role]
    return conv.call("tools/call", {"name": tool.name, "arguments": tool.fallback_arguments()}, progress=progress)


def handshake(conv: LoadConversation) -> None:
    """initialize → notifications/initialized → DELETE."""
    conv.initialize()
    conv.delete()


def tool_call(conv: LoadConversation) -> None:
    """initialize → notifications/initialized → one tools/call ([tools.call]) → DELETE."""
    conv.initialize()
    _call(conv, "call")
    conv.delete()


def elicitation(conv: LoadConversation) -> None:
    """A tool that elicits: the elicitation/create is answered (accept) while the call's stream is open."""
    conv.initialize()
    _call(conv, "elicitation")
    conv.delete()


def sampling(conv: LoadConversation) -> None:
    """A tool that samples: sampling/createMessage is answered while the call's stream is open."""
    conv.initialize()
    _call(conv, "sampling")
    conv.delete()


def progress(conv: LoadConversation) -> None:
    """A long-running tool called with a progressToken; its notifications are counted and spaced."""
    conv.initialize()
    _call(conv, "progress", progress=True)
    conv.delete()


def churn(conv: LoadConversation) -> None:
    """A short session: DELETEd, or (churn_abandon of them) abandoned and counted."""
    conv.initialize()
    if random.random() < LOAD["churn_abandon"]:
        conv.abandon()
    else:
        conv.delete()


def idle_call(conv: LoadConversation) -> None:
    """Idle for `idle` seconds, then call: past the idle timeout, a 404 and a re-initialisation."""
    conv.initialize()
    gevent.sleep(LOAD["idle"])
    _call(conv, "call")
    conv.delete()


def hold(conv: LoadConversation) -> None:
    """A held session: its GET stream open and a ping every `ping_interval` (first at a random phase, so
    users do not ping in bursts), for `hold` seconds, then DELETE."""
    conv.initialize()
    conv.open_stream()
    interval = LOAD["ping_interval"]
    end = time.monotonic() + LOAD["hold"]
    gevent.sleep(min(random.uniform(0, interval), LOAD["hold"]))
    while time.monotonic() < end:
        conv.call("ping")
        gevent.sleep(max(0.0, min(interval, end - time.monotonic())))
    conv.delete()


def soak(conv: LoadConversation) -> None:
    """One long-lived session per user: a tool call ([tools.call]) every think_time (1 s if 0), silent
    through the soak shape's idle gaps; after a gap longer than the idle timeout the call meets a 404 and
    the session is re-initialized. Ends with the run (Locust stops the user), or after `duration` at most."""
    conv.initialize()
    pause = LOAD["think_time"] or 1.0
    limit = TARGET.load.given("duration") or SOAK_LIMIT_S
    while time.monotonic() - RUN["start"] < limit:
        _call(conv, "call")
        quiet = SHAPES.quiet_for(time.monotonic() - RUN["start"] + pause)
        gevent.sleep(pause + quiet)
    conv.delete()


SCENARIOS: dict[str, Callable[[LoadConversation], None]] = {
    f.__name__: f for f in (handshake, tool_call, elicitation, sampling, progress, churn, idle_call, hold, soak)
}


def _tasks(weights: dict[str, int] | None) -> dict[Callable[[MCPUser], None], int]:
    weights = weights or {"tool_call": 1}
    if unknown := [name for name in weights if name not in SCENARIOS]:
        sys.exit(f"load: scenario {unknown[0]!r} is not one of {', '.join(SCENARIOS)}")
    return {_task(SCENARIOS[name]): weight for name, weight in weights.items()}


def _task(scenario: Callable[[LoadConversation], None]) -> Callable[[MCPUser], None]:
    def run(user: MCPUser) -> None:
        user.run_scenario(scenario)

    run.__name__ = scenario.__name__
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
        )
        self.mcp = LocustClient(self.client, config)

    def on_stop(self) -> None:
        if hasattr(self, "mcp"):
            self.mcp.close()

    def run_scenario(self, scenario: Callable[[LoadConversation], None]) -> None:
        SHAPES.PACER.admit()  # SHAPE=capacity: arrivals are paced across users; otherwise at once
        conv = self.mcp.session()
        try:
            scenario(conv)
            COUNTERS.sessions_completed += 1
        except ScenarioError:
            pass  # the failed step is in the stats already
        finally:
            conv.close()


# --- the run's shape (SHAPE=…): only the chosen class may be visible here, Locust takes the first -------

if LOAD["shape"]:
    Shape = SHAPES.SHAPES[LOAD["shape"]]


@events.test_start.add_listener
def _started(**_: Any) -> None:
    RUN["start"] = time.monotonic()


locust_driver.install_summary(events, os.environ.get("MCP_SUMMARY"))
locust_driver.install_error_guard(events, LOAD["max_error_rate"])
