"""The modern era, 2026-07-28: no session, every request carries its own `_meta` and mirrored headers.

Discovery and versioning (basic/versioning), the request envelope (basic/index § _meta), header validation and
status codes (basic/transports/streamable-http), resultType on every result, and a modern-only server's answer to a
legacy `initialize`. Each check sends conformant modern requests except for the one defect it probes, and judges an
answer by its JSON-RPC body as well as its status: in this revision 404 means "method not found", not "session gone".
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx

from mcp_harness import core, schema
from mcp_harness.discovery import may_call
from mcp_harness.driver import Conversation, HarnessError
from mcp_harness.instances import Unsatisfiable, tool_arguments
from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import modern_tools

V = core.STATELESS_VERSION
UNSUPPORTED = "1900-01-01"  # a date no revision has: unknown to every server
UNKNOWN_METHOD = "mcp-harness/no-such-method"
# Methods 2026-07-28 removed (changelog), with params their legacy form took.
REMOVED: dict[str, dict[str, Any]] = {
    "ping": {},
    "logging/setLevel": {"level": "info"},
    "resources/subscribe": {"uri": "file:///mcp-harness-probe"},
}
SHOWN = 300  # characters of an answer quoted in a verdict


def answer(conv: Conversation, ex: core.Exchange) -> dict[str, Any]:
    return conv.core.answer(ex)


def shown(conv: Conversation, ex: core.Exchange) -> str:
    """How `ex` was answered, for a verdict: the status and the JSON-RPC answer (or the body's media type)."""
    found = answer(conv, ex)
    if not found:
        return f"HTTP {ex.status} {ex.content_type or '(no content type)'} with no JSON-RPC answer"
    text = json.dumps(found.get("error", found.get("result")), ensure_ascii=False)
    return f"HTTP {ex.status} {text[:SHOWN]}" + ("…" if len(text) > SHOWN else "")


def error_code(conv: Conversation, ex: core.Exchange) -> Any:
    return core.as_object(answer(conv, ex).get("error")).get("code")


def modern(h: Harness) -> Conversation:
    """A conversation that only sends modern requests (it never initializes, so it holds no session)."""
    return h.session(initialize=False, label="modern")


def callable_tools(h: Harness, conv: Conversation) -> list[str]:
    """The tools of the first `tools/list` page the harness may call (discovery.may_call): a server that ignored a
    wrong header would run the call, so only a tool that changes nothing is named in one."""
    listed, _ = modern_tools(conv)
    return [name for name, tool in listed.items() if may_call(tool, h.target) is None]


@check("stateless.discover.required")
def test_discover_answered(h: Harness) -> None:
    conv = modern(h)
    ex = conv.modern("server/discover")
    response = answer(conv, ex)
    h.require(ex.status == 200 and "result" in response, f"server/discover was answered {shown(conv, ex)}")
    problems = schema.validate_response(V, response, "server/discover")
    h.require(not problems, f"the DiscoverResult is not valid against the {V} schema: {'; '.join(problems)}")
    result = response["result"]
    h.require(V in result["supportedVersions"], f"supportedVersions {result['supportedVersions']} lacks {V}")
    h.observe(f"supportedVersions {result['supportedVersions']}, capabilities {sorted(result['capabilities'])}")


@check("stateless.version.unsupported-400")
def test_unsupported_version_refused(h: Harness) -> None:
    conv = modern(h)
    version = {core.META + "protocolVersion": UNSUPPORTED}
    ex = conv.modern("server/discover", meta=version, headers={"MCP-Protocol-Version": UNSUPPORTED})
    got = shown(conv, ex)
    h.require(ex.status == 400, f"a request for version {UNSUPPORTED} (header and body) was answered {got}")
    h.require(error_code(conv, ex) == -32022, f"not an UnsupportedProtocolVersionError (-32022): {got}")
    data = core.as_object(core.as_object(answer(conv, ex).get("error")).get("data"))
    supported = data.get("supported")
    listed = isinstance(supported, list) and bool(supported) and all(isinstance(v, str) for v in supported)
    h.require(listed, f"the error lists no supported versions (data.supported {supported!r}): {got}")
    h.observe(f"HTTP 400, -32022, supported {supported}")


@check("stateless.meta.missing-required-400")
def test_missing_meta_field_refused(h: Harness) -> None:
    conv = modern(h)
    dropped = {core.META + "clientCapabilities": None}  # required by RequestMetaObject; nothing else depends on it
    wrong = []
    for method in ("server/discover", "tools/list"):
        ex = conv.modern(method, meta=dropped)
        if ex.status != 400 or error_code(conv, ex) != -32602:
            wrong.append(f"{method} → {shown(conv, ex)}")
    h.require(not wrong, "a request without _meta clientCapabilities was not refused 400 -32602: " + "; ".join(wrong))
    h.observe("server/discover and tools/list without clientCapabilities: HTTP 400, -32602")


@check("stateless.version.method-not-found-404")
def test_unimplemented_methods_404(h: Harness) -> None:
    conv = modern(h)
    wrong, served, seen = [], [], []
    for method, params in {UNKNOWN_METHOD: {}, **REMOVED}.items():
        ex = conv.modern(method, params)
        code, response = error_code(conv, ex), answer(conv, ex)
        seen.append(f"{method} → HTTP {ex.status} {code}")
        if method == UNKNOWN_METHOD and (ex.status != 404 or code != -32601):
            wrong.append(f"{method} (no server implements it) → {shown(conv, ex)}")
        elif code == -32601 and ex.status != 404:
            wrong.append(f"{method} → -32601 with HTTP {ex.status}, not 404")
        elif ex.status == 404 and code != -32601:
            wrong.append(f"{method} → HTTP 404 without a -32601 error: {shown(conv, ex)}")
        elif "result" in response:
            served.append(method)  # still implemented: the sentence binds methods a server does not implement
    h.require(not wrong, "; ".join(wrong))
    extra = f"; still served although {V} removed them: {', '.join(served)}" if served else ""
    h.observe("; ".join(seen) + extra)


@check("stateless.result.result-type")
def test_results_carry_result_type(h: Harness) -> None:
    conv = modern(h)
    discovered = answer(conv, conv.modern("server/discover")).get("result")
    capabilities = core.as_object(core.as_object(discovered).get("capabilities"))
    methods = ["tools/list"] + [f"{cap}/list" for cap in ("prompts", "resources") if cap in capabilities]
    results = {"server/discover": discovered}
    for method in methods:
        results[method] = answer(conv, conv.modern(method)).get("result")
    answered = {m: r for m, r in results.items() if isinstance(r, dict)}
    if not answered:
        h.not_testable(f"no result came to {', '.join(results)}")
    missing = [m for m, r in answered.items() if not isinstance(r.get("resultType"), str)]
    h.require(not missing, f"results without a resultType: {', '.join(missing)}")
    types = {m: r["resultType"] for m, r in answered.items()}
    h.observe(f"resultType on {len(answered)} result(s): {types}")


@check("stateless.headers.mismatch-400")
def test_header_mismatch_refused(h: Harness) -> None:
    conv = modern(h)
    probes: list[tuple[str, core.Exchange]] = [
        (
            "Mcp-Method tools/call for a tools/list body",
            conv.modern("tools/list", headers={"Mcp-Method": "tools/call"}),
        ),
        ("no Mcp-Method header", conv.modern("tools/list", headers={"Mcp-Method": None})),
        (
            f"MCP-Protocol-Version {V} for a body asking for {core.LATEST_VERSION}",
            conv.modern("tools/list", meta={core.META + "protocolVersion": core.LATEST_VERSION}),
        ),
    ]
    tools = callable_tools(h, conv)
    if tools:  # a name the server knows, so that only the header can be wrong
        call = {"name": tools[0], "arguments": {}}
        other = core.header_value(tools[0] + "-mcp-harness-other")
        probes.append(
            (f"Mcp-Name {other} for a call of {tools[0]}", conv.modern("tools/call", call, headers={"Mcp-Name": other}))
        )
        probes.append(
            (f"no Mcp-Name for a call of {tools[0]}", conv.modern("tools/call", call, headers={"Mcp-Name": None}))
        )
    wrong = [f"{what} → {shown(conv, ex)}" for what, ex in probes if ex.status != 400 or error_code(conv, ex) != -32020]
    h.require(not wrong, "not refused 400 HeaderMismatch (-32020): " + "; ".join(wrong))
    untried = "" if tools else " (no tool the harness may call is listed: Mcp-Name not probed)"
    h.observe(f"{len(probes)} mismatched or missing headers refused 400 -32020{untried}")


def named_reads(h: Harness, conv: Conversation) -> list[tuple[str, dict[str, Any]]]:
    """Requests that carry an Mcp-Name and change nothing: a resources/read of the first listed resource, a call of
    the first tool the harness may call."""
    found: list[tuple[str, dict[str, Any]]] = []
    listed = core.as_object(answer(conv, conv.modern("resources/list")).get("result")).get("resources")
    uris = [r["uri"] for r in listed or [] if isinstance(r, dict) and isinstance(r.get("uri"), str)]
    if uris:
        found.append(("resources/read", {"uri": uris[0]}))
    tools = callable_tools(h, conv)
    if tools:
        found.append(("tools/call", {"name": tools[0], "arguments": {}}))
    return found


@check("stateless.headers.server-decode")
def test_encoded_name_decoded(h: Harness) -> None:
    conv = modern(h)
    reads = named_reads(h, conv)
    if not reads:
        h.not_testable("no resource listed and no tool the harness may call: no request with an Mcp-Name to send")
    wrong, seen = [], []
    for method, params in reads:
        value = params.get(core.NAMED_BY[method])
        encoded = core.SENTINEL[0] + base64.b64encode(value.encode()).decode() + core.SENTINEL[1]
        plain, sent = conv.modern(method, params), conv.modern(method, params, headers={"Mcp-Name": encoded})
        if error_code(conv, plain) == -32020:
            continue  # refused even with the plain name: nothing to compare
        seen.append(f"{method} {value!r} as {encoded} → {shown(conv, sent)[:80]}")
        if error_code(conv, sent) == -32020:
            wrong.append(f"{method}: Mcp-Name {encoded} (Base64 of {value!r}) → {shown(conv, sent)}")
    if not seen:
        h.not_testable("every request with a plain Mcp-Name was refused -32020 already")
    h.require(not wrong, "an encoded Mcp-Name was not decoded: " + "; ".join(wrong))
    h.observe("; ".join(seen))


@check("stateless.legacy.initialize-error-lists-versions")
def test_initialize_error_names_versions(h: Harness) -> None:
    conv = modern(h)
    supported = [v for v in (h.probe.discovered or {}).get("supportedVersions", []) if isinstance(v, str)]
    unnamed, seen = [], []
    for header in (None, core.LATEST_VERSION):  # a legacy client's first request, and one that sends the header
        headers = conv.core.headers()
        if header:
            headers["MCP-Protocol-Version"] = header
        params = {"protocolVersion": core.LATEST_VERSION, "capabilities": {}, "clientInfo": conv.core.client_info}
        message = {"jsonrpc": "2.0", "id": conv.core.next_id(), "method": "initialize", "params": params}
        ex = conv.raw("POST", headers, message)
        what = f"initialize ({'MCP-Protocol-Version ' + header if header else 'no version header'})"
        if "result" in answer(conv, ex):
            h.not_testable(f"{what} was served: the server is not modern-only after all")
        text = ex.body.decode("utf-8", "replace") + json.dumps([m for m in ex.messages], ensure_ascii=False)
        named = [v for v in supported if v in text]
        seen.append(f"{what} → HTTP {ex.status}, names {named or 'none'}")
        if not named:
            unnamed.append(f"{what} → {shown(conv, ex)}")
    h.require(not unnamed, f"the error names none of the supported versions {supported}: " + "; ".join(unnamed))
    h.observe("; ".join(seen))


@check("stateless.legacy.get-delete-405")
def test_get_and_delete_405(h: Harness) -> None:
    conv = modern(h)
    seen = []
    for verb, accept in (("GET", core.SSE), ("DELETE", core.JSON)):  # an older client's requests: no version header
        ex = conv.raw(verb, {**conv.core.base_headers, "Accept": accept})
        seen.append(f"{verb} → HTTP {ex.status}")
    h.require(all(s.endswith("HTTP 405") for s in seen), f"not 405 Method Not Allowed: {'; '.join(seen)}")
    h.observe("; ".join(seen))


@check("stateless.legacy.ignore-session-id")
def test_session_id_ignored(h: Harness) -> None:
    conv = modern(h)
    carried = conv.modern("server/discover", headers={"Mcp-Session-Id": "mcp-harness-no-such-session"})
    plain = conv.modern("server/discover")
    served = carried.status == 200 and "result" in answer(conv, carried)
    h.require(served, f"a request carrying an Mcp-Session-Id was answered {shown(conv, carried)}")
    given = {f"#{e.number}": e.headers["mcp-session-id"] for e in (carried, plain) if "mcp-session-id" in e.headers}
    h.require(not given, f"session ids minted or echoed: {given}")
    h.observe("served with the header as without it; no Mcp-Session-Id in either answer")


@check("stateless.legacy.ignore-last-event-id")
def test_last_event_id_ignored(h: Harness) -> None:
    conv = modern(h)
    ex = conv.modern("server/discover", headers={"Last-Event-ID": "mcp-harness-0"})
    served = ex.status == 200 and "result" in answer(conv, ex)
    h.require(served, f"a request carrying a Last-Event-ID was answered {shown(conv, ex)}")
    h.observe("served as without the header")


def advertised(conv: Conversation) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the server/discover result, its capabilities); both {} when there is none."""
    result = core.as_object(answer(conv, conv.modern("server/discover")).get("result"))
    return result, core.as_object(result.get("capabilities"))


@check("stateless.errors.retired-codes")
def test_retired_codes_not_emitted(h: Harness) -> None:
    conv = modern(h)
    _, capabilities = advertised(conv)
    if "resources" not in capabilities:
        h.not_testable("the server advertises no resources capability: no resources/read to ask for an unknown URI")
    ex = conv.modern("resources/read", {"uri": "mcp-harness://no-such-resource"})
    code = error_code(conv, ex)
    h.require(code not in (-32002, -32042), f"a retired code: resources/read of an unknown URI → {shown(conv, ex)}")
    if code is None:
        h.not_testable(f"resources/read of an unknown URI was not answered with an error: {shown(conv, ex)}")
    h.observe(f"resources/read of an unknown URI → HTTP {ex.status}, {code}")


CACHEABLE = {
    "tools": ["tools/list"],
    "prompts": ["prompts/list"],
    "resources": ["resources/list", "resources/templates/list"],
}


@check("stateless.caching.hints")
def test_cacheable_results_carry_hints(h: Harness) -> None:
    conv = modern(h)
    discovered, capabilities = advertised(conv)
    results = {"server/discover": discovered} if discovered else {}
    for cap, methods in CACHEABLE.items():
        for method in methods if cap in capabilities else ():
            results[method] = core.as_object(answer(conv, conv.modern(method)).get("result"))
    complete = {m: r for m, r in results.items() if r.get("resultType") == "complete"}
    if not complete:
        h.not_testable(f"no complete result came to {', '.join(results) or 'server/discover'}")
    wrong = []
    for method, result in complete.items():
        ttl, scope = result.get("ttlMs"), result.get("cacheScope")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0:
            wrong.append(f"{method}: ttlMs {ttl!r}")
        if scope not in ("public", "private"):
            wrong.append(f"{method}: cacheScope {scope!r}")
    h.require(not wrong, "caching hints missing or invalid: " + "; ".join(wrong))
    hints = {m: (r["ttlMs"], r["cacheScope"]) for m, r in complete.items()}
    h.observe(f"(ttlMs, cacheScope) of {len(complete)} result(s): {hints}")


def initialize_message(conv: Conversation, version: str) -> dict[str, Any]:
    params = {"protocolVersion": version, "capabilities": {}, "clientInfo": conv.core.client_info}
    return {"jsonrpc": "2.0", "id": conv.core.next_id(), "method": "initialize", "params": params}


def end_minted(conv: Conversation, ex: core.Exchange) -> str:
    """DELETE a session a raw request was given (the harness leaves none behind); what the answer minted, for a
    record."""
    minted = ex.headers.get("mcp-session-id")
    if minted is None:
        return ""
    version = core.as_object(core.as_object(answer(conv, ex).get("result"))).get("protocolVersion")
    headers = {**conv.core.base_headers, "Mcp-Session-Id": minted}
    if isinstance(version, str):
        headers["MCP-Protocol-Version"] = version
    conv.raw("DELETE", headers)
    return ", a session id minted"


@check("stateless.legacy.dual-era")
def test_dual_era_routing(h: Harness) -> None:
    conv = modern(h)
    seen = []
    discovered = answer(conv, conv.modern("server/discover")).get("result") or {}
    served = conv.modern("tools/list")
    typed = core.as_object(answer(conv, served).get("result")).get("resultType")
    seen.append(
        f"modern tools/list → HTTP {served.status}, resultType {typed!r}"
        + (", a session id minted" if "mcp-session-id" in served.headers else ", no session id")
    )
    legacy = h.session(initialize=False, label=f"legacy initialize for {V}")
    try:  # asks for the modern version at initialize, which 2026-07-28 does not have: a legacy one must come back
        offered = legacy.initialize(V).get("protocolVersion")
        era = "legacy" if offered in core.STATEFUL_VERSIONS else "NOT a session revision"
        sid = "a session" if legacy.core.session_id is not None else "no session id"
        seen.append(f"initialize asking for {V} → counter-offer {offered!r} ({era}), {sid}")
    except HarnessError as e:
        seen.append(f"initialize asking for {V} → {e}")
    listed = discovered.get("supportedVersions")
    seen.append(
        f"server/discover lists {listed}; initialize negotiates {h.probe.protocol_version}"
        + ("" if h.probe.protocol_version in (listed or []) else " (not listed: the spec does not say it must be)")
    )
    mixed = conv.core.modern_headers("tools/list", {})
    mixed.pop("MCP-Protocol-Version")
    body = {
        "jsonrpc": "2.0",
        "id": conv.core.next_id(),
        "method": "tools/list",
        "params": {"_meta": conv.core.envelope()},
    }
    ex = conv.raw("POST", mixed, body)
    seen.append(f"mixed: modern body without MCP-Protocol-Version → {shown(conv, ex)}{end_minted(conv, ex)}")
    headers = {**conv.core.headers(), "MCP-Protocol-Version": V}
    ex = conv.raw("POST", headers, initialize_message(conv, core.LATEST_VERSION))
    seen.append(f"mixed: initialize with MCP-Protocol-Version {V} → {shown(conv, ex)}{end_minted(conv, ex)}")
    h.info("; ".join(seen))


def role_call(
    h: Harness, conv: Conversation, role: str = "progress", meta: dict[str, Any] | None = None, **send: Any
) -> tuple[str, core.Exchange]:
    """The tool of `role` (the profile's [tools.<role>], else the fixture name) called as a modern request with a
    progressToken (and `meta`), its stream read as `send` says; not-testable when the server does not list it."""
    spec = h.target.tools[role]
    if role not in h.target.tools_named and h.probe.legacy and h.probe.session_id_issued:
        found = h.state.discover_roles().found.get(role)  # found in a session: the same tool serves both eras
        spec = found.tool if found else spec
    listed, _ = modern_tools(conv)
    if spec.name not in listed:
        h.not_testable(f"the server lists no tool {spec.name!r} for {role}; name one in [tools.{role}]")
    arguments = spec.arguments
    if arguments is None:
        try:
            arguments = tool_arguments(listed[spec.name], spec.hints, True)
        except Unsatisfiable as e:
            h.not_testable(f"no valid arguments for the {role} tool {spec.name!r} could be built: {e}")
    call = conv.core.modern("tools/call", {"name": spec.name, "arguments": arguments}, progress=True, meta=meta)
    return spec.name, conv.send(call, **send)


@check("stateless.http.sse-notifications-related")
def test_notifications_belong_to_their_call(h: Harness) -> None:
    conv = modern(h)
    name, ex = role_call(h, conv)
    token = core.as_object(core.as_object(ex.message).get("params")).get("_meta", {}).get("progressToken")
    notes = [m for m in ex.messages if "method" in m and "id" not in m]
    if not notes:
        h.not_testable(f"{name} sent no notification before its result ({answered_as(conv, ex)})")
    foreign = [
        f"{m['method']} for token {core.as_object(m.get('params')).get('progressToken')!r}"
        for m in notes
        if m["method"] == "notifications/progress" and core.as_object(m.get("params")).get("progressToken") != token
    ]
    h.require(not foreign, f"{name}'s stream carried notifications of another request: {', '.join(foreign)}")
    kinds = sorted({m["method"] for m in notes})
    h.observe(f"{name}: {len(notes)} notification(s) ({', '.join(kinds)}), progress only for its token {token!r}")


@check("stateless.http.x-accel-buffering")
def test_sse_answers_unbuffered(h: Harness) -> None:
    conv = modern(h)
    name, ex = role_call(h, conv)
    if ex.content_type != core.SSE:
        h.not_testable(f"{name} was answered {ex.content_type or 'without a content type'}, not an SSE stream")
    value = ex.headers.get("x-accel-buffering")
    h.require(value == "no", f"{name}'s SSE answer carries X-Accel-Buffering {value!r}, not 'no'")
    h.observe(f"{name}: SSE with X-Accel-Buffering: no")


def answered_as(conv: Conversation, ex: core.Exchange) -> str:
    typed = core.as_object(answer(conv, ex).get("result")).get("resultType")
    return f"HTTP {ex.status} {ex.content_type}, resultType {typed!r}"


CANCEL_SEEN = 5.0  # seconds the side channel is watched for the cancellation after the stream is closed


def cancelled_count(h: Harness) -> int | None:
    """The side channel's count of cancelled calls, or None when its answer holds none; unreachable, an error."""
    url, field = h.target.side_channel or ("", "")
    try:
        value = core.as_object(httpx.get(url, timeout=h.target.timeout).json()).get(field)
    except httpx.HTTPError as e:
        raise HarnessError(f"the side channel {url} could not be read: {type(e).__name__}: {e}") from None
    except ValueError:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@check("stateless.http.disconnect-cancels")
def test_closing_the_stream_cancels(h: Harness) -> None:
    if h.target.side_channel is None:
        h.not_testable("no side channel counts the server's cancelled calls: give --side-channel URL#FIELD")
    url, field = h.target.side_channel
    before = cancelled_count(h)
    if before is None:
        h.not_testable(f"the side channel {url} gave no whole number {field!r}")
    conv = modern(h)
    name, ex = role_call(h, conv, "slow", stop_when=lambda e: bool(e.messages))  # dropped at its first message
    if ex.request_id in conv.core.responses:
        h.not_testable(f"{name}'s result came before the stream could be closed mid-call")
    ends = time.monotonic() + CANCEL_SEEN
    after = before
    while after == before and time.monotonic() < ends:
        time.sleep(0.1)
        after = cancelled_count(h) or before
    h.require(after > before, f"{name}'s stream closed mid-call; {field} stayed {before} for {CANCEL_SEEN:g}s")
    h.observe(f"{name}'s stream closed at its first message; {field} {before} → {after}")


LOG_LEVEL = core.META + "logLevel"


@check("stateless.logging.opt-in")
def test_logs_only_when_asked(h: Harness) -> None:
    conv = modern(h)
    name, asked = role_call(h, conv, "logging", meta={LOG_LEVEL: "debug"})
    logs = [m for m in asked.messages if m.get("method") == "notifications/message"]
    if not logs:
        h.not_testable(f"{name} sent no notifications/message even with logLevel debug ({answered_as(conv, asked)})")
    _, plain = role_call(h, conv, "logging")
    unasked = [m for m in plain.messages if m.get("method") == "notifications/message"]
    h.require(not unasked, f"{name} without logLevel still got {len(unasked)} notifications/message")
    h.observe(f"{name}: {len(logs)} log message(s) with logLevel debug, none without")
