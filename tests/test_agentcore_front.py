"""Tests of fixtures/agentcore_front.py, the emulated AgentCore Runtime front, driven directly with httpx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

SCRIPT = "agentcore_front.py"
ARN = "arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/harness_reference-AbCdEf1234"
RUNTIME_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
RUNTIME = "test-runtime-session-" + "a" * 20  # 41 characters: within 33-256
OTHER_RUNTIME = "test-runtime-session-" + "b" * 20
VERSION = "2025-11-25"
CONTACT = {"username": "alice", "email": "alice@example.com", "age": 41, "subscribe": True}


def headers(session: str | None = None, runtime: str | None = RUNTIME, token: str | None = None) -> dict[str, str]:
    found = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if session:
        found |= {"Mcp-Session-Id": session, "MCP-Protocol-Version": VERSION}
    if runtime:
        found[RUNTIME_HEADER] = runtime
    if token:
        found["Authorization"] = f"Bearer {token}"
    return found


def init_body(capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    client = {"name": "t", "version": "0"}
    params = {"protocolVersion": VERSION, "capabilities": capabilities or {}, "clientInfo": client}
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}


def messages(response: httpx.Response) -> list[Any]:
    """The JSON-RPC messages of a response: its SSE `data:` lines, or its JSON body."""
    if response.headers["content-type"].startswith("application/json"):
        return [response.json()]
    lines = response.text.splitlines()
    return [json.loads(line[5:]) for line in lines if line.startswith("data:") and line[5:].strip()]


def initialize(client: httpx.Client, url: str, runtime: str = RUNTIME, **kw: Any) -> str:
    """Open a session through the front (initialize + notifications/initialized); its Mcp-Session-Id."""
    r = client.post(url, json=init_body(kw.pop("capabilities", None)), headers=headers(runtime=runtime, **kw))
    assert r.status_code == 200, r.text
    assert messages(r)[0]["result"]["protocolVersion"] == VERSION
    session = r.headers["mcp-session-id"]
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert client.post(url, json=note, headers=headers(session, runtime, **kw)).status_code == 202
    return session


def request(rid: int, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}}


def stats(url: str) -> dict[str, int]:
    return httpx.get(url.split("/invocations")[0] + "/front-stats").json()


def test_ready_url_names_the_escaped_arn_and_default_qualifier(server_factory) -> None:
    server = server_factory(script=SCRIPT)
    assert server.url.endswith(f"/runtimes/{quote(ARN, safe='')}/invocations?qualifier=DEFAULT")
    with httpx.Client(timeout=5) as client:
        assert initialize(client, server.url)


def test_wrong_path_or_qualifier_is_404(server_factory) -> None:
    server = server_factory(script=SCRIPT, extra_args=("--qualifier", "prod"))
    origin = server.url.split("/runtimes/")[0]
    escaped = quote(ARN, safe="")
    wrong = [
        f"{origin}/runtimes/{ARN}/invocations?qualifier=prod",  # the ARN's "/" unescaped: not one path segment
        f"{origin}/runtimes/{escaped}/invocations?qualifier=DEFAULT",
        f"{origin}/runtimes/{escaped}/invocations",  # no qualifier means DEFAULT, which is not this endpoint's
        f"{origin}/runtimes/{quote(ARN + 'x', safe='')}/invocations?qualifier=prod",
        f"{origin}/mcp",
    ]
    with httpx.Client(timeout=5) as client:
        for url in wrong:
            r = client.post(url, json=init_body(), headers=headers())
            assert (r.status_code, r.json()) == (404, {"message": "Runtime not found"}), url
            assert r.headers["content-type"] == "application/json"
        assert initialize(client, server.url)  # and the right one works
    assert server.open_sessions() == 1  # the refused initializes never reached the server


def test_bearer_token_is_checked_and_reread(server_factory, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    server = server_factory(script=SCRIPT, extra_args=("--token-file", str(token_file)))
    with httpx.Client(timeout=5) as client:
        for token in (None, "wrong-token"):
            r = client.post(server.url, json=init_body(), headers=headers(token=token))
            assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
            challenge = r.headers["www-authenticate"]
            metadata = server.url.replace("/invocations?", "/invocations/.well-known/oauth-protected-resource?")
            assert challenge == f'Bearer resource_metadata="{metadata}"'
        session = initialize(client, server.url, token="first-token")
        token_file.write_text("second-token")
        ping = request(2, "ping")
        r = client.post(server.url, json=ping, headers=headers(session, token="first-token"))
        assert r.status_code == 401
        r = client.post(server.url, json=ping, headers=headers(session, token="second-token"))
        assert r.status_code == 200 and messages(r) == [{"jsonrpc": "2.0", "id": 2, "result": {}}]
    assert server.open_sessions() == 1  # /sessions needs no token
    assert stats(server.url)["unauthorized"] == 3


@pytest.mark.parametrize(("length", "status"), [(32, 400), (33, 200), (256, 200), (257, 400)])
def test_runtime_session_id_length(server_factory, length: int, status: int) -> None:
    server = server_factory(script=SCRIPT)
    runtime = "r" * length
    r = httpx.post(server.url, json=init_body(), headers=headers(runtime=runtime), timeout=5)
    assert r.status_code == status
    if status == 400:
        assert r.json() == {"message": "ValidationException: runtimeSessionId must be 33-256 characters"}
    else:
        assert r.headers[RUNTIME_HEADER] == runtime


def test_runtime_session_id_is_generated_when_absent(server_factory) -> None:
    server = server_factory(script=SCRIPT)
    with httpx.Client(timeout=5) as client:
        first = client.post(server.url, json=init_body(), headers=headers(runtime=None))
        second = client.post(server.url, json=init_body(), headers=headers(runtime=None))
    assert first.status_code == second.status_code == 200
    generated = first.headers[RUNTIME_HEADER], second.headers[RUNTIME_HEADER]
    assert all(33 <= len(g) <= 256 for g in generated)
    assert generated[0] != generated[1]  # each invocation without the header is a new runtime session


def test_session_under_another_runtime_id_is_rerouted(server_factory) -> None:
    server = server_factory(script=SCRIPT)
    with httpx.Client(timeout=5) as client:
        session = initialize(client, server.url)
        for runtime in (OTHER_RUNTIME, None):  # another id, or a generated one: another microVM
            r = client.post(server.url, json=request(5, "tools/list"), headers=headers(session, runtime))
            assert r.status_code == 200
            assert r.json() == {"jsonrpc": "2.0", "id": 5, "error": {"code": -32600, "message": "Session not found"}}
        r = client.get(server.url, headers=headers(session, OTHER_RUNTIME))
        assert r.status_code == 404  # GET is not rewritten: the real status comes through
        r = client.post(server.url, json=request(6, "tools/list"), headers=headers(session))
        assert r.status_code == 200 and "tools" in messages(r)[0]["result"]  # its own runtime session still works
    assert stats(server.url)["rerouted"] == 3


def test_unknown_session_is_http_200_with_a_json_rpc_error(server_factory) -> None:
    server = server_factory(script=SCRIPT)
    unknown = "0" * 32
    with httpx.Client(timeout=5) as client:
        r = client.post(server.url, json=request(7, "tools/list"), headers=headers(unknown))
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.json() == {"jsonrpc": "2.0", "id": 7, "error": {"code": -32600, "message": "Session not found"}}
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        r = client.post(server.url, json=note, headers=headers(unknown))
        assert r.status_code == 200 and r.json()["id"] is None and r.json()["error"]["code"] == -32600
        r = client.post(server.url, content=b"{not json", headers=headers(unknown))
        assert r.status_code == 200 and r.json()["id"] is None and r.json()["error"]["code"] < 0
        assert client.delete(server.url, headers=headers(unknown)).status_code == 404  # DELETE passes unchanged
    assert stats(server.url)["carried_errors"] == 3


def test_busy_first_request_is_refused_n_times(server_factory) -> None:
    server = server_factory(script=SCRIPT, extra_args=("--busy", "2"))
    busy = {"code": -32005, "message": "Session operation in progress, please retry"}
    with httpx.Client(timeout=5) as client:
        session = initialize(client, server.url)  # its notifications/initialized passed: notifications are not held
        answers = [client.post(server.url, json=request(2, "tools/list"), headers=headers(session)) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert answers[0].json() == answers[1].json() == {"jsonrpc": "2.0", "id": 2, "error": busy}
        assert "echo" in {t["name"] for t in messages(answers[2])[0]["result"]["tools"]}
        r = client.post(server.url, json=request(3, "ping"), headers=headers(session))
        assert messages(r) == [{"jsonrpc": "2.0", "id": 3, "result": {}}]  # only the first request is held
        other = initialize(client, server.url)  # the count is per MCP session
        r = client.post(server.url, json=request(2, "ping"), headers=headers(other))
        assert r.json()["error"]["code"] == -32005
    assert stats(server.url)["busy_sent"] == 3


def test_front_stats_count_each_kind(server_factory, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("t0ken")
    server = server_factory(script=SCRIPT, extra_args=("--token-file", str(token_file), "--busy", "1"))
    assert stats(server.url) == {"busy_sent": 0, "unauthorized": 0, "carried_errors": 0, "rerouted": 0}
    with httpx.Client(timeout=5) as client:
        assert client.post(server.url, json=init_body(), headers=headers()).status_code == 401
        session = initialize(client, server.url, token="t0ken")
        client.post(server.url, json=request(2, "ping"), headers=headers(session, token="t0ken"))
        client.post(server.url, json=request(3, "ping"), headers=headers(session, OTHER_RUNTIME, token="t0ken"))
        client.post(server.url, json=request(4, "ping"), headers=headers("f" * 32, token="t0ken"))
    # the rerouted request's 404 is carried in a 200 too
    assert stats(server.url) == {"busy_sent": 1, "unauthorized": 1, "carried_errors": 2, "rerouted": 1}


def test_open_sessions_through_the_front(server_factory) -> None:
    server = server_factory(script=SCRIPT)
    assert server.sessions_url.endswith(f"/runtimes/{quote(ARN, safe='')}/sessions")
    assert server.open_sessions() == 0
    with httpx.Client(timeout=5) as client:
        session = initialize(client, server.url)
        assert server.open_sessions() == 1
        assert client.delete(server.url, headers=headers(session)).status_code == 200
    assert server.open_sessions() == 0


def test_elicitation_streams_through_the_front(server_factory) -> None:
    server = server_factory(script=SCRIPT)
    call = request(2, "tools/call", {"name": "test_elicitation", "arguments": {}})
    accept = {"action": "accept", "content": CONTACT}
    seen: list[Any] = []
    with httpx.Client(timeout=5) as client, httpx.Client(timeout=5) as answerer:
        session = initialize(client, server.url, capabilities={"elicitation": {}})
        with client.stream("POST", server.url, json=call, headers=headers(session)) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if not line.startswith("data:") or not line[5:].strip():
                    continue
                seen.append(json.loads(line[5:]))
                if seen[-1].get("method") == "elicitation/create":  # the result can only come after our answer
                    answer = {"jsonrpc": "2.0", "id": seen[-1]["id"], "result": accept}
                    assert answerer.post(server.url, json=answer, headers=headers(session)).status_code == 202
                elif seen[-1].get("id") == 2:
                    break
    assert [m.get("method") for m in seen] == ["elicitation/create", None]
    assert set(seen[0]["params"]["requestedSchema"]["properties"]) == set(CONTACT)
    text = seen[-1]["result"]["content"][0]["text"]
    assert text.startswith("accept: ") and json.loads(text[len("accept: ") :]) == CONTACT
