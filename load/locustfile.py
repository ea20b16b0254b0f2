"""Locust entry point: concurrent MCP sessions driven by the harness's session core.

    locust -f load/locustfile.py --host http://127.0.0.1:8000/mcp                 # web UI
    SCENARIO=tool_call:3,elicitation locust -f load/locustfile.py --headless -u 20 -r 20 -t 30s \\
        --host http://127.0.0.1:8000/mcp --csv reports/load/run

The host is the MCP endpoint itself: requests go to its path. Each task runs one scenario, a plain function
over the session API (the same API the conformance driver offers): one new session per task, DELETEd at
its end — or when the user stops mid-scenario. Environment variables:

    SCENARIO            name[:weight][,name[:weight]…] from SCENARIOS below (default tool_call)
    SHAPE               steady | ramp | spike | churn | soak (load/shapes.py; default: plain -u/-r/-t)
    MCP_PROFILE         a target profile (TOML): headers, spec_version, timeout, tools.progress|elicitation|sampling
    MCP_HARNESS_HEADER  one more header, 'Name: value' (as for `make conformance HEADER=…`)
    MCP_CALL_TOOL       the tool of the tool_call scenario (default echo) …
    MCP_CALL_ARGS       … and its arguments as JSON (default {"text": "hello"})
    MCP_TIMEOUT         seconds a step may take, stream and round trips included (default: profile timeout × 3)
    MCP_VALIDATE        fraction of sessions whose messages are schema-validated (default 0.1; 1 costs ~0.6 ms
                        of client CPU per session). Ids, session routing and content types are checked always.
    MCP_THINK_TIME      seconds a user waits between sessions (default 0)
    MCP_CHURN_ABANDON   fraction of churn sessions left open on purpose, counted (default 0.1)
    MCP_IDLE            seconds idle_call stays idle before its call (default 3; exceed the idle timeout)
    MCP_SUMMARY         write the run's counters, CPU time and per-step percentiles to this JSON file
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import gevent
from locust import FastHttpUser, constant, events

from mcp_harness import locust_driver
from mcp_harness.locust_driver import COUNTERS, LoadConfig, LoadConversation, LocustClient, ScenarioError
from mcp_harness.profile import ProfileError, Target, load_profile, merge_headers, parse_header


def _settings() -> Target:
    target = Target()
    try:
        if os.environ.get("MCP_PROFILE"):
            target = load_profile(os.environ["MCP_PROFILE"])
        if os.environ.get("MCP_HARNESS_HEADER"):
            header = parse_header(os.environ["MCP_HARNESS_HEADER"], "MCP_HARNESS_HEADER")
            target.headers = merge_headers(target.headers, dict([header]))
    except ProfileError as e:
        sys.exit(f"load: {e}")
    return target


TARGET = _settings()
CALL_TOOL = os.environ.get("MCP_CALL_TOOL", "echo")
CALL_ARGS: dict[str, Any] = json.loads(os.environ.get("MCP_CALL_ARGS", '{"text": "hello"}'))
STEP_TIMEOUT = float(os.environ.get("MCP_TIMEOUT", TARGET.timeout * 3))
CHURN_ABANDON = float(os.environ.get("MCP_CHURN_ABANDON", "0.1"))
IDLE = float(os.environ.get("MCP_IDLE", "3"))


# --- scenarios: plain functions over the session API (driver.Conversation or LoadConversation) ---------


def _call(conv: LoadConversation, role: str, *, progress: bool = False) -> Any:
    tool = TARGET.tools[role]
    return conv.call("tools/call", {"name": tool.name, "arguments": tool.arguments}, progress=progress)


def handshake(conv: LoadConversation) -> None:
    """initialize → notifications/initialized → DELETE."""
    conv.initialize()
    conv.delete()


def tool_call(conv: LoadConversation) -> None:
    """initialize → notifications/initialized → one tools/call → DELETE."""
    conv.initialize()
    conv.call("tools/call", {"name": CALL_TOOL, "arguments": CALL_ARGS})
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
    """A long-running tool called with a progressToken; its notifications are counted."""
    conv.initialize()
    _call(conv, "progress", progress=True)
    conv.delete()


def churn(conv: LoadConversation) -> None:
    """A short session: DELETEd, or (MCP_CHURN_ABANDON of them) abandoned and counted."""
    conv.initialize()
    if random.random() < CHURN_ABANDON:
        conv.abandon()
    else:
        conv.delete()


def idle_call(conv: LoadConversation) -> None:
    """Idle for MCP_IDLE seconds, then call: past the idle timeout, a 404 and a re-initialisation."""
    conv.initialize()
    gevent.sleep(IDLE)
    conv.call("tools/call", {"name": CALL_TOOL, "arguments": CALL_ARGS})
    conv.delete()


SCENARIOS: dict[str, Callable[[LoadConversation], None]] = {
    f.__name__: f for f in (handshake, tool_call, elicitation, sampling, progress, churn, idle_call)
}


def _weights(spec: str) -> dict[str, int]:
    chosen: dict[str, int] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, weight = item.partition(":")
        if name not in SCENARIOS or (weight and not weight.isdigit()):
            sys.exit(f"load: SCENARIO {item!r}: expected name[:weight] with a name from {', '.join(SCENARIOS)}")
        chosen[name] = int(weight or 1)
    return chosen or {"tool_call": 1}


def _tasks(spec: str) -> dict[Callable[[MCPUser], None], int]:
    return {_task(SCENARIOS[name]): weight for name, weight in _weights(spec).items()}


def _task(scenario: Callable[[LoadConversation], None]) -> Callable[[MCPUser], None]:
    def run(user: MCPUser) -> None:
        user.run_scenario(scenario)

    run.__name__ = scenario.__name__
    return run


# --- the user ---------------------------------------------------------------------------------------


class MCPUser(FastHttpUser):
    """One simulated MCP client: sessions one after another, each running one scenario."""

    wait_time = constant(float(os.environ.get("MCP_THINK_TIME", "0")))
    tasks: ClassVar[dict[Callable[[MCPUser], None], int]] = _tasks(os.environ.get("SCENARIO", ""))
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
            validate=float(os.environ.get("MCP_VALIDATE", "0.1")),
        )
        self.mcp = LocustClient(self.client, config)

    def on_stop(self) -> None:
        if hasattr(self, "mcp"):
            self.mcp.close()

    def run_scenario(self, scenario: Callable[[LoadConversation], None]) -> None:
        conv = self.mcp.session()
        try:
            scenario(conv)
            COUNTERS.sessions_completed += 1
        except ScenarioError:
            pass  # the failed step is in the stats already
        finally:
            conv.close()


# --- the run's shape (SHAPE=…): only the chosen class may be visible here, Locust takes the first -------


def _load_shapes() -> Any:
    spec = importlib.util.spec_from_file_location("mcp_harness_load_shapes", Path(__file__).with_name("shapes.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if os.environ.get("SHAPE"):
    _shapes = _load_shapes()
    if os.environ["SHAPE"] not in _shapes.SHAPES:
        sys.exit(f"load: SHAPE {os.environ['SHAPE']!r}: expected one of {', '.join(_shapes.SHAPES)}")
    Shape = _shapes.SHAPES[os.environ["SHAPE"]]


locust_driver.install_summary(events, os.environ.get("MCP_SUMMARY"))
