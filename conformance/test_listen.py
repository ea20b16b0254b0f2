"""`subscriptions/listen`, 2026-07-28 (basic/patterns/subscriptions): the streams that replace a session's GET
stream. A stream is opened for a notification filter, a tool that publishes a change is called on another request
(the profile's [tools.listen], else the reference server's `test_tools_list_changed`), and what the stream carried
is judged: the acknowledgement first, every frame tagged with the listen's id, nothing that was not asked for.
"""

from __future__ import annotations

import time
from typing import Any

from mcp_harness import core
from mcp_harness.driver import Conversation, HarnessError, Stream
from mcp_harness.instances import Unsatisfiable, tool_arguments
from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import modern_tools

ACK = "notifications/subscriptions/acknowledged"
CHANGED = "notifications/tools/list_changed"
SUBSCRIPTION = core.META + "subscriptionId"
DELIVERY = 3.0  # seconds a notification may take from the publishing call to the stream


def listen_id(stream: Stream) -> Any:
    return stream.exchange.request_id


def notifications(stream: Stream) -> list[dict[str, Any]]:
    return [m for m in list(stream.exchange.messages) if "method" in m and "id" not in m]


def opened(h: Harness, conv: Conversation, wanted: dict[str, Any]) -> Stream:
    """A listen stream for `wanted`, open and acknowledged (or given up after the read timeout)."""
    stream = conv.listen(wanted)
    stream.wait_open(h.target.timeout)
    if stream.exchange.status is None:  # no answer at all: the server is gone, the check could not complete
        raise HarnessError(f"subscriptions/listen got no answer: {stream.error or 'no response in time'}")
    if not stream.live:
        answer = conv.core.answer(stream.exchange)
        h.not_testable(f"subscriptions/listen was answered HTTP {stream.exchange.status} {answer.get('error', '')}")
    ends = time.monotonic() + h.target.timeout
    while not notifications(stream) and time.monotonic() < ends and stream.is_alive():
        time.sleep(0.05)
    return stream


def publish(h: Harness, conv: Conversation, streams: list[Stream]) -> str:
    """Call the tool that publishes a tools/list_changed; wait until every stream given has one (or DELIVERY)."""
    spec = h.target.tools["listen"]
    tools, _ = modern_tools(conv)
    if spec.name not in tools:
        h.not_testable(
            f"no tool publishes a change to trigger the stream: name one in [tools.listen] ({spec.name!r} "
            "is not listed)"
        )
    try:
        arguments = spec.arguments if spec.arguments is not None else tool_arguments(tools[spec.name], spec.hints, True)
    except Unsatisfiable as e:
        h.not_testable(f"no valid arguments for the listen trigger {spec.name!r} could be built: {e}")
    call = conv.modern("tools/call", {"name": spec.name, "arguments": arguments})
    result = core.as_object(conv.core.answer(call).get("result"))
    if result.get("resultType") != "complete" or result.get("isError"):
        h.not_testable(f"the listen trigger {spec.name} did not complete: HTTP {call.status} {result or ''}")
    ends = time.monotonic() + DELIVERY
    while time.monotonic() < ends and not all(any(n["method"] == CHANGED for n in notifications(s)) for s in streams):
        time.sleep(0.05)
    return spec.name


def close(*streams: Stream) -> None:
    """Close the streams without waiting long for their readers: a reader blocked on a silent stream lets go only
    when the check's client closes, and what it read so far is all that is judged."""
    for stream in streams:
        stream.stop(timeout=0.2)


@check("stateless.subs.ack-first")
def test_listen_acknowledged_first(h: Harness) -> None:
    conv = h.session(initialize=False, label="listen")
    stream = opened(h, conv, {"toolsListChanged": True})
    close(stream)
    seen = notifications(stream)
    h.require(bool(seen), f"no message on the listen stream within {h.target.timeout:g}s")
    first = seen[0]
    h.require(first["method"] == ACK, f"the first message is {first['method']}, not {ACK}")
    tagged = core.as_object(core.as_object(first.get("params")).get("_meta")).get(SUBSCRIPTION)
    h.require(
        tagged == listen_id(stream),
        f"the acknowledgement's subscriptionId {tagged!r} is not the listen's id {listen_id(stream)!r}",
    )
    h.observe(f"{ACK} first, subscriptionId {tagged!r}")


@check("stateless.meta.subscription-id")
def test_listen_frames_tagged(h: Harness) -> None:
    conv = h.session(initialize=False, label="listen")
    stream = opened(h, conv, {"toolsListChanged": True})
    trigger = publish(h, conv, [stream])
    close(stream)
    seen = notifications(stream)
    if not any(n["method"] == CHANGED for n in seen):
        h.not_testable(f"{trigger} was called, yet no {CHANGED} came within {DELIVERY:g}s: nothing to judge")
    wrong = [
        f"{n['method']} ({core.as_object(core.as_object(n.get('params')).get('_meta')).get(SUBSCRIPTION)!r})"
        for n in seen
        if core.as_object(core.as_object(n.get("params")).get("_meta")).get(SUBSCRIPTION) != listen_id(stream)
    ]
    h.require(not wrong, f"notifications without the listen's id {listen_id(stream)!r}: {', '.join(wrong)}")
    h.observe(f"{len(seen)} notification(s) after {trigger}, each with subscriptionId {listen_id(stream)!r}")


@check("stateless.subs.only-requested")
def test_listen_gets_only_what_it_asked(h: Harness) -> None:
    conv = h.session(initialize=False, label="listen")
    asked = opened(h, conv, {"toolsListChanged": True})
    other = opened(h, conv, {"promptsListChanged": True})
    trigger = publish(h, conv, [asked])
    time.sleep(0.2)  # what the other stream would get comes with the first
    close(asked, other)
    if not any(n["method"] == CHANGED for n in notifications(asked)):
        h.not_testable(f"{trigger} was called, yet the stream that asked for tools changes got no {CHANGED}")
    unasked = [
        n["method"] for n in notifications(other) if n["method"] not in (ACK, "notifications/prompts/list_changed")
    ]
    h.require(not unasked, f"a stream that asked only for prompt list changes got {', '.join(unasked)}")
    h.observe(f"after {trigger}: {CHANGED} on the stream that asked for it, nothing on the one that did not")
