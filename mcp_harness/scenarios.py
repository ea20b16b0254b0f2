"""Session flows written once, over the session API both drivers offer (`SessionAPI`: driver.Conversation for
the conformance checks, locust_driver.LoadConversation for load): the checks call a flow and assert on what they
saw; a load scenario (SCENARIOS) is a flow framed by its session's start and end, and the locustfile only maps
scenario names to weights. tests/test_scenarios.py runs every scenario through both drivers and compares the
wire exchanges.

Waits go through `time.sleep`, which under Locust is gevent's (Locust patches the process), so a waiting flow
yields to the other users; chance comes from the settings' own `rng`, so that a seeded run draws the same.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mcp_harness import core
from mcp_harness.profile import ToolSpec

if TYPE_CHECKING:
    from mcp_harness.driver import Conversation

SOAK_LIMIT_S = 24 * 3600.0  # a soak session's bound when no duration is set (Locust normally stops it first)


class SessionAPI(Protocol):
    """What a session offers a flow, whatever drives it."""

    core: core.Session

    def initialize(self, version: str | None = None, *, initialized: bool = True) -> Any: ...

    def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, progress: bool = False, read_on: bool = False
    ) -> core.Exchange: ...

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, progress: bool = False) -> Any: ...

    def notify(self, method: str, params: Mapping[str, Any] | None = None) -> core.Exchange: ...

    def open_stream(self) -> object: ...

    def messages(self) -> Iterator[tuple[core.Exchange, core.Message]]: ...

    def delete(self) -> core.Exchange: ...

    def abandon(self) -> None: ...


def clock_from(start: float) -> Callable[[], float]:
    """Seconds since `start` (a `time.monotonic()` reading): a run's clock for `Settings.elapsed`."""
    return lambda: time.monotonic() - start


@dataclass
class Settings:
    """What the scenarios take beside the session: the tools of each role and the [load] timings."""

    tools: Mapping[str, ToolSpec]
    think_time: float = 0.0  # soak: seconds between calls (1 when 0)
    ping_interval: float = 30.0  # hold: seconds between pings …
    hold: float = 60.0  # … for this long
    churn_abandon: float = 0.1  # churn: the fraction of sessions left open on purpose
    idle: float = 3.0  # idle_call: seconds idle before the call
    limit: float = SOAK_LIMIT_S  # soak: seconds from the run's start after which the session ends
    elapsed: Callable[[], float] = field(default_factory=lambda: clock_from(time.monotonic()))  # s since run start
    quiet_for: Callable[[float], float] = field(default=lambda _: 0.0)  # soak: the shape's silent gap at a time
    rng: random.Random = field(default_factory=random.Random)  # hold's phase, churn's abandonment


# --- flows over an initialized session: the checks call these ---------------------------------------------


def call_tool(conv: SessionAPI, tool: ToolSpec, *, progress: bool = False, read_on: bool = False) -> core.Exchange:
    """One tools/call with the tool's arguments (given, built from its schema, or its hints); `read_on`: read the
    call's stream to its end, past the response (what follows the result is evidence too)."""
    arguments = tool.fallback_arguments()
    return conv.request("tools/call", {"name": tool.name, "arguments": arguments}, progress=progress, read_on=read_on)


def elicitation(conv: SessionAPI, tool: ToolSpec) -> core.Exchange:
    """A tool that elicits: the core answers elicitation/create (accept) while the call's stream is open."""
    return call_tool(conv, tool)


def sampling(conv: SessionAPI, tool: ToolSpec) -> core.Exchange:
    """A tool that samples: the core answers sampling/createMessage while the call's stream is open."""
    return call_tool(conv, tool)


def progress(conv: SessionAPI, tool: ToolSpec, *, token: bool = True, read_on: bool = False) -> core.Exchange:
    """A long-running tool, called with a progressToken (or, `token=False`, without one)."""
    return call_tool(conv, tool, progress=token, read_on=read_on)


def slow_call(conv: SessionAPI, tool: ToolSpec) -> core.Exchange:
    """A slow tool's call, waited for to its result."""
    return call_tool(conv, tool)


def idle_call(conv: SessionAPI, tool: ToolSpec, idle: float) -> core.Exchange:
    """Idle for `idle` seconds, then call: past the idle timeout, a 404 (and, where the driver reopens
    sessions, a re-initialization)."""
    time.sleep(idle)
    return call_tool(conv, tool)


def hold(conv: SessionAPI, ping_interval: float, duration: float, rng: random.Random) -> None:
    """The GET stream open and a ping every `ping_interval` (the first at a random phase, so that users do not
    ping in bursts) for `duration` seconds."""
    conv.open_stream()
    end = time.monotonic() + duration
    time.sleep(min(rng.uniform(0, ping_interval), duration))
    while time.monotonic() < end:
        conv.call("ping")
        time.sleep(max(0.0, min(ping_interval, end - time.monotonic())))


def churn(conv: SessionAPI, abandon: bool) -> None:
    """End a short session: DELETE it, or leave it open on purpose (counted by the load driver)."""
    if abandon:
        conv.abandon()
    else:
        conv.delete()


# --- load scenarios: one session each, from initialize to its end ----------------------------------------


def _framed(flow: Callable[[SessionAPI, Settings], object], doc: str) -> Callable[[SessionAPI, Settings], None]:
    """initialize → notifications/initialized → the flow → DELETE."""

    def scenario(conv: SessionAPI, settings: Settings) -> None:
        conv.initialize()
        flow(conv, settings)
        conv.delete()

    scenario.__doc__ = doc
    return scenario


