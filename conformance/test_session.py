"""Session management over Streamable HTTP (basic/transports § Session Management, Multiple Connections)."""

from __future__ import annotations

import re
import threading
import uuid

from mcp_harness.core import session_header
from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import harmless_request, progress, raw_post
from mcp_harness.wire import fingerprint

SESSION_COUNT = 3  # sessions opened to compare ids
ISOLATION_ROUNDS = 3


def _ascii_problems(sid: str) -> list[str]:
    return [f"{ch!r} (0x{ord(ch):02X}) at {i}" for i, ch in enumerate(sid) if not 0x21 <= ord(ch) <= 0x7E]


@check("transport.session.assign-at-init")
def test_session_id_issued(h: Harness) -> None:
    s = h.session()
    if s.core.session_id is not None:
        h.observe(f"session {fingerprint(s.core.session_id)}")
        return
    if h.target.declared_stateful:
        h.fail("no session id header on the InitializeResult response, although the target is declared stateful")
    h.info("the server issued no session id: a stateless server (session checks do not apply)")


@check("transport.session.id-visible-ascii")
def test_session_id_visible_ascii(h: Harness) -> None:
    sid = h.session().core.session_id or ""
    problems = _ascii_problems(sid)
    h.require(not problems, f"the session id has characters outside 0x21–0x7E: {', '.join(problems[:5])}")
    h.require(sid != "", "the session id is empty")


@check("transport.session.id-secure")
def test_session_ids_unique(h: Harness) -> None:
    ids = [h.session().core.session_id for _ in range(SESSION_COUNT)]
    distinct = len(set(ids))
    h.require(distinct == len(ids), f"{len(ids)} sessions got only {distinct} distinct session id(s)")
    h.observe(f"{len(ids)} sessions, {distinct} distinct ids")


@check("transport.session.id-format")
def test_session_id_format(h: Harness) -> None:
    sid = h.session().core.session_id or ""
    if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", sid, re.I):
        shape = "a UUID"
    elif re.fullmatch(r"[0-9a-fA-F]+", sid):
        shape = "hexadecimal"
    elif re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", sid):
        shape = "a JWT-like token"
    elif re.fullmatch(r"[A-Za-z0-9_\-+/=]+", sid):
        shape = "base64-like"
    else:
        shape = "free-form"
    h.info(f"{len(sid)} characters, {shape}")


@check("transport.session.missing-id-400")
def test_missing_session_id(h: Harness) -> None:
    s = h.session()
    ex = raw_post(s, harmless_request(s), **{session_header(h.version): None})
    h.require(ex.status == 400, f"tools/list without the session id was answered HTTP {ex.status}, expected 400")


@check("transport.session.expired-404")
def test_deleted_session_404(h: Harness) -> None:
    s = h.session()
    deleted = s.delete()
    if deleted.status == 405:
        s.call("tools/list")  # the session must still work: DELETE was refused, not obeyed
        h.observe("DELETE refused with 405 (allowed); the session still works")
        return
    answered = f"HTTP {deleted.status} {deleted.content_type or ''}".rstrip()
    if not (deleted.status is not None and 200 <= deleted.status < 300):
        # Neither accepted nor refused the way the spec offers (405). Only a terminated session is bound to 404.
        still = raw_post(s, harmless_request(s))
        if still.status == 200 and any("result" in m for m in still.messages):
            h.not_testable(
                f"DELETE was answered {answered}, yet the session still works (tools/list → 200): it was not "
                "terminated, so no request after termination could be judged. Not a MUST violation (the MUST binds "
                "a terminated session); a server that does not let clients end sessions MAY answer 405"
            )
    statuses = {
        "POST": raw_post(s, harmless_request(s)).status,
        "GET": s.raw("GET", s.core.headers(accept="text/event-stream", content_type=None)).status,
        "DELETE": s.raw("DELETE", s.core.headers(accept="application/json", content_type=None)).status,
    }
    wrong = {m: st for m, st in statuses.items() if st != 404}
    h.require(not wrong, f"after a DELETE answered {answered}, requests with that session id got {wrong}")
    h.observe(f"DELETE answered {answered}; POST, GET and DELETE with the id then got 404")


@check("transport.session.unknown-id")
def test_never_issued_session_id(h: Harness) -> None:
    s = h.session()
    ex = raw_post(s, harmless_request(s), **{session_header(h.version): f"mcp-harness-never-issued-{uuid.uuid4().hex}"})
    h.info(f"a session id the server never issued was answered HTTP {ex.status}")


@check("transport.session.isolation", roles=True)
def test_sessions_isolated(h: Harness) -> None:
    spec = h.optional_tool("progress")
    use_progress = spec is not None  # progress notifications make cross-talk visible; else plain requests
    sessions = [h.session(client=h.client()) for _ in range(2)]
    streams = [s.open_stream() for s in sessions]
    for stream in streams:
        stream.wait_open(h.target.timeout)
    errors: list[str] = []

    def work(index: int) -> None:
        try:
            for _ in range(ISOLATION_ROUNDS):
                if use_progress:
                    progress(sessions[index], spec)
                else:
                    sessions[index].call("tools/list")
        except Exception as e:
            errors.append(f"session {index + 1}: {e}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(h.target.timeout * (ISOLATION_ROUNDS + 1))
    for s in sessions:
        s.close()  # DELETE ends the GET streams
    if errors:
        raise RuntimeError("; ".join(errors))
    crossed = [
        f"session {i + 1}: {v.detail}"
        for i, s in enumerate(sessions)
        for v in s.core.violations
        if v.rule in ("transport.session.isolation", "jsonrpc.response.same-id")
    ]
    h.require(not crossed, "messages of one session reached another: " + "; ".join(crossed[:5]))
    what = "progress tool calls" if use_progress else "tools/list calls"
    got = sorted({stream.state() for stream in streams})
    h.observe(f"2 concurrent sessions ({'; '.join(got)}), {ISOLATION_ROUNDS} {what} each")
