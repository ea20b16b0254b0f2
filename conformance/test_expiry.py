"""Session expiry: idle past the timeout → 404 → a fresh initialize from the same client (basic/transports)."""

from __future__ import annotations

import time

from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import harmless_request, raw_post
from mcp_harness.wire import fingerprint


def idle_wait(timeout: float) -> float:
    """How long to stay idle: past the timeout with a margin for the server's timer granularity."""
    return timeout + max(1.0, 0.1 * timeout)


@check("transport.session.expired-404.idle")
def test_idle_session_expires(h: Harness) -> None:
    if h.target.idle_timeout is None:
        h.not_testable("no idle timeout known: give --idle-timeout SECONDS (or idle_timeout in the profile)")
    s = h.session()
    s.call("tools/list")
    old = s.core.session_id or ""
    wait = idle_wait(h.target.idle_timeout)
    h.say(f"transport.session.expired-404.idle: staying idle {wait:g}s (idle timeout {h.target.idle_timeout:g}s)")
    time.sleep(wait)
    status = raw_post(s, harmless_request(s)).status
    h.require(status == 404, f"after {wait:g}s idle the session was answered HTTP {status}, expected 404")
    s.core.reset()  # the same client, the same connection pool: start a new session
    s.initialize()
    h.require(s.core.session_id is not None, "the fresh initialize after the 404 issued no session id")
    h.require(s.core.session_id != old, "the fresh initialize after the 404 reused the expired session id")
    s.call("tools/list")
    h.observe(f"404 after {wait:g}s idle; re-initialized as {fingerprint(s.core.session_id or '')}, which works")
