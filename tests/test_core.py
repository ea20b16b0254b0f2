"""The session core, sans-IO: messages, correlation, handlers, progress, session state."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_harness import core, schema

V = "2025-11-25"
INIT_RESULT = {
    "protocolVersion": V,
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "test-server", "version": "1.0"},
}


def sse(*messages: dict, ids: bool = False) -> bytes:
    out = []
    for i, m in enumerate(messages):
        out.append((f"id: e{i}\n" if ids else "") + f"event: message\ndata: {json.dumps(m)}\n\n")
    return "".join(out).encode()


def answer(
    session: core.Session,
    ex: core.Exchange,
    body: bytes,
    *,
    content_type: str = core.SSE,
    status: int = 200,
    headers: dict | None = None,
) -> list[core.Event]:
    events = session.receive_start(ex, status, {"Content-Type": content_type, **(headers or {})})
    events += session.receive_data(ex, body)
    return events + session.receive_end(ex)


def progress_note(token: str | int, progress: float, **extra: object) -> dict:
    params = {"progressToken": token, "progress": progress, **extra}
    return {"jsonrpc": "2.0", "method": "notifications/progress", "params": params}


def initialized_session(**kwargs) -> core.Session:
    s = core.Session(**kwargs)
    ex = s.initialize()
    answer(
        s, ex, sse({"jsonrpc": "2.0", "id": ex.request_id, "result": INIT_RESULT}), headers={"MCP-Session-Id": "abc123"}
    )
    return s


def test_initialize_sets_session_state() -> None:
    s = initialized_session()
    assert s.session_id == "abc123"
    assert s.protocol_version == V
    assert s.server_info["name"] == "test-server"
    assert s.server_capabilities == {"tools": {}}
    assert s.violations == []


def test_headers_after_initialize_carry_session_and_version() -> None:
    s = initialized_session()
    h = s.headers()
    assert h["MCP-Session-Id"] == "abc123"
    assert h["MCP-Protocol-Version"] == V
    assert h["Accept"] == "application/json, text/event-stream"


def test_session_header_spelling_follows_version() -> None:
    assert core.session_header("2025-06-18") == "Mcp-Session-Id"
    assert core.session_header("2025-11-25") == "MCP-Session-Id"


def test_no_protocol_version_header_for_2025_03_26() -> None:
    s = core.Session(requested_version="2025-03-26")
    ex = s.initialize()
    result = {**INIT_RESULT, "protocolVersion": "2025-03-26"}
    answer(s, ex, sse({"jsonrpc": "2.0", "id": ex.request_id, "result": result}))
    assert "MCP-Protocol-Version" not in s.headers()


def test_initialize_advertises_capabilities_of_its_handlers() -> None:
    s = core.Session(handlers={"ping": lambda p: {}, "sampling/createMessage": core.sample_text})
    body = json.loads(s.initialize().http.body)
    assert body["params"]["capabilities"] == {"sampling": {}}


def test_response_correlated_by_id_json_body() -> None:
    s = initialized_session()
    ex = s.request("tools/list")
    answer(
        s,
        ex,
        json.dumps({"jsonrpc": "2.0", "id": ex.request_id, "result": {"tools": []}}).encode(),
        content_type="application/json",
    )
    assert s.responses[ex.request_id]["result"] == {"tools": []}
    assert s.violations == []


def test_response_with_unknown_id_is_a_violation() -> None:
    s = initialized_session()
    ex = s.request("tools/list")
    answer(s, ex, sse({"jsonrpc": "2.0", "id": 999_999, "result": {"tools": []}}))
    assert [v.rule for v in s.violations] == ["jsonrpc.response.same-id"]
    assert ex.request_id not in s.responses


def test_duplicate_response_is_a_violation() -> None:
    s = initialized_session()
    ex = s.request("tools/list")
    msg = {"jsonrpc": "2.0", "id": ex.request_id, "result": {"tools": []}}
    answer(s, ex, sse(msg, msg))
    assert [v.detail for v in s.violations] == [f"a second response for request id {ex.request_id!r}"]


def test_a_response_sent_again_on_another_stream_is_judged_by_the_rule_it_breaks() -> None:
    """Replayed on a resumption of another stream, it is a cross-stream replay; on a stream that resumes nothing, a
    broadcast; on a resumption of its own stream, nothing (which events follow the Last-Event-ID is the server's)."""
    s = initialized_session()
    dropped, answered = s.request("tools/call", {"name": "slow"}), s.request("tools/list")
    msg = {"jsonrpc": "2.0", "id": answered.request_id, "result": {"tools": []}}
    answer(s, dropped, b"id: d1\ndata: \n\n")  # primed, then dropped before its response
    answer(s, answered, sse(msg, ids=True))
    resumed = s.stream("d1")
    resumed.resumes = dropped
    answer(s, resumed, sse(msg, ids=True))
    standalone = s.stream()
    answer(s, standalone, sse(msg))
    own = s.stream("e0")
    own.resumes = answered
    answer(s, own, sse(msg, ids=True))
    another = s.stream("d1")  # its own answer, then another session's to the same id (a store keyed by request id)
    another.resumes = dropped
    own_answer = {"jsonrpc": "2.0", "id": dropped.request_id, "result": {"content": []}}
    answer(s, another, sse(own_answer, {**own_answer, "result": {"content": [], "theirs": True}}, ids=True))
    assert [(v.exchange, v.rule) for v in s.violations] == [
        (resumed, "transport.resume.no-cross-stream-replay"),
        (standalone, "transport.session.isolation"),
        (another, "transport.resume.no-cross-stream-replay"),
    ]


def test_request_ids_unique_across_sessions() -> None:
    a, b = core.Session(), core.Session()
    ids = {a.request("ping").request_id, b.request("ping").request_id, a.request("ping").request_id}
    assert len(ids) == 3


def test_server_request_answered_by_handler_and_replied() -> None:
    s = initialized_session()
    call = s.request("tools/call", {"name": "test_sampling"})
    server_request = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "sampling/createMessage",
        "params": {"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 10},
    }
    events = s.receive_start(call, 200, {"content-type": core.SSE}) + s.receive_data(call, sse(server_request))
    replies = [e for e in events if isinstance(e, core.Reply)]
    assert len(replies) == 1
    reply = json.loads(replies[0].outgoing.http.body)
    assert reply["id"] == 7 and reply["result"]["content"]["text"] == "mcp-harness sampled text"
    assert replies[0].outgoing.http.headers["MCP-Session-Id"] == "abc123"
    assert s.violations == []


def test_server_request_without_declared_capability_is_a_violation() -> None:
    s = initialized_session(handlers={"ping": lambda p: {}})
    call = s.request("tools/call", {"name": "x"})
    elicit = {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "elicitation/create",
        "params": {"message": "hi", "requestedSchema": {"type": "object", "properties": {}}},
    }
    events = answer(s, call, sse(elicit))
    reply = next(e for e in events if isinstance(e, core.Reply)).outgoing
    assert json.loads(reply.http.body)["error"]["code"] == -32601
    assert "lifecycle.operation.negotiated-only" in [v.rule for v in s.violations]


def test_accept_elicitation_fills_the_requested_schema() -> None:
    params = {
        "message": "m",
        "requestedSchema": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "age": {"type": "integer", "minimum": 18},
                "ok": {"type": "boolean"},
                "color": {"type": "string", "enum": ["red", "green"]},
                "n": {"type": "number", "default": 2.5},
            },
        },
    }
    content = core.accept_elicitation(params)["content"]
    assert content == {"name": "mcp-harness", "age": 18, "ok": False, "color": "red", "n": 2.5}


