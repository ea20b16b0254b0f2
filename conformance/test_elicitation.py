"""Elicitation round trips (client/elicitation; basic/transports § Sending Messages to the Server)."""

from __future__ import annotations

from typing import Any

from mcp_harness import core, versions
from mcp_harness.driver import Conversation, HarnessError
from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import elicitation, result_text, server_requests

PRIMITIVES = ("string", "number", "integer", "boolean")


def schema_problems(version: str, params: dict[str, Any]) -> list[str]:
    """Why an elicitation/create request is not a valid form request for `version` (empty when it is)."""
    problems = []
    if not isinstance(params.get("message"), str):
        problems.append("no string `message`")
    if params.get("mode", "form") != "form":
        return problems  # URL mode: no schema to judge here
    schema = params.get("requestedSchema")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return [*problems, f"`requestedSchema` is not an object schema: {schema!r}"]
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type") if isinstance(prop, dict) else None
        arrays = versions.revision(version).elicitation_enum_arrays
        multi_select = kind == "array" and arrays and isinstance(prop.get("items"), dict)
        if multi_select:
            items = prop["items"]
            if not ("enum" in items or "anyOf" in items):
                problems.append(f"property {name!r}: an array whose items are not an enumeration")
        elif kind not in PRIMITIVES:
            problems.append(f"property {name!r} has type {kind!r}: only flat primitive properties are allowed")
    return problems


def elicit(h: Harness, conv: Conversation) -> core.Exchange:
    return elicitation(conv, h.tool("elicitation", conv))


@check("elicitation.form.params", roles=True)
def test_elicitation_request_shape(h: Harness) -> None:
    s = h.session(listen=True)
    spec = h.tool("elicitation", s)
    elicitation(s, spec)
    requests = server_requests(s, "elicitation/create")
    if not requests:
        h.not_testable(f"the tool {spec.name!r} sent no elicitation/create request")
    problems = [p for _, m in requests for p in schema_problems(h.version, m.get("params") or {})]
    problems += [v.detail for v in s.core.violations if v.rule == "schema.server-messages" and "Elicit" in v.detail]
    h.require(not problems, "; ".join(problems[:5]))
    schema = core.as_object(core.as_object(requests[0][1].get("params")).get("requestedSchema"))
    props = sorted(core.as_object(schema.get("properties")))
    h.observe(f"{len(requests)} request(s); properties: {', '.join(props) or 'none'}")


@check("transport.sse.related-messages", roles=True)
def test_elicitation_on_the_calls_stream(h: Harness) -> None:
    h.tool("elicitation")
    client = h.quick_client()  # a misrouted elicitation leaves the tool waiting
    caller, bystander = h.session(client=client), h.session(client=h.client())
    for conv in (caller, bystander):
        conv.open_stream().wait_open(h.target.timeout)
    problems = []
    try:
        ex = elicit(h, caller)
    except HarnessError as e:
        ex = None
        problems.append(f"the tool call did not complete ({e})")
    stray = server_requests(bystander, "elicitation/create")
    if stray:
        problems.append(f"another session received {len(stray)} elicitation/create it never triggered")
    mine = server_requests(caller, "elicitation/create")
    if not mine and not stray:
        h.not_testable("the elicitation tool sent no elicitation/create request")
    for exchange, message in mine:
        if exchange.stream is not ex:
            problems.append(
                f"elicitation/create arrived on #{exchange.number} ({exchange.purpose}), not the call's stream"
            )
        if not isinstance(message.get("id"), (str, int)) or isinstance(message.get("id"), bool):
            problems.append(f"elicitation/create carries no string or integer id: {message.get('id')!r}")
    if ex is not None:
        problems += _result_after_reply(caller, ex)
    h.require(not problems, "; ".join(problems))
    h.observe("elicitation/create on the tools/call stream; its result followed our 202-answered reply there")


def _result_after_reply(conv: Conversation, ex: core.Exchange) -> list[str]:
    """The call's result must come on its own stream, after the client's answer was sent."""
    timeline = conv.core.timeline
    replies = [i for i, (kind, e, _) in enumerate(timeline) if kind == "sent" and e.purpose == "response"]
    results = [
        i
        for i, (kind, e, m) in enumerate(timeline)
        if kind == "received" and m is not None and m.get("id") == ex.request_id and "method" not in m
    ]
    if not results:
        return ["the tool call got no result"]
    index = results[0]
    if timeline[index][1].stream is not ex:
        return [f"the result arrived on #{timeline[index][1].number}, not on the call's stream"]
    if replies and index < replies[0]:
        return ["the result arrived before the client answered the elicitation"]
    return []


@check("elicitation.response.actions", roles=True)
def test_each_answer_reaches_the_tool(h: Harness) -> None:
    spec = h.tool("elicitation")
    seen = {}
    for action in ("accept", "decline", "cancel"):
        handlers = {**core.DEFAULT_HANDLERS, "elicitation/create": core.elicitation_answer(action)}
        conv = h.session(handlers=handlers, listen=True)
        try:
            ex = elicitation(conv, spec)
        except HarnessError as e:  # what the tool did is the information; no answer is an answer too
            seen[action] = f"no result ({e})"
            continue
        response = conv.core.responses.get(ex.request_id) or {}
        seen[action] = result_text(response.get("result") or {}) if "result" in response else repr(response)
    h.info("; ".join(f"{action} → {text[:80]!r}" for action, text in seen.items()))
