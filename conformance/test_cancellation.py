"""Cancellation of an in-flight request (basic/utilities/cancellation)."""

from __future__ import annotations

import threading
import time

from mcp_harness import core
from mcp_harness.driver import Conversation
from mcp_harness.plugin import Harness, check

CANCEL_AFTER = 0.5  # seconds into the call (or at its first progress notification, if sooner)
IN_FLIGHT = 1  # progress notifications that may cross the cancellation on the wire


@check("cancellation.receiver.stop")
def test_cancelled_request_gets_no_result(h: Harness) -> None:
    s = h.session(client=h.quick_client())  # after the cancellation, silence is the expected answer
    spec = h.tool("slow", s)
    ex = s.core.request("tools/call", {"name": spec.name, "arguments": spec.arguments}, progress=True)
    token = ex.message["params"]["_meta"]["progressToken"]
    cancel: list[core.Exchange] = []

    def send_cancel() -> None:
        deadline = time.monotonic() + CANCEL_AFTER
        while not s.core.progress.get(token) and time.monotonic() < deadline:
            time.sleep(0.02)
        if ex.request_id not in s.core.responses:
            cancel.append(s.notify("notifications/cancelled", {"requestId": ex.request_id, "reason": "mcp-harness"}))

    canceller = threading.Thread(target=send_cancel)
    canceller.start()
    s.send(ex, stop_at_response=False)  # read on: whatever follows the cancellation is the evidence
    canceller.join(h.target.timeout)
    if not cancel:
        h.not_testable(f"the tool {spec.name!r} finished before it could be cancelled (~{CANCEL_AFTER}s)")
    h.require(cancel[0].status == 202, f"notifications/cancelled was answered HTTP {cancel[0].status}, not 202")
    response = s.core.responses.get(ex.request_id)
    h.require(
        response is None or "result" not in response,
        "the cancelled request still got its result: the cancellation was ignored",
    )
    later = _progress_after(s, cancel[0], token)
    h.require(
        later <= IN_FLIGHT,
        f"{later} progress notifications after the cancellation was accepted: the request kept being processed",
    )
    if response is None:
        h.observe(f"202 for the cancellation; no response for the cancelled request; {later} progress after it")
    else:
        # Cancellation asks for no response, the transport for a response on every POST stream: an error is accepted.
        h.observe(f"202 for the cancellation; the stream ended with error {response['error'].get('code')}")


def _progress_after(conv: Conversation, cancel: core.Exchange, token: str) -> int:
    """Progress notifications for `token` received after the cancellation was sent."""
    timeline = conv.core.timeline
    start = next(i for i, (kind, ex, _) in enumerate(timeline) if kind == "sent" and ex is cancel)
    return sum(
        1
        for kind, _, m in timeline[start:]
        if kind == "received" and m is not None and (m.get("params") or {}).get("progressToken") == token
    )
