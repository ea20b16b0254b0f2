"""Resuming a dropped SSE stream with Last-Event-ID (basic/transports § Resumability and Redelivery)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from mcp_harness import core
from mcp_harness.driver import Conversation, HarnessError
from mcp_harness.plugin import Harness, check

REPLAY_QUIET = 1.0  # seconds of silence after which a resumed stream has replayed what it had


@dataclass
class Resumption:
    """A slow call whose stream was dropped at its first event id, and the GET that resumed it — after two other
    streams had run to their results: another session's call that reuses the dropped call's request id (ids need
    be unique only within a session, so a server that keys its event store by request id alone mixes the two),
    and a second call of the same session."""

    session: Conversation
    dropped: core.Exchange
    twin: core.Exchange  # another session's call, same request id
    sibling: core.Exchange  # the same session's other call
    get: core.Exchange

    @property
    def last_event_id(self) -> str | None:
        return self.get.http.headers.get("Last-Event-ID")

    def whose(self, message: dict[str, Any], own_responses: int) -> str | None:
        """Which other stream `message` belongs to, or None if it may be the dropped call's own."""
        token = core.as_object(message.get("params")).get("progressToken")
        is_response = "method" not in message and "id" in message
        if (token is not None and token == _token(self.twin)) or (is_response and own_responses > 1):
            return f"another session's call that reused request id {self.dropped.request_id!r}"
        if (token is not None and token == _token(self.sibling)) or (
            is_response and message["id"] == self.sibling.request_id
        ):
            return f"this session's other call (request id {self.sibling.request_id!r})"
        return None

    def own(self) -> list[dict[str, Any]]:
        """The messages of the resumed stream that belong to the dropped call (at most its first response)."""
        token = _token(self.dropped)
        mine, answered = [], False
        for m in self.get.messages:
            if core.as_object(m.get("params")).get("progressToken") == token:
                mine.append(m)
            elif "method" not in m and m.get("id") == self.dropped.request_id and not answered:
                mine.append(m)
                answered = True
        return mine


def _token(ex: core.Exchange) -> Any:
    return ex.message["params"]["_meta"]["progressToken"]


def _run_to_result(conv: Conversation, ex: core.Exchange, problems: list[str], who: str) -> None:
    try:
        conv.send(ex)
    except HarnessError as e:
        problems.append(f"{who} did not complete ({e})")


def dropped_and_resumed(h: Harness) -> Resumption:
    """The scenario both checks judge; not-testable when the server gives nothing to resume."""
    s = h.session(client=h.quick_client())  # a resumed stream may stay open once it has replayed what it had
    spec = h.tool("slow", s)
    params = {"name": spec.name, "arguments": spec.arguments}
    dropped = s.core.request("tools/call", params, progress=True)
    s.send(dropped, stop_when=lambda ex: ex.sse is not None and ex.sse.last_event_id is not None)
    last = dropped.sse.last_event_id if dropped.sse else None
    if dropped.content_type != core.SSE:
        h.not_testable(
            f"the {spec.name!r} call was answered HTTP {dropped.status} {dropped.content_type or '(no body)'}, not "
            "with an SSE stream: there is no stream to resume"
        )
    if last is None:
        h.not_testable(f"the server put no id on any SSE event of the {spec.name!r} call: its stream cannot be resumed")
    if dropped.request_id in s.core.responses:
        h.not_testable(
            f"the {spec.name!r} call's stream had delivered its result by event {last!r}, where it was dropped: "
            "nothing was left to resume"
        )
    # Both other streams run to their results before the GET: every event of theirs exists by then.
    other = h.session(client=h.client())
    twin = other.core.request("tools/call", params, progress=True, id=dropped.request_id)
    sibling = s.core.request("tools/call", params, progress=True)
    problems: list[str] = []
    runners = [
        threading.Thread(target=_run_to_result, args=(other, twin, problems, "another session's call")),
        threading.Thread(target=_run_to_result, args=(s, sibling, problems, "the session's second call")),
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(h.target.timeout * 2)
    if problems:
        h.not_testable(f"the streams whose messages must not be replayed did not run to their results: {problems[0]}")
    get = s.core.stream(last)
    get.resumes = dropped
    # Read on past the call's own result, where a foreign one may follow; what is replayed comes in one burst, as
    # every stream had finished, so a short silence ends it (the SDK keeps a resumed stream open for live events).
    s.send(get, stop_at_response=False, quiet=REPLAY_QUIET)
    return Resumption(s, dropped, twin, sibling, get)


def _describe(messages: list[dict[str, Any]], request_id: Any) -> str:
    progress = sum(1 for m in messages if m.get("method") == "notifications/progress")
    answered = any("method" not in m and m.get("id") == request_id for m in messages)
    rest = len(messages) - progress - answered
    parts = [f"{progress} progress notification(s)", "its result" if answered else "not its result"]
    return ", ".join(parts + ([f"{rest} other message(s)"] if rest else []))


@check("transport.resume.no-cross-stream-replay", roles=True)
def test_no_other_streams_messages_replayed(h: Harness) -> None:
    r = dropped_and_resumed(h)
    if r.get.status != 200:
        h.not_testable(f"the resuming GET was answered HTTP {r.get.status}: nothing was replayed to judge")
    foreign: dict[str, int] = {}
    own_responses = 0
    for m in r.get.messages:
        own_responses += "method" not in m and m.get("id") == r.dropped.request_id
        who = r.whose(m, own_responses)
        if who:
            foreign[who] = foreign.get(who, 0) + 1
    h.require(
        not foreign,
        f"the stream resumed after event {r.last_event_id!r} replayed "
        + "; ".join(f"{n} message(s) of {who}" for who, n in foreign.items()),
    )
    h.observe(
        f"resumed after event {r.last_event_id!r}: {len(r.get.messages)} message(s), all of the dropped call "
        f"({_describe(r.own(), r.dropped.request_id)}); none of another session's call with the same request id "
        "or of the session's other call, both finished before the GET"
    )


@check("transport.resume.replay", roles=True)
def test_missed_messages_redelivered(h: Harness) -> None:
    r = dropped_and_resumed(h)
    h.info(
        f"the call was unanswered when its stream was dropped after event {r.last_event_id!r}; the resuming GET got "
        f"HTTP {r.get.status} and {_describe(r.own(), r.dropped.request_id)} of the dropped call"
    )
