"""Cancellation of an in-flight request (basic/utilities/cancellation)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from mcp_harness import core
from mcp_harness.driver import Conversation
from mcp_harness.plugin import Harness, check

CANCEL_AFTER = 0.5  # seconds into the call (or at its first progress notification, if sooner)
IN_FLIGHT = 1  # messages that may cross the cancellation on the wire


@check("cancellation.receiver.stop", roles=True)
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
    later = _tied_after(s, cancel[0], ex, token)
    kinds = ", ".join(f"{n} {m}" for m, n in Counter(later).items())
    h.require(
        len(later) <= IN_FLIGHT,
        f"{len(later)} messages tied to the cancelled request after the cancellation was accepted ({kinds}): the "
        "request kept being processed",
    )
    after = f"{len(later)} message(s) tied to it after the cancellation" + (f" ({kinds})" if later else "")
    if ex.status is None:
        # JSON response mode: without a JSON-RPC response there is no HTTP response to send; the POST is left open.
        h.observe(
            f"202 for the cancellation; the cancelled POST got no HTTP response at all (abandoned after "
            f"{s.client.config.timeout:g}s of silence); {after}"
        )
    elif response is None:
        h.observe(f"202 for the cancellation; its stream ended with no response for the cancelled request; {after}")
    else:
        # Cancellation asks for no response, the transport for a response on every POST stream: an error is accepted.
        h.observe(f"202 for the cancellation; the stream ended with error {response['error'].get('code')}; {after}")


def _tied_after(conv: Conversation, cancel: core.Exchange, call: core.Exchange, token: str) -> list[str]:
    """The methods of the messages tied to the cancelled call received after the cancellation was sent: any
    message on the call's own stream (resumptions included) but its response, and progress for its token anywhere."""
    timeline = conv.core.timeline
    start = next(i for i, (kind, ex, _) in enumerate(timeline) if kind == "sent" and ex is cancel)
    found = []
    for kind, ex, m in timeline[start:]:
        if kind != "received" or not isinstance(m, dict) or "method" not in m:
            continue
        if ex.stream is call or core.as_object(m.get("params")).get("progressToken") == token:
            found.append(str(m["method"]))
    return found
