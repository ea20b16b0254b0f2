"""Sampling round trips and capability negotiation (client/sampling; basic/lifecycle § Operation)."""

from __future__ import annotations

from mcp_harness import core
from mcp_harness.driver import HarnessError
from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import call_tool, list_tools, result_text, server_requests

SAMPLED = "mcp-harness sampled text"
UNDECLARED_TIMEOUT = 5.0  # seconds: a tool refused its server request may wait; do not wait the full timeout


@check("sampling.request.shape")
def test_sampling_request_shape(h: Harness) -> None:
    s = h.session()
    ex = call_tool(s, h.tool("sampling", s))
    requests = server_requests(s, "sampling/createMessage")
    if not requests:
        h.not_testable(f"the tool {h.target.tools['sampling'].name!r} sent no sampling/createMessage request")
    problems = []
    for _, message in requests:
        params = message.get("params") or {}
        if not isinstance(params.get("messages"), list) or not params["messages"]:
            problems.append("no `messages`")
        if not isinstance(params.get("maxTokens"), int) or isinstance(params.get("maxTokens"), bool):
            problems.append(f"`maxTokens` is {params.get('maxTokens')!r}, not an integer")
        if "tools" in params or "toolChoice" in params:
            problems.append("tools in a sampling request although the client did not declare sampling.tools")
    problems += [v.detail for v in s.core.violations if v.rule == "schema.server-messages" and "Message" in v.detail]
    h.require(not problems, "; ".join(dict.fromkeys(problems)))
    response = s.core.responses.get(ex.request_id) or {}
    text = result_text(response.get("result") or {}) if "result" in response else repr(response)
    reached = "the sampled text reached the tool's result" if SAMPLED in text else f"the tool answered {text[:80]!r}"
    h.observe(f"{len(requests)} request(s) with messages and maxTokens; {reached}")


@check("lifecycle.operation.negotiated-only")
def test_no_request_for_undeclared_capability(h: Harness) -> None:
    # A client that declares neither sampling nor elicitation (its only handler is ping) calls both tools.
    client = h.client(timeout=min(UNDECLARED_TIMEOUT, h.target.timeout))
    s = h.session(client=client, handlers={"ping": core.DEFAULT_HANDLERS["ping"]})
    tools = list_tools(s)
    outcomes = []
    for role in ("sampling", "elicitation"):
        spec = h.target.tools[role]
        if spec.name not in tools:
            outcomes.append(f"{role}: no tool {spec.name!r}")
            continue
        try:
            call_tool(s, spec)
            outcomes.append(f"{role}: the tool answered")
        except HarnessError:
            outcomes.append(f"{role}: the tool did not answer within {client.config.timeout:g}s")
    sent = [v.detail for v in s.core.violations if v.rule == "lifecycle.operation.negotiated-only"]
    h.require(not sent, "; ".join(sent))
    if all("no tool" in o for o in outcomes):
        h.not_testable("the server lists neither the sampling nor the elicitation tool")
    h.observe("; ".join(outcomes))
