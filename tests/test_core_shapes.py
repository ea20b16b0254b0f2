"""Any JSON shape, no exception: every server message of the schema (the result of each request, each server
request and notification), with each of its fields — and each property its definition names — replaced by a
value of each other JSON type, is fed to the session core as a JSON body and as an SSE event. Nothing may
escape: a wrong type is the schema check's violation, never a crash (hostile servers, issue 18 point 3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mcp_harness import core, instances, schema, versions

VALUES: tuple[Any, ...] = (None, True, 0, 2.5, "x", [], {})
VERSIONS = (versions.stateful()[0], versions.latest())  # one per schema dialect


def _definition(version: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    key, defs = schema._definitions(version)
    return {"$ref": f"#/{key}/{name}", key: defs}, defs[name]


def _instance(version: str, name: str) -> dict[str, Any]:
    root, _ = _definition(version, name)
    return instances.instance(root, modern=instances.modern_dialect(version))


def _resolved(version: str, node: Any) -> dict[str, Any]:
    _, defs = schema._definitions(version)
    while isinstance(node, dict) and "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    return node if isinstance(node, dict) else {}


def server_messages(version: str) -> Iterator[tuple[str, str | None, dict[str, Any], dict[str, Any]]]:
    """(label, the method of our request it answers or None, a valid message, the definition of its payload)."""
    _, defs = schema._definitions(version)
    for method, name in sorted(schema._by_method(version).items()):
        if name.endswith("Request"):
            result_name = schema.result_definition(version, method)
            if name in _client_side(version, "ClientRequest"):
                payload = _instance(version, result_name)
                yield f"{method} result", method, {"jsonrpc": "2.0", "id": 0, "result": payload}, defs[result_name]
            elif name in _client_side(version, "ServerRequest"):
                body = _instance(version, name)
                params = _resolved(version, defs[name].get("properties", {}).get("params"))
                yield f"{method} request", None, {"jsonrpc": "2.0", "id": "srv-1", **body}, params
        elif name in _client_side(version, "ServerNotification"):
            body = _instance(version, name)
            params = _resolved(version, defs[name].get("properties", {}).get("params"))
            yield f"{method} notification", None, {"jsonrpc": "2.0", **body}, params


def _client_side(version: str, union: str) -> set[str]:
    _, defs = schema._definitions(version)
    return {ref["$ref"].rsplit("/", 1)[1] for ref in defs.get(union, {}).get("anyOf", []) if "$ref" in ref}


def variants(message: dict[str, Any], payload_definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The message with one field replaced by each value of another JSON type: every field present, and every
    property the payload's definition names (in `result` or `params`)."""
    paths = list(_paths(message, ()))
    holder = "result" if "result" in message else "params"
    named = [(holder, prop) for prop in payload_definition.get("properties", {})]
    for path in dict.fromkeys([*paths, *named]):
        for value in VALUES:
            changed = json.loads(json.dumps(message))
            if _put(changed, path, value):
                yield f"{'.'.join(map(str, path))} = {value!r}", changed


def _paths(node: Any, at: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*at, key)
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:2]):
            yield (*at, index)
            yield from _paths(value, (*at, index))


def _put(node: Any, path: tuple[Any, ...], value: Any) -> bool:
    for step in path[:-1]:
        if not _has(node, step):
            return False
        node = node[step]
    if isinstance(node, dict) or _has(node, path[-1]):
        node[path[-1]] = value
        return True
    return False


def _has(node: Any, step: Any) -> bool:
    if isinstance(node, dict):
        return step in node
    return isinstance(node, list) and isinstance(step, int) and step < len(node)


def feed(version: str, method: str | None, message: dict[str, Any], sse: bool) -> None:
    """One fresh initialized session receives `message` as the answer to a request of `method` (or on the
    answer to a tools/call, for server requests and notifications); then it builds what a driver would send."""
    s = core.Session(requested_version=version)
    s.session_id, s.protocol_version = "sid", version
    ex = s.initialize() if method == "initialize" else s.request(method or "tools/call", {}, progress=True)
    message = {**message, "id": ex.request_id} if method is not None and "id" in message else message
    body = json.dumps(message).encode()
    if sse:
        s.receive_start(ex, 200, {"content-type": core.SSE})
        s.receive_data(ex, b"id: 1\ndata: " + body + b"\n\n")
    else:
        s.receive_start(ex, 200, {"content-type": core.JSON})
        s.receive_data(ex, body)
    s.receive_end(ex)
    s.headers()
    s.resumption(ex)
    s.request("ping")
    s.delete()
    list(s.messages())


@pytest.mark.parametrize("version", VERSIONS)
def test_no_wrong_json_type_in_any_server_message_escapes_the_core(version: str) -> None:
    cases = 0
    for label, method, message, definition in server_messages(version):
        for what, changed in variants(message, definition):
            for sse in (False, True):
                try:
                    feed(version, method, changed, sse)
                except Exception as e:  # the point: name the case that escaped
                    pytest.fail(f"{version} {label}, {what} ({'SSE' if sse else 'JSON'}): {type(e).__name__}: {e}")
                cases += 1
    assert cases > 1000  # every kind of message was fed, not a few


def test_the_messages_cover_results_server_requests_and_notifications() -> None:
    labels = [label for label, *_ in server_messages(versions.latest())]
    assert "initialize result" in labels and "tools/call result" in labels
    assert "elicitation/create request" in labels and "sampling/createMessage request" in labels
    assert "notifications/progress notification" in labels
