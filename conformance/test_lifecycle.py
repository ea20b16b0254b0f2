"""Lifecycle: the initialize handshake and version negotiation (basic/lifecycle)."""

from __future__ import annotations

from mcp_harness import schema, versions
from mcp_harness.core import STATEFUL_VERSIONS
from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import harmless_request, raw_post

RELEASED = versions.names()
UNKNOWN_VERSION = "1900-01-01"


def _initialize(h: Harness, version: str) -> tuple[int | None, dict | None]:
    """One initialize asking for `version`: (HTTP status, JSON-RPC response)."""
    s = h.session(initialize=False)
    ex = s.send(s.core.initialize(version))
    response = s.core.responses.get(ex.request_id)
    if response is not None and "result" in response:
        s.notify("notifications/initialized")
    return ex.status, response


@check("lifecycle.init.server-responds")
def test_initialize_result(h: Harness) -> None:
    status, response = _initialize(h, h.version)
    h.require(status == 200, f"initialize was answered HTTP {status}")
    h.require(response is not None and "result" in response, f"initialize got no result: {response!r}")
    result = response["result"]
    missing = [k for k in ("protocolVersion", "capabilities", "serverInfo") if k not in result]
    h.require(not missing, f"the InitializeResult lacks {', '.join(missing)}")
    problems = schema.validate_response(h.version, response, "initialize")
    h.require(not problems, "the InitializeResult does not match the schema: " + "; ".join(problems))
    info = result["serverInfo"]
    h.observe(f"{info.get('name')} {info.get('version')}, capabilities: {', '.join(sorted(result['capabilities']))}")


@check("lifecycle.version.server-counter-offer")
def test_unknown_version_counter_offer(h: Harness) -> None:
    status, response = _initialize(h, UNKNOWN_VERSION)
    h.require(
        response is not None and "result" in response,
        f"initialize asking for {UNKNOWN_VERSION} got HTTP {status} and {response!r} instead of a counter-offer "
        "(the lifecycle page's Error Handling example shows an error here, but the normative text requires a "
        "version the server supports)",
    )
    offered = response["result"].get("protocolVersion")
    h.require(offered != UNKNOWN_VERSION, f"the server echoed the unsupported version {UNKNOWN_VERSION}")
    h.require(offered in RELEASED, f"the server counter-offered {offered!r}, which is no released protocol version")
    h.observe(f"asked for {UNKNOWN_VERSION}, offered {offered}")


@check("lifecycle.version.server-echo")
def test_supported_version_echoed(h: Harness) -> None:
    # What the server supports is known only from what it offers: its counter-offer to an unknown version
    # and the version it negotiated with the probe. Each of those requested by name must come back as is.
    answers: dict[str, str | None] = {}
    for version in (UNKNOWN_VERSION, *STATEFUL_VERSIONS):
        _, response = _initialize(h, version)
        answers[version] = response["result"].get("protocolVersion") if response and "result" in response else None
    supported = {answers[UNKNOWN_VERSION], h.probe.protocol_version if h.probe else None} - {None}
    wrong = {v: a for v, a in answers.items() if v in supported and a != v}
    shown = ", ".join(f"{v}→{a}" for v, a in answers.items())
    h.require(not wrong, f"versions the server offers itself were not echoed: {wrong} (all answers: {shown})")
    h.observe(shown)


@check("lifecycle.init.first-interaction")
def test_request_before_initialize(h: Harness) -> None:
    if h.probe and not h.probe.session_id_issued:
        h.not_testable("the server issues no session id, so it cannot tell a first interaction from a later one")
    s = h.session(initialize=False)
    ex = raw_post(s, harmless_request(s), MCP_Protocol_Version=h.version)
    response = s.core.responses.get(ex.request_id)
    h.require(
        response is None or "result" not in response,
        f"tools/list sent before any initialize was served: HTTP {ex.status} with a result",
    )
    h.observe(f"refused with HTTP {ex.status}")
