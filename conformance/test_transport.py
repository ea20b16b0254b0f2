"""Streamable HTTP transport: POST, GET, headers, Origin, ids and message validity (basic/transports, basic/index)."""

from __future__ import annotations

import time

from mcp_harness import core, versions
from mcp_harness.core import JSON, SSE
from mcp_harness.driver import HarnessError
from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import call_tool, elicitation, harmless_request, list_tools, progress, raw_post

FOREIGN_ORIGIN = "http://mcp-harness-foreign-origin.example"
ROUND_TRIP_ROLES = ("elicitation", "sampling")  # tools that make the server send requests to the client
BAD_VERSIONS = ("1900-01-01", "not-a-version")


@check("transport.post.notification-202", roles=True)
def test_notification_and_response_202(h: Harness) -> None:
    s = h.session(initialize=False)
    s.initialize(initialized=False)
    posted = [s.notify("notifications/initialized")]
    elicitation_tool = h.optional_tool("elicitation")
    unfinished = ""
    if elicitation_tool is not None:
        s.open_stream().wait_open(h.target.timeout)  # elicitation/create is answered wherever the server sends it
        try:
            elicitation(s, elicitation_tool)  # the client's answer to elicitation/create is a POSTed JSON-RPC response
        except HarnessError as e:  # what was POSTed before is judged all the same
            unfinished = f"; the elicitation call did not complete ({e})"
        posted += [ex for ex in s.core.exchanges if ex.purpose == "response"]
        _wait_answered(posted, h.target.timeout)  # a reply sent from the GET stream's reader may still be in flight
    bad = [
        f"{ex.purpose} → HTTP {ex.status}, {len(ex.body)} body bytes" for ex in posted if ex.status != 202 or ex.body
    ]
    h.require(not bad, "; ".join(bad) + unfinished)
    kinds = sorted({ex.purpose for ex in posted})
    h.observe(f"202 with no body for {len(posted)} POST(s): {', '.join(kinds)}{unfinished}")


