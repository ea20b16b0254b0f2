"""Multi round-trip requests, 2026-07-28 (basic/patterns/mrtr): input asked for in an InputRequiredResult and given
in a retry with a new id, `inputResponses` and the `requestState` echoed verbatim.

The tools are found by calling, first leg only, the tools the harness may call (the reference server's resolver
tools by name first); the answers come from the same handlers that answer a 2025-11-25 session's server requests
(by default an accepted form filling the requested schema and a fixed sampled text; `[mrtr]` of the profile
sets them, and how many retries one call may take).
"""

from __future__ import annotations

from typing import Any

from mcp_harness import core, schema
from mcp_harness.driver import Conversation
from mcp_harness.plugin import Harness, check

V = core.STATELESS_VERSION
SHOWN = 300


def result_of(conv: Conversation, ex: core.Exchange) -> dict[str, Any]:
    return core.as_object(core.as_object(conv.core.responses.get(ex.request_id)).get("result"))


def answered(conv: Conversation, ex: core.Exchange) -> str:
    """How `ex` was answered, in a few words: its resultType, or its error."""
    response = core.as_object(conv.core.responses.get(ex.request_id))
    if "error" in response:
        return f"HTTP {ex.status} error {str(response['error'])[:SHOWN]}"
    if "result" in response:
        return f"HTTP {ex.status} {result_of(conv, ex).get('resultType', 'no resultType')}"
    return f"HTTP {ex.status} with no JSON-RPC response"


def server_requests(conv: Conversation) -> list[str]:
    """Every request (id and method) the server sent on any of this conversation's streams."""
    return [f"{m['method']} on #{ex.number}" for ex, m in conv.messages() if "method" in m and "id" in m]


def answering(h: Harness, kind: str) -> Conversation:
    """A conversation for modern calls whose input requests get the profile's [mrtr] answers."""
    return h.session(initialize=False, label=f"mrtr {kind}", handlers=h.target.mrtr.handlers())


def first_leg(h: Harness, kind: str, **kwargs: Any) -> tuple[Conversation, str, dict[str, Any], core.Exchange]:
    """The tool that asks for `kind` input, called once; not-testable unless it asked again now."""
    name, arguments = h.input_tool(kind)
    conv = answering(h, kind)
    ex = conv.modern("tools/call", {"name": name, "arguments": arguments}, **kwargs)
    return conv, name, arguments, ex


@check("stateless.mrtr.required-pattern")
def test_input_asked_through_mrtr(h: Harness) -> None:
    seen = []
    h.input_tool("input")  # not-testable (or an error, the server gone) unless some tool asks for input
    found = h.state.find_input_tools().found
    for kind in ("elicitation", "sampling"):
        if kind not in found:
            continue
        name, arguments = found[kind]
        conv = answering(h, kind)
        trips = conv.mrtr("tools/call", {"name": name, "arguments": arguments}, rounds=h.target.mrtr.rounds)
        requests = server_requests(conv)
        h.require(not requests, f"{name}: the server sent requests on a stream: {', '.join(requests)}")
        first, last = result_of(conv, trips[0]), result_of(conv, trips[-1])
        h.require(first.get("resultType") == core.INPUT_REQUIRED, f"{name}: first call {answered(conv, trips[0])}")
        done = last.get("resultType") == "complete" and len(trips) > 1
        h.require(done, f"{name}: after {len(trips) - 1} retr(ies) with the answers: {answered(conv, trips[-1])}")
        seen.append(f"{name}: input_required, then complete after {len(trips) - 1} retr(ies)")
    if not seen:
        h.not_testable(
            f"no tool asked for elicitation or sampling: {h.state.find_input_tools().missing('elicitation')}"
        )
    h.observe("; ".join(seen))


@check("stateless.mrtr.value-types")
def test_input_requests_are_requests(h: Harness) -> None:
    conv, name, _, ex = first_leg(h, "elicitation")
    requests = result_of(conv, ex).get("inputRequests")
    if not isinstance(requests, dict) or not requests:
        h.not_testable(f"{name} asked for nothing this time: {answered(conv, ex)}")
    wrong = {
        key: problems for key, value in requests.items() if (problems := schema.validate_as(V, "InputRequest", value))
    }
    h.require(not wrong, f"{name}: inputRequests values that are no InputRequest: {wrong}")
    methods = {key: core.as_object(value).get("method") for key, value in requests.items()}
    h.observe(f"{name}: {methods}")


@check("stateless.mrtr.non-empty")
def test_input_required_carries_something(h: Harness) -> None:
    conv, name, _, ex = first_leg(h, "input")
    result = result_of(conv, ex)
    if result.get("resultType") != core.INPUT_REQUIRED:
        h.not_testable(f"{name} did not ask for input this time: {answered(conv, ex)}")
    carried = [f for f in ("inputRequests", "requestState") if f in result]
    h.require(bool(carried), f"{name}: an InputRequiredResult with neither inputRequests nor requestState: {result}")
    h.observe(f"{name}: {' and '.join(carried)}")


@check("stateless.mrtr.declared-capabilities")
def test_undeclared_input_not_asked(h: Harness) -> None:
    conv, name, _, ex = first_leg(h, "elicitation", meta={core.META + "clientCapabilities": {}})
    requests = core.as_object(result_of(conv, ex).get("inputRequests"))
    asked = sorted({str(core.as_object(r).get("method")) for r in requests.values()})
    h.require(not asked, f"{name}, from a client declaring no capabilities, asked for {', '.join(asked)}")
    response = core.as_object(conv.core.responses.get(ex.request_id))
    code = core.as_object(response.get("error")).get("code")
    h.observe(f"{name} with no capabilities declared: {answered(conv, ex)}" + (" (-32021)" if code == -32021 else ""))


@check("stateless.mrtr.re-ask-missing")
def test_missing_input_asked_again(h: Harness) -> None:
    conv, name, _, ex = first_leg(h, "elicitation")
    if result_of(conv, ex).get("resultType") != core.INPUT_REQUIRED:
        h.not_testable(f"{name} did not ask for input this time: {answered(conv, ex)}")
    retry = conv.send(conv.core.retry(ex, responses={}))  # the requestState echoed, the answers left out
    again = result_of(conv, retry)
    h.require(
        again.get("resultType") == core.INPUT_REQUIRED, f"{name}: a retry without the answers → {answered(conv, retry)}"
    )
    asked = sorted(core.as_object(again.get("inputRequests")))
    h.observe(f"{name}: a retry without the answers was asked again ({', '.join(asked) or 'requestState only'})")


LISTS = ("server/discover", "tools/list", "prompts/list", "resources/list", "resources/templates/list")


@check("stateless.mrtr.allowed-methods")
def test_input_required_only_where_allowed(h: Harness) -> None:
    conv = h.session(initialize=False, label="modern lists")
    answered_by = {method: result_of(conv, conv.modern(method)) for method in LISTS}
    results = {m: r for m, r in answered_by.items() if r}
    if not results:
        h.not_testable(f"no result came to {', '.join(LISTS)}")
    interim = [m for m, r in results.items() if r.get("resultType") == core.INPUT_REQUIRED]
    h.require(not interim, f"InputRequiredResult on {', '.join(interim)}, which may not get one")
    h.observe(f"{len(results)} result(s) ({', '.join(results)}), none input_required")