def _churn(conv: SessionAPI, settings: Settings) -> None:
    """A short session: DELETEd, or (churn_abandon of them) abandoned and counted."""
    conv.initialize()
    churn(conv, settings.rng.random() < settings.churn_abandon)


def _soak(conv: SessionAPI, settings: Settings) -> None:
    """One long-lived session per user: a tool call ([tools.call]) every think_time (1 s if 0), silent through
    the soak shape's idle gaps; after a gap longer than the idle timeout the call meets a 404 and the session is
    re-initialized. Ends with the run (Locust stops the user), or after the run's duration at most."""
    conv.initialize()
    pause = settings.think_time or 1.0
    while settings.elapsed() < settings.limit:
        call_tool(conv, settings.tools["call"])
        time.sleep(pause + settings.quiet_for(settings.elapsed() + pause))
    conv.delete()


SCENARIOS: dict[str, Callable[[SessionAPI, Settings], None]] = {
    "handshake": _framed(lambda c, s: None, "initialize → notifications/initialized → DELETE."),
    "tool_call": _framed(lambda c, s: call_tool(c, s.tools["call"]), "One tools/call ([tools.call])."),
    "elicitation": _framed(
        lambda c, s: elicitation(c, s.tools["elicitation"]),
        "A tool that elicits: elicitation/create is answered (accept) while the call's stream is open.",
    ),
    "sampling": _framed(
        lambda c, s: sampling(c, s.tools["sampling"]),
        "A tool that samples: sampling/createMessage is answered while the call's stream is open.",
    ),
    "progress": _framed(
        lambda c, s: progress(c, s.tools["progress"]),
        "A long-running tool called with a progressToken; its notifications are counted and spaced.",
    ),
    "slow_call": _framed(lambda c, s: slow_call(c, s.tools["slow"]), "A slow tool's call ([tools.slow])."),
    "churn": _churn,
    "idle_call": _framed(
        lambda c, s: idle_call(c, s.tools["call"], s.idle),
        "Idle for `idle` seconds, then call: past the idle timeout, a 404 and a re-initialization.",
    ),
    "hold": _framed(
        lambda c, s: hold(c, s.ping_interval, s.hold, s.rng),
        "A held session: its GET stream open and a ping every `ping_interval`, for `hold` seconds.",
    ),
    "soak": _soak,
}
# scenario → the tool role it calls ([tools.<role>]); the others (handshake, churn, hold) call none
ROLES = {
    "tool_call": "call",
    "soak": "call",
    "idle_call": "call",
    "elicitation": "elicitation",
    "sampling": "sampling",
    "progress": "progress",
    "slow_call": "slow",
}


# --- helpers for the checks ------------------------------------------------------------------------------


def list_tools(conv: SessionAPI) -> dict[str, dict[str, Any]]:
    """name → tool definition, following pagination (bounded)."""
    tools: dict[str, dict[str, Any]] = {}
    cursor = None
    for _ in range(20):
        result = conv.call("tools/list", {"cursor": cursor} if cursor else None)
        tools.update({t["name"]: t for t in result.get("tools", []) if isinstance(t, dict) and "name" in t})
        cursor = result.get("nextCursor")
        if not cursor:
            break
    return tools


def modern_tools(conv: Any) -> tuple[dict[str, dict[str, Any]], core.Exchange]:
    """name → tool definition of the first page of a 2026-07-28 `tools/list` ({} when there is none), and its
    exchange."""
    ex = conv.modern("tools/list")
    tools = core.as_object(conv.core.answer(ex).get("result")).get("tools")
    listed = tools if isinstance(tools, list) else []
    return {t["name"]: t for t in listed if isinstance(t, dict) and isinstance(t.get("name"), str)}, ex


def result_text(result: dict[str, Any]) -> str:
    """The text content of a CallToolResult, joined."""
    content = result.get("content")
    items = content if isinstance(content, list) else []  # a wrong type is the schema check's to name
    parts = [str(c.get("text", "")) for c in items if isinstance(c, dict) and c.get("type") == "text"]
    return "\n".join(parts) if parts else json.dumps(result)[:200]


def raw_post(conv: Conversation, message: dict[str, Any], **header_changes: str | None) -> core.Exchange:
    """POST `message` with the session's usual headers, changed as given (None removes a header)."""
    headers = conv.core.headers()
    for name, value in header_changes.items():
        name = name.replace("_", "-")
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        if value is not None:
            headers[name] = value
    return conv.raw("POST", headers, message)


def harmless_request(conv: SessionAPI, method: str = "tools/list") -> dict[str, Any]:
    """A harmless request message with a fresh id (tools/list: every tool server answers it)."""
    return {"jsonrpc": "2.0", "id": conv.core.next_id(), "method": method}


def server_requests(conv: SessionAPI, method: str) -> list[tuple[core.Exchange, dict[str, Any]]]:
    """Every server→client request of `method` the session received, with the exchange it came on."""
    return [(ex, m) for ex, m in conv.messages() if m.get("method") == method and "id" in m]


def notifications(conv: SessionAPI, method: str) -> list[tuple[core.Exchange, dict[str, Any]]]:
    return [(ex, m) for ex, m in conv.messages() if m.get("method") == method and "id" not in m]