def _wait_answered(exchanges: list[core.Exchange], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(ex.status is None for ex in exchanges) and time.monotonic() < deadline:
        time.sleep(0.02)


@check("transport.post.request-content-type")
def test_request_content_type(h: Harness) -> None:
    s = h.session()
    answered = [ex for ex in s.core.exchanges if ex.purpose == "initialize"]
    answered += [raw_post(s, {"jsonrpc": "2.0", "id": s.core.next_id(), "method": m}) for m in ("ping", "tools/list")]
    bad = [
        f"{ex.message['method'] if ex.message else '?'} → {ex.headers.get('content-type')!r}"
        for ex in answered
        if ex.status == 200 and ex.content_type not in (JSON, SSE)
    ]
    h.require(not bad, "requests answered with another Content-Type: " + "; ".join(bad))
    h.observe(", ".join(f"{ex.message['method']}: {ex.content_type}" for ex in answered if ex.message))


@check("transport.post.accept-header")
def test_partial_accept(h: Harness) -> None:
    s = h.session()
    ex = raw_post(s, harmless_request(s), Accept=JSON)
    h.info(f"a POST with Accept: {JSON} only was answered HTTP {ex.status} ({ex.content_type or 'no body'})")


@check("transport.get.sse-or-405")
def test_get_stream_or_405(h: Harness) -> None:
    s = h.session()
    ex = s.raw("GET", s.core.headers(accept=SSE, content_type=None))
    ok = ex.status == 405 or (ex.status is not None and 200 <= ex.status < 300 and ex.content_type == SSE)
    h.require(ok, f"GET was answered HTTP {ex.status} with Content-Type {ex.headers.get('content-type')!r}")
    h.observe("SSE stream offered" if ex.status != 405 else "no GET stream (405)")


@check("transport.version-header.invalid-400")
def test_invalid_protocol_version_header(h: Harness) -> None:
    s = h.session()
    statuses = {v: raw_post(s, harmless_request(s), MCP_Protocol_Version=v).status for v in BAD_VERSIONS}
    wrong = {v: st for v, st in statuses.items() if st != 400}
    h.require(not wrong, f"requests with an invalid MCP-Protocol-Version got {wrong}, expected 400")


@check("transport.origin.invalid-403")
def test_foreign_origin_refused(h: Harness) -> None:
    s = h.session()
    in_session = raw_post(s, harmless_request(s), Origin=FOREIGN_ORIGIN).status
    fresh = h.session(initialize=False)
    init = fresh.core.initialize()
    init.http.headers["Origin"] = FOREIGN_ORIGIN
    at_initialize = fresh.send(init).status
    statuses = {"initialize": at_initialize, "tools/list in a session": in_session}
    expected = versions.revision(h.version).origin_refusal
    if expected is not None:
        wrong = {k: v for k, v in statuses.items() if v != expected}
        h.require(not wrong, f"requests with Origin {FOREIGN_ORIGIN} got {wrong}, expected {expected}")
    else:
        wrong = {k: v for k, v in statuses.items() if v is None or not 400 <= v < 500}
        h.require(not wrong, f"requests with Origin {FOREIGN_ORIGIN} were not refused: {wrong}")
    h.observe(f"refused: {statuses}")


@check("jsonrpc.response.same-id")
def test_response_id_matches(h: Harness) -> None:
    s = h.session()
    sent = [{"jsonrpc": "2.0", "id": s.core.next_id(), "method": method} for method in ("ping", "tools/list")]
    sent += [{**m, "id": f"mcp-harness-{s.core.next_id()}"} for m in list(sent)]
    wrong, unreadable = [], []
    for message in sent:
        ex = raw_post(s, message)
        if ex.content_type not in (JSON, SSE):  # judged by transport.post.request-content-type instead
            unreadable.append(f"{message['method']} ({ex.content_type or 'no body'})")
            continue
        ids = [m.get("id") for m in ex.messages if "method" not in m and ("result" in m or "error" in m)]
        if ids != [message["id"]]:
            wrong.append(f"{message['method']} with id {message['id']!r} answered with id(s) {ids}")
    h.require(not wrong, "; ".join(wrong))
    if len(unreadable) == len(sent):
        h.not_testable("no answer came as JSON or SSE: " + ", ".join(unreadable))
    skipped = f"; not read: {', '.join(unreadable)}" if unreadable else ""
    h.observe(f"integer and string ids echoed on ping and tools/list{skipped}")


@check("jsonrpc.request.id-unique", roles=True)
def test_server_request_ids_unique(h: Harness) -> None:
    s = h.session(listen=True)  # a request sent on the GET stream is answered and counted too
    specs = [spec for role in ROUND_TRIP_ROLES if (spec := h.optional_tool(role, s)) is not None]
    if not specs:
        h.not_testable("no elicitation or sampling tool: nothing makes the server send requests")
    for spec in specs * 2:  # each twice: one tool's requests may reuse the id of its own earlier one
        call_tool(s, spec)
    ids = [m["id"] for _, m in s.messages() if "method" in m and "id" in m]
    if len(ids) < 2:
        h.not_testable(f"the server sent {len(ids)} request(s) in the session: no id to compare")
    reused = [v.detail for v in s.core.violations if v.rule == "jsonrpc.request.id-unique"]
    h.require(not reused, "; ".join(reused[:5]))
    h.observe(f"{len(ids)} server requests in one session, each with its own id")


@check("schema.server-messages", roles=True)
def test_messages_match_schema(h: Harness) -> None:
    s = h.session()
    tools = list_tools(s)
    progress_tool = h.optional_tool("progress", s)
    if progress_tool is not None:
        progress(s, progress_tool)
    if "echo" in tools:
        s.call("tools/call", {"name": "echo", "arguments": {"text": "mcp-harness"}})
    problems = [v.detail for v in s.core.violations if v.rule == "schema.server-messages"]
    h.require(
        not problems, f"{len(problems)} message(s) do not match the {h.version} schema: " + "; ".join(problems[:5])
    )
    count = sum(len(ex.messages) for ex in s.core.exchanges)
    h.observe(f"{count} server messages valid against the {h.version} schema")