def test_progress_tracked_per_token_and_foreign_token_flagged() -> None:
    s = initialized_session()
    ex = s.request("tools/call", {"name": "slow"}, progress=True)
    token = json.loads(ex.http.body)["params"]["_meta"]["progressToken"]
    notes = [progress_note(t, p, total=2) for t, p in ((token, 1), (token, 2), ("x", 1))]
    answer(s, ex, sse(*notes, {"jsonrpc": "2.0", "id": ex.request_id, "result": {"content": []}}))
    assert [p.progress for p in s.progress[token]] == [1, 2]
    assert [v.rule for v in s.violations] == ["transport.session.isolation"]


def test_404_with_session_id_marks_session_gone_and_reset_clears_it() -> None:
    s = initialized_session()
    ex = s.request("tools/list")
    events = answer(
        s,
        ex,
        b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Session not found"}}',
        content_type="application/json",
        status=404,
    )
    assert any(isinstance(e, core.SessionGone) for e in events)
    assert s.gone
    s.reset()
    assert s.session_id is None and "MCP-Session-Id" not in s.headers()


def test_request_answered_with_wrong_content_type_is_a_violation() -> None:
    s = initialized_session()
    ex = s.request("ping")
    answer(s, ex, b'{"jsonrpc":"2.0","id":1,"result":{}}', content_type="text/plain")
    assert "transport.post.request-content-type" in [v.rule for v in s.violations]


