"""Redaction in wire logs: credentials, user headers and session ids never appear in clear."""

from __future__ import annotations

from mcp_harness import core
from mcp_harness.wire import Redactor, WireLog, fingerprint


def test_wire_log_redacts_credentials_user_headers_and_session_ids() -> None:
    redactor = Redactor(user_headers=["X-Tenant"], secrets=["tenant-secret-9", "tok-12345"])
    log = WireLog(redactor, "t")
    s = core.Session(base_headers={"Authorization": "Bearer tok-12345", "X-Tenant": "tenant-secret-9"})
    ex = s.initialize()
    log.record(s.sent(ex))
    log.record(
        s.receive_start(
            ex, 200, {"mcp-session-id": "sid-0123456789", "set-cookie": "a=b", "content-type": "application/json"}
        )
    )
    log.record(s.receive_data(ex, b'{"echo": "tok-12345"}'))
    log.record(s.receive_end(ex))
    text = log.render()
    for secret in ("tok-12345", "tenant-secret-9", "sid-0123456789", "a=b"):
        assert secret not in text
    assert fingerprint("sid-0123456789") in text
    assert "Authorization: <redacted>" in text and "X-Tenant: <redacted>" in text


def test_scrub_replaces_every_occurrence() -> None:
    r = Redactor(secrets=["abcd1234"])
    assert r.scrub("x abcd1234 y abcd1234") == "x <redacted> y <redacted>"
