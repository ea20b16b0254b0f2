"""Sampling round trips and capability negotiation (client/sampling; basic/lifecycle § Operation)."""

from __future__ import annotations

import contextlib

from mcp_harness import core
from mcp_harness.discovery import SIGNS
from mcp_harness.driver import Conversation, HarnessError
from mcp_harness.plugin import Harness, check
from mcp_harness.profile import ToolSpec
from mcp_harness.scenarios import call_tool, result_text, sampling, server_requests

SAMPLED = "mcp-harness sampled text"


@check("sampling.request.shape", roles=True)
def test_sampling_request_shape(h: Harness) -> None:
    s = h.session(listen=True)
    spec = h.tool("sampling", s)
    ex = sampling(s, spec)
    requests = server_requests(s, "sampling/createMessage")
    if not requests:
        h.not_testable(f"the tool {spec.name!r} sent no sampling/createMessage request")
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
    text = result_text(core.as_object(response.get("result"))) if "result" in response else repr(response)
    reached = "the sampled text reached the tool's result" if SAMPLED in text else f"the tool answered {text[:80]!r}"
    h.observe(f"{len(requests)} request(s) with messages and maxTokens; {reached}")


@check("lifecycle.operation.negotiated-only", roles=True)
def test_no_request_for_undeclared_capability(h: Harness) -> None:
    # Which tools exist is asked by a client that declares everything (a server may hide the tools from others);
    # then a client that declares neither sampling nor elicitation (its only handler is ping) calls them.
    capable = h.session(listen=True)
    tools = {role: h.optional_tool(role, capable) for role in ("sampling", "elicitation")}
    found = {role: spec for role, spec in tools.items() if spec is not None}
    if not found:
        h.not_testable("no sampling or elicitation tool was found, even by a capable client")
    roles = {role: spec for role, spec in found.items() if _sends_its_request(capable, role, spec)}
    if not roles:  # then no request to the other client would prove nothing
        named = ", ".join(f"{spec.name} ({role})" for role, spec in found.items())
        h.not_testable(f"the tools sent no server request even to a client that declares every capability: {named}")
    client = h.quick_client()  # a tool refused its server request may wait for it
    s = h.session(client=client, handlers={"ping": core.DEFAULT_HANDLERS["ping"]}, listen=True)
    outcomes = []
    for role, spec in roles.items():
        try:
            ex = call_tool(s, spec)
            response = s.core.responses.get(ex.request_id) or {}
            failed = "error" in response or core.as_object(response.get("result")).get("isError")
            outcomes.append(f"{role}: the tool answered" + (" with an error" if failed else ""))
        except HarnessError:
            outcomes.append(f"{role}: the tool did not answer within {client.config.timeout:g}s")
    sent = [v.detail for v in s.core.violations if v.rule == "lifecycle.operation.negotiated-only"]
    h.require(not sent, "; ".join(sent))
    h.observe("no server request; " + "; ".join(outcomes))


def _sends_its_request(conv: Conversation, role: str, spec: ToolSpec) -> bool:
    """Whether the role's tool, called by a client that declares the capability, sends its server request."""
    before = len(server_requests(conv, SIGNS[role]))
    with contextlib.suppress(HarnessError):  # judged by what came, as for the capability-less client
        call_tool(conv, spec)
    return len(server_requests(conv, SIGNS[role])) > before