def test_schema_violation_reported() -> None:
    s = initialized_session()
    ex = s.request("tools/call", {"name": "echo"})
    bad = {"jsonrpc": "2.0", "id": ex.request_id, "result": {"content": [{"type": "txt", "text": "x"}]}}
    answer(s, ex, sse(bad))
    assert [v.rule for v in s.violations] == ["schema.server-messages"]


def test_priming_event_is_not_a_message() -> None:
    s = initialized_session()
    ex = s.request("tools/list")
    body = b"id: prime-1\ndata:\n\n" + sse({"jsonrpc": "2.0", "id": ex.request_id, "result": {"tools": []}})
    answer(s, ex, body)
    assert len(ex.events) == 2 and len(ex.messages) == 1 and s.violations == []


def test_non_json_sse_data_is_a_violation() -> None:
    s = initialized_session()
    ex = s.request("tools/list")
    answer(s, ex, b"data: {not json\n\n")
    assert [v.rule for v in s.violations] == ["schema.server-messages"]


@settings(max_examples=100, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12), crlf=st.booleans())
def test_any_chunking_of_a_response_stream_gives_the_same_outcome(cuts: list[int], crlf: bool) -> None:
    """Correlation and events do not depend on how the bytes were split."""

    def run(chunks) -> tuple:
        s = initialized_session()
        ex = s.request("tools/call", {"name": "slow"}, progress=True)
        token = json.loads(ex.http.body)["params"]["_meta"]["progressToken"]
        notes = [progress_note(token, p, message="步骤\u2028 two") for p in (1, 2, 3)]
        final = {"jsonrpc": "2.0", "id": ex.request_id, "result": {"content": [{"type": "text", "text": "done"}]}}
        data = sse(*notes, final, ids=True)
        whole = data.replace(b"\n", b"\r\n") if crlf else data
        s.receive_start(ex, 200, {"content-type": core.SSE})
        for chunk in chunks(whole):
            s.receive_data(ex, chunk)
        s.receive_end(ex)
        shape = [(m.get("method"), m.get("params", {}).get("message"), m.get("result")) for m in ex.messages]
        return [p.progress for p in s.progress[token]], shape, s.responses.get(ex.request_id), s.violations

    def split(data: bytes) -> list[bytes]:
        points = sorted({c % (len(data) + 1) for c in cuts})
        return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]

    whole = run(lambda d: [d])
    chunked = run(split)
    assert chunked[0] == whole[0] == [1, 2, 3]
    assert chunked[1] == whole[1]
    assert chunked[2] is not None and chunked[3] == [] == whole[3]


def test_elicitation_answer_actions_and_url_mode() -> None:
    form = {"message": "m", "requestedSchema": {"type": "object", "properties": {"x": {"type": "string"}}}}
    assert core.elicitation_answer("decline")(form) == {"action": "decline"}
    assert core.elicitation_answer("cancel")(form) == {"action": "cancel"}
    url = {"mode": "url", "message": "m", "url": "https://example.com/x", "elicitationId": "e1"}
    assert core.elicitation_answer("accept")(url) == {"action": "accept"}
    with pytest.raises(ValueError, match="accept, decline or cancel"):
        core.elicitation_answer("maybe")


def test_sampling_answer_is_configurable() -> None:
    answer = core.sampling_answer(text="hi", model="m1", stop_reason="maxTokens")({})
    assert answer == {
        "role": "assistant",
        "content": {"type": "text", "text": "hi"},
        "model": "m1",
        "stopReason": "maxTokens",
    }


def test_timeline_orders_sent_and_received_and_resumed_streams_point_back() -> None:
    s = initialized_session()
    call = s.request("tools/call", {"name": "x"})
    s.sent(call)
    s.receive_start(call, 200, {"content-type": core.SSE})
    s.receive_data(call, b"id: e1\ndata:\n\n")
    s.receive_end(call)
    get = s.stream(last_event_id="e1")
    get.resumes = call
    s.sent(get)
    s.receive_start(get, 200, {"content-type": core.SSE})
    s.receive_data(get, sse({"jsonrpc": "2.0", "id": call.request_id, "result": {"content": []}}))
    assert get.http.headers["Last-Event-ID"] == "e1"
    assert get.stream is call and call.stream is call
    kinds = [(kind, ex.purpose) for kind, ex, _ in s.timeline[-3:]]
    assert kinds == [("sent", "request"), ("sent", "stream"), ("received", "stream")]
    assert s.responses[call.request_id]["result"] == {"content": []}


