"""Ping in both directions (basic/utilities/ping)."""

from __future__ import annotations

import time

from mcp_harness.core import JSON, SSE
from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import server_requests

PROMPT = 2.0  # seconds within which a ping answer counts as prompt
LISTEN = 1.0  # seconds the GET stream is watched for server pings


@check("ping.respond.prompt-empty")
def test_ping_answered_empty(h: Harness) -> None:
    s = h.session()
    started = time.monotonic()
    ex = s.request("ping")
    elapsed = time.monotonic() - started
    if ex.status == 200 and ex.content_type not in (JSON, SSE):  # judged by transport.post.request-content-type
        h.not_testable(f"the ping answer came as {ex.content_type!r}, which carries no JSON-RPC response")
    response = s.core.responses.get(ex.request_id)
    h.require(response is not None, f"ping got HTTP {ex.status} and no response")
    h.require("result" in response, f"ping was answered with an error: {response.get('error')}")
    extra = sorted(set(response["result"]) - {"_meta"})
    h.require(not extra, f"ping was answered with a non-empty result: {response['result']}")
    h.require(elapsed <= PROMPT, f"ping took {elapsed:.2f}s to answer")
    h.observe(f"empty result in {elapsed * 1000:.0f} ms")


@check("ping.periodic")
def test_server_pings(h: Harness) -> None:
    s = h.session()
    stream = s.open_stream()
    stream.wait_open(h.target.timeout)
    time.sleep(LISTEN)
    pings = server_requests(s, "ping")
    answered = [ex.status for ex in s.core.exchanges if ex.purpose == "response"]
    where = "on the GET stream" if stream.live else f"({stream.state()}; only its POST streams could carry one)"
    if pings:
        h.info(
            f"the server pinged {len(pings)} time(s) in {LISTEN:g}s {where}; answered with empty results "
            f"(HTTP {answered})"
        )
    h.info(f"no ping from the server within {LISTEN:g}s {where}")
