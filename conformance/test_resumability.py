"""Resuming a dropped SSE stream with Last-Event-ID (basic/transports § Resumability and Redelivery)."""

from __future__ import annotations

import threading
import time
from typing import Any

from mcp_harness import core
from mcp_harness.driver import Conversation
from mcp_harness.plugin import Harness, check

OTHER_STREAM_WAIT = 2.0  # seconds, at most, for the other call to send two more messages


def _related(message: dict[str, Any], ex: core.Exchange) -> bool:
    """Whether `message` belongs to the call carried by `ex` (its response or its progress)."""
    token = ex.message["params"]["_meta"]["progressToken"]
    if message.get("id") == ex.request_id and "method" not in message:
        return True
    return (message.get("params") or {}).get("progressToken") == token


def dropped_and_resumed(h: Harness) -> tuple[Conversation, core.Exchange, core.Exchange, core.Exchange]:
    """Two slow calls on one session; the first's stream is dropped after its first message and resumed."""
    s = h.session(client=h.quick_client())  # a resumed stream may stay open once it has replayed what it had
    spec = h.tool("slow", s)
    params = {"name": spec.name, "arguments": spec.arguments}
    dropped = s.core.request("tools/call", params, progress=True)
    other = s.core.request("tools/call", params, progress=True)
    runner = threading.Thread(target=s.send, args=(other,), kwargs={"stop_at_response": False})
    runner.start()
    s.send(dropped, stop_when=lambda ex: bool(ex.messages) and ex.sse is not None and ex.sse.last_event_id is not None)
    last = dropped.sse.last_event_id if dropped.sse else None
    if last is None:
        runner.join(h.target.timeout * 2)
        h.not_testable("the server puts no ids on its SSE events: streams cannot be resumed")
    # Let the other stream move on past the drop, so that a replay mixing streams would have its events to mix.
    seen = len(other.messages)
    deadline = time.monotonic() + OTHER_STREAM_WAIT
    while len(other.messages) < seen + 2 and runner.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    get = s.core.stream(last)
    get.resumes = dropped
    s.send(get, stop_when=lambda _: dropped.request_id in s.core.responses)
    runner.join(h.target.timeout * 2)
    return s, dropped, other, get


@check("transport.resume.no-cross-stream-replay")
def test_no_other_streams_messages_replayed(h: Harness) -> None:
    _, dropped, other, get = dropped_and_resumed(h)
    h.require(get.status == 200 or get.status == 405, f"the resuming GET was answered HTTP {get.status}")
    foreign = [m for m in get.messages if _related(m, other)]
    h.require(not foreign, f"the resumed stream replayed {len(foreign)} message(s) of another stream")
    mine = [m for m in get.messages if _related(m, dropped)]
    h.observe(f"resumed after event {get.http.headers.get('Last-Event-ID')!r}: {len(mine)} message(s) of its own")


@check("transport.resume.replay")
def test_missed_messages_redelivered(h: Harness) -> None:
    s, dropped, _, get = dropped_and_resumed(h)
    answered = dropped.request_id in s.core.responses
    mine = [m for m in get.messages if _related(m, dropped)]
    h.info(
        f"the resuming GET got HTTP {get.status} and {len(mine)} message(s) of the dropped stream; "
        + ("its result among them" if answered else "not its result")
    )