def test_discover_request_for_stateless_servers() -> None:
    ex = core.Session().discover()
    body = json.loads(ex.http.body)
    assert body["method"] == "server/discover"
    assert body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    assert ex.http.headers["MCP-Protocol-Version"] == "2026-07-28"
    assert ex.http.headers["Mcp-Method"] == "server/discover"


MODERN_REQUESTS = {  # method → params: one of each kind the modern checks send
    "server/discover": {},
    "tools/list": {},
    "prompts/list": {},
    "resources/list": {},
    "tools/call": {"name": "echo", "arguments": {"text": "hi"}},
    "resources/read": {"uri": "file:///cfg.json"},
    "prompts/get": {"name": "greeting"},
}


@pytest.mark.parametrize("method", sorted(MODERN_REQUESTS))
def test_modern_requests_keep_the_client_obligations(method: str) -> None:
    """stateless.meta.required-fields, stateless.headers.required, stateless.http.headers-on-post: every 2026-07-28
    request the harness builds is valid against the 2026-07-28 schema, mirrors its method (and name or uri) in headers
    and carries no session id, even from a session that holds one."""
    s = initialized_session()
    ex = s.modern(method, MODERN_REQUESTS[method])
    body = json.loads(ex.http.body)
    assert schema.params_valid("2026-07-28", method, body["params"]), body
    headers = ex.http.headers
    assert headers["MCP-Protocol-Version"] == body["params"]["_meta"][core.META + "protocolVersion"] == "2026-07-28"
    assert headers["Mcp-Method"] == method and headers["Accept"] == core.ACCEPT_POST
    named = body["params"].get(core.NAMED_BY.get(method, ""))
    assert headers.get("Mcp-Name") == named
    assert not {k.lower() for k in headers} & {"mcp-session-id"}
    assert ex.version == "2026-07-28"


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("us-west1", "us-west1"),  # the examples of basic/transports/streamable-http § Value Encoding
        ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
        (" padded ", "=?base64?IHBhZGRlZCA=?="),
        ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
        ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
    ],
)
def test_header_values_are_encoded_as_the_spec_shows(value: str, sent: str) -> None:
    assert core.header_value(value) == sent


def test_a_modern_error_answer_is_the_requests_response_and_judged_by_its_body() -> None:
    """400 and 404 are ordinary answers in 2026-07-28: the error is correlated (not a session gone), and validated
    against that revision's schema."""
    s = initialized_session()
    ex = s.modern("ping")
    s.receive_start(ex, 404, {"content-type": core.JSON, "mcp-session-id": "ignored"})
    error = {"jsonrpc": "2.0", "id": ex.request_id, "error": {"code": -32601, "message": "Method not found"}}
    s.receive_data(ex, json.dumps(error).encode())
    s.receive_end(ex)
    assert s.responses[ex.request_id] == error and not s.gone and not s.violations


def test_resumption_only_for_a_request_cut_short_with_an_event_id() -> None:
    s = initialized_session()
    call = s.request("tools/call", {"name": "x"})
    s.receive_start(call, 200, {"content-type": core.SSE})
    s.receive_data(call, b"id: e1\nretry: 250\ndata:\n\n")
    s.receive_end(call)
    delay, get = s.resumption(call)
    assert delay == 0.25 and get.resumes is call and get.http.headers["Last-Event-ID"] == "e1"
    s.receive_start(get, 200, {"content-type": core.SSE})
    s.receive_end(get)
    assert s.resumption(get) is None  # the resumption brought nothing new: stop asking
    answered = s.request("tools/call", {"name": "x"})
    answer(s, answered, b"id: e2\ndata:\n\n" + sse({"jsonrpc": "2.0", "id": answered.request_id, "result": {}}))
    assert s.resumption(answered) is None
    no_ids = s.request("tools/call", {"name": "x"})
    answer(s, no_ids, b"")
    assert s.resumption(no_ids) is None
