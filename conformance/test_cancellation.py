"""Cancellation of an in-flight request (basic/utilities/cancellation)."""

from __future__ import annotations

import threading

from mcp_harness.plugin import Harness, check

CANCEL_AFTER = 0.5  # seconds into the call (or at its first progress notification, if sooner)


@check("cancellation.receiver.stop")
def test_cancelled_request_gets_no_result(h: Harness) -> None:
    s = h.session()
    spec = h.tool("slow", s)
    ex = s.core.request("tools/call", {"name": spec.name, "arguments": spec.arguments}, progress=True)
    token = ex.message["params"]["_meta"]["progressToken"]
    cancel: list = []

    def send_cancel() -> None:
        started = threading.Event()
        for _ in range(int(CANCEL_AFTER / 0.05)):
            if s.core.progress.get(token) or started.wait(0.05):
                break
        if ex.request_id not in s.core.responses:
            cancel.append(s.notify("notifications/cancelled", {"requestId": ex.request_id, "reason": "mcp-harness"}))

    canceller = threading.Thread(target=send_cancel)
    canceller.start()
    s.send(ex, stop_at_response=False)
    canceller.join(h.target.timeout)
    if not cancel:
        h.not_testable(f"the tool {spec.name!r} finished before it could be cancelled (~{CANCEL_AFTER}s)")
    h.require(cancel[0].status == 202, f"notifications/cancelled was answered HTTP {cancel[0].status}, not 202")
    response = s.core.responses.get(ex.request_id)
    if response is None:
        h.observe("202 for the cancellation; no response for the cancelled request")
        return
    h.require("result" not in response, "the cancelled request still got its result: the cancellation was ignored")
    # Cancellation asks for no response, the transport for a response on every POST stream: an error is accepted.
    h.observe(
        f"202 for the cancellation; the stream ended with error {response['error'].get('code')} instead of a result"
    )
