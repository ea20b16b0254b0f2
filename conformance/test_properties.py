"""Property-based checks with hypothesis: a session state machine, tool arguments generated from each tool's
inputSchema, malformed input, and JSON-RPC error codes (basic/transports, basic/index, server/tools).

Generated arguments go to the tools the profile lists ([properties] tools) or, without that list, to the tools the
harness may call: those the profile names, those with an official fixture name, those annotated readOnlyHint (never
one annotated destructiveHint that the profile does not name). Each such tool gets its hard-but-valid and its invalid
cases (every one sent) and random valid arguments (within the budget); a call unanswered by the per-call deadline
(--property-call-timeout) is cancelled and recorded, not failed. Protocol-level bad input goes to every target, as
h2spec and Autobahn send theirs: unknown methods and broken params always, malformed bodies of at most 64 KiB unless
--no-property-malformed (1-16 MiB ones only with --property-oversized). Every property check keeps under a
request-rate cap and a budget in examples and seconds (--property-budget, --seed). `-m property` /
`-m "not property"` select them as a group.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule

from mcp_harness import core
from mcp_harness.core import STATEFUL_VERSIONS, session_header
from mcp_harness.driver import Conversation, HarnessError, Overdue
from mcp_harness.plugin import Harness, check
from mcp_harness.properties import (
    PING,
    RELEASED,
    VISIBLE,
    Arguments,
    Call,
    Case,
    Malformed,
    Runner,
    arguments,
    batch_answer,
    error_calls,
    generated_tools,
    judge_error,
    judge_malformed,
    malformed_requests,
)
from mcp_harness.scenarios import list_tools
from mcp_harness.versions import revision

pytestmark = pytest.mark.property

MODEL_STEPS = 16  # rules per generated sequence
BAD_VERSION = st.text(VISIBLE, min_size=1, max_size=24).filter(lambda v: v not in RELEASED)
NEVER_ISSUED = st.text(VISIBLE, min_size=1, max_size=40)
NOTIFICATIONS = ("notifications/initialized", "notifications/mcp-harness/ignored")
OFF_MALFORMED = "skipped on request: --no-property-malformed (or [properties] malformed = false)"
OVER_4_MIB = b'{"jsonrpc":"2.0","id":7,"method":"ping","params":{"p":"' + b"x" * (2**22 + 1) + b'"}}'


def idle_wait(timeout: float) -> float:
    """Idle this long, a session is surely expired (the server's timer has a granularity; as the expiry check)."""
    return timeout + max(1.0, 0.1 * timeout)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:160]


# --- shared steps -------------------------------------------------------------------------------------------------


def open_session(run: Runner, label: str) -> Conversation:
    """A session for one example; a target that cannot open one is an error of the check, not a failure."""
    conv = run.client().session(label=label)
    conv.initialize()
    return conv


def send(run: Runner, conv: Conversation, exchange: core.Exchange, what: str) -> core.Exchange:
    try:
        return conv.send(exchange)
    except HarnessError as e:
        run.fail(f"{what}: no answer ({e})")


def require_healthy(run: Runner, conv: Conversation, after: str) -> None:
    """The next valid request succeeds: a ping in the same session, or in a new one if the server ended that
    session (404: it MAY end a session at any time)."""
    ex = send(run, conv, conv.core.request("ping"), f"{after}, a ping")
    if ex.status == 404:
        run.ended_sessions += 1  # said in the verdict: it MAY end a session at any time
        try:
            conv = open_session(run, "after a 404")
        except HarnessError as e:
            run.fail(f"{after}, the session was gone (404) and a new one could not be opened: {e}")
        ex = send(run, conv, conv.core.request("ping"), f"{after}, a ping in a new session")
    response = conv.core.responses.get(ex.request_id) or {}
    if ex.status != 200 or "result" not in response:
        run.fail(f"{after}, a valid ping got HTTP {ex.status} {_json(response)}: the server is not healthy")


def violations(conv: Conversation, start: int = 0) -> list[str]:
    return [f"{v.rule}: {v.detail}" for v in conv.core.violations[start:]]


def call_tool(run: Runner, conv: Conversation, name: str, args: Any, what: str) -> core.Exchange | None:
    """tools/call within the per-call deadline. An overdue call is cancelled (notifications/cancelled), recorded in
    the observation and judged no further (None): only what the server answered can fail a check."""
    request = conv.core.request("tools/call", {"name": name, "arguments": args})
    try:
        return conv.send(request, deadline=run.settings.call_timeout)
    except Overdue:
        run.cancelled.append(f"{name} {_json(args)[:80]}")
        params = {"requestId": request.request_id, "reason": "mcp-harness: no response within the per-call deadline"}
        send(run, conv, conv.core.notify("notifications/cancelled", params), f"{what}: notifications/cancelled")
        return None
    except HarnessError as e:
        run.fail(f"{what}: no answer ({e})")


def tool_calls(run: Runner, h: Harness) -> tuple[st.SearchStrategy[tuple[str, Any] | None], list[str]]:
    """(tool name, generated arguments) for the tools that may get them; and why some may not."""
    chosen, skipped = generated_tools(list_tools(h.session()), h.target)
    plans = [arguments(tool, h.version) for tool in chosen]
    run.notes += [p.note for p in plans if p.note]
    usable = [st.tuples(st.just(p.tool), p.strategy) for p in plans if p.strategy is not None]
    return (st.one_of(usable) if usable else st.none()), skipped


# --- the session state machine ------------------------------------------------------------------------------------


@dataclass(eq=False)
class Tracked:
    """A session as the model sees it: live, deleted (by us) or gone (the server answered 404)."""

    number: int
    conv: Conversation | None = None  # None when the example sends nothing (over budget)
    state: str = "live"  # live | deleted | gone | unsure (a DELETE answered 404: ended, or not routed)
    since: str = ""
    last: float = 0.0  # when it last served a request (for the idle timeout)


@dataclass(eq=False)
class Expiring:
    """A session opened before the examples and left idle: once past the idle timeout it must get 404."""

    conv: Conversation
    last: float


def expiring_session(h: Harness, run: Runner) -> Expiring | None:
    if h.target.idle_timeout is None:
        return None
    conv = h.client(before_send=run.pacer).session(label="left to expire")
    conv.initialize()
    run.aliases[conv.core.session_id or ""] = "EXPIRED"
    return Expiring(conv, time.monotonic())


def echoed_versions(h: Harness) -> list[str]:
    """The stateful versions the server echoes at initialize: the model opens sessions in any of them."""
    found = []
    for version in STATEFUL_VERSIONS:
        conv = h.session(initialize=False)
        ex = conv.send(conv.core.initialize(version))
        result = core.as_object((conv.core.responses.get(ex.request_id) or {}).get("result"))
        if result.get("protocolVersion") == version:
            found.append(version)
        conv.close()
    return found or [h.version]


def session_machine(
    h: Harness, run: Runner, calls: st.SearchStrategy[Any], versions: list[str], expiring: Expiring | None
) -> type[RuleBasedStateMachine]:
    timeout = h.target.idle_timeout

    class SessionModel(RuleBasedStateMachine):
        """Sessions opened, used, deleted and interleaved; each answer must be what the model expects."""

        sessions = Bundle("sessions")

        def __init__(self) -> None:
            super().__init__()
            self.on = run.begin()
            self.client = run.client() if self.on else None
            self.count = 0
            self.stranger: Conversation | None = None
            self.seen: dict[int, int] = {}  # id(conv) → violations already judged

        def teardown(self) -> None:
            run.end()

        # -- helpers --

        def _expect(self, ok: bool, message: str) -> None:
            if not ok:
                run.fail(message)

        def _judge(self, s: Tracked, ex: core.Exchange, what: str, served: str | None, idle: float) -> None:
            """A dead session must get 404; a live one `served` (None: answered as it should be, or what is wrong).
            `idle`: how long the session had been idle when the request went out (a slow tool's call is activity)."""
            if s.state == "unsure":  # after a DELETE answered 404: gone if this gets 404, else it must be served
                s.state = "gone" if ex.status == 404 else "live"
                if s.state == "live":
                    self._expect(served is None, f"session {s.number}: {what} after {s.since}: {served}")
                    s.last = time.monotonic()
            elif s.state != "live":
                self._expect(
                    ex.status == 404, f"session {s.number}: {what} after {s.since} got HTTP {ex.status}, expected 404"
                )
            elif timeout is not None and idle >= idle_wait(timeout):
                self._expect(
                    ex.status == 404,
                    f"session {s.number}: {what} after {idle:.1f}s idle got HTTP {ex.status}, expected 404",
                )
            elif ex.status == 404:
                s.state, s.since = "gone", f"the server ended it (404 to {what})"
            else:
                self._expect(served is None, f"session {s.number}: {what}: {served}")
                s.last = time.monotonic()
            self._clean(s.conv)

        def _clean(self, conv: Conversation | None) -> None:
            if conv is None:
                return
            found = violations(conv, self.seen.get(id(conv), 0))
            self.seen[id(conv)] = len(conv.core.violations)
            self._expect(not found, f"{conv.wire.label}: " + "; ".join(found[:3]))

        def _answer(self, ex: core.Exchange, method: str) -> str | None:
            response = next((m for m in ex.messages if m.get("id") == ex.request_id and "method" not in m), None)
            if ex.status != 200 or response is None:
                return f"HTTP {ex.status} without a JSON-RPC response for id {ex.request_id}"
            result = response.get("result")
            if method == "ping" and (not isinstance(result, dict) or set(result) - {"_meta"}):
                return f"ping answered {_json(response)}, not an empty result"
            listed = core.as_object(result).get("tools")
            if method == "tools/list" and "error" not in response and not isinstance(listed, list):
                return f"tools/list answered {_json(response)}: no tools list"
            return None

        def _live(self, s: Tracked) -> Conversation | None:
            return s.conv if self.on else None

        # -- rules --

        @rule(target=sessions, version=st.sampled_from(versions))
        def open_session(self, version: str) -> Tracked:
            self.count += 1
            s = Tracked(self.count)
            if not self.on or self.client is None:
                return s
            s.conv = conv = self.client.session(label=f"model session {s.number}", request_ids=itertools.count(1))
            ex = send(run, conv, conv.core.initialize(version), f"session {s.number}: initialize")
            result = (conv.core.responses.get(ex.request_id) or {}).get("result")
            self._expect(
                ex.status == 200 and isinstance(result, dict) and conv.core.session_id is not None,
                f"session {s.number}: initialize ({version}) got HTTP {ex.status}, result {_json(result)}",
            )
            note = send(run, conv, conv.core.notify("notifications/initialized"), f"session {s.number}: initialized")
            self._expect(note.status == 202, f"session {s.number}: notifications/initialized got HTTP {note.status}")
            s.last = time.monotonic()
            self._clean(conv)
            return s

        @rule(s=sessions, method=st.sampled_from(("ping", "tools/list")))
        def request(self, s: Tracked, method: str) -> None:
            if (conv := self._live(s)) is not None:
                idle = time.monotonic() - s.last
                ex = send(run, conv, conv.core.request(method), f"session {s.number}: {method}")
                self._judge(s, ex, method, self._answer(ex, method), idle)

        @rule(s=sessions, call=calls)
        def call_tool(self, s: Tracked, call: tuple[str, Any] | None) -> None:
            if (conv := self._live(s)) is not None and call is not None:
                name, args = call
                idle = time.monotonic() - s.last
                ex = call_tool(run, conv, name, args, f"session {s.number}: tools/call {name}")
                if ex is None:  # cancelled at its deadline: activity, not an answer to judge
                    s.last = time.monotonic()
                    self._clean(conv)
                    return
                self._judge(s, ex, f"tools/call {name}", self._answer(ex, "tools/call"), idle)

        @rule(s=sessions, method=st.sampled_from(NOTIFICATIONS))
        def notify(self, s: Tracked, method: str) -> None:
            if (conv := self._live(s)) is not None:
                idle = time.monotonic() - s.last
                ex = send(run, conv, conv.core.notify(method), f"session {s.number}: {method}")
                rejected = method != NOTIFICATIONS[0] and ex.status is not None and 400 <= ex.status < 500
                ok = (ex.status == 202 and not ex.body) or rejected
                self._judge(
                    s, ex, method, None if ok else f"HTTP {ex.status} ({len(ex.body)} body bytes), not 202", idle
                )

        @rule(s=sessions)
        def delete(self, s: Tracked) -> None:
            if (conv := self._live(s)) is None:
                return
            idle = time.monotonic() - s.last
            ex = send(run, conv, conv.core.delete(), f"session {s.number}: DELETE")
            if s.state == "live" and ex.status is not None and 200 <= ex.status < 300:
                conv.deleted = True
                s.state, s.since = "deleted", f"its DELETE (answered {ex.status})"
                self._clean(conv)
                return
            if s.state in ("live", "unsure") and ex.status == 404:
                # Ended, or a DELETE the endpoint does not route (a framework's 404 page): the next answer tells.
                s.state, s.since = "unsure", f"a DELETE answered 404 ({ex.content_type or 'no body'})"
                self._clean(conv)
                return
            ok = ex.status == 405 or (ex.status is not None and 200 <= ex.status < 300)  # 405: DELETE refused
            self._judge(s, ex, "DELETE", None if ok else f"HTTP {ex.status}", idle)

        @rule(s=sessions, value=BAD_VERSION)
        def wrong_version(self, s: Tracked, value: str) -> None:
            conv = self._live(s)
            if conv is None or not revision(conv.core.version).sends_version_header:
                return
            message = {"jsonrpc": "2.0", "id": conv.core.next_id(), "method": "ping"}
            ex = self._raw(conv, {**conv.core.headers(), "MCP-Protocol-Version": value}, message)
            what = f"session {s.number}: ping with MCP-Protocol-Version {value!r}"
            allowed = (400,) if s.state == "live" else (400, 404)
            self._expect(
                ex.status in allowed, f"{what} got HTTP {ex.status}, expected {' or '.join(map(str, allowed))}"
            )

        @rule(sid=NEVER_ISSUED)
        def unknown_session(self, sid: str) -> None:
            if not self.on or self.client is None:
                return
            if self.stranger is None:
                self.stranger = self.client.session(label="never-issued session ids", request_ids=itertools.count(1))
            conv = self.stranger
            headers = {**conv.core.headers(), session_header(h.version): sid, "MCP-Protocol-Version": h.version}
            ex = self._raw(conv, headers, {"jsonrpc": "2.0", "id": conv.core.next_id(), "method": "ping"})
            served = any("result" in m for m in ex.messages)
            self._expect(
                ex.status is not None and ex.status < 500 and not served,
                f"a ping with a session id the server never issued ({sid!r}) got HTTP {ex.status}"
                + (" and a result: served without initialization" if served else ""),
            )

        @rule()
        def expired_session(self) -> None:
            """A request on the session left idle since the check began; nothing is sent before it surely expired,
            as a request would keep it alive."""
            if not self.on or expiring is None or timeout is None:
                return
            conv, idle = expiring.conv, time.monotonic() - expiring.last
            if idle >= idle_wait(timeout):
                ex = self._raw(
                    conv, conv.core.headers(), {"jsonrpc": "2.0", "id": conv.core.next_id(), "method": "ping"}
                )
                self._expect(
                    ex.status == 404,
                    f"a session idle {idle:.1f}s (idle timeout {timeout:g}s) got HTTP {ex.status}, expected 404",
                )

        def _raw(self, conv: Conversation, headers: dict[str, str], message: core.Message) -> core.Exchange:
            try:
                return conv.raw("POST", headers, message)
            except HarnessError as e:
                run.fail(f"{conv.wire.label}: no answer ({e})")

    return SessionModel


@check("property.session.model")
def test_session_model(h: Harness) -> None:
    run = Runner(h)
    calls, skipped = tool_calls(run, h)
    versions = echoed_versions(h)
    expiring = expiring_session(h, run)
    h.say(
        f"property.session.model: up to {run.settings.examples} sequences of {MODEL_STEPS} steps "
        f"or {run.settings.seconds:g}s, seed {run.settings.seed}"
    )
    run.machine(session_machine(h, run, calls, versions, expiring), steps=MODEL_STEPS)
    notes = run.notes + ([f"no generated arguments for {', '.join(skipped)}"] if skipped else [])
    h.observe(run.summary(f"sequences over sessions of {', '.join(versions)}") + "".join(f"; {n}" for n in notes))


# --- tool arguments -----------------------------------------------------------------------------------------------


def judge_tool_call(conv: Conversation, ex: core.Exchange, kind: str) -> str | None:
    """What is wrong with the answer to a generated call (None: nothing). Any case: never a 5xx, always a JSON-RPC
    response. Invalid arguments: a JSON-RPC error or an isError result, since servers MUST validate tool inputs."""
    status = ex.status or 0
    if status >= 500:
        return f"answered HTTP {status}"
    if status == 404:
        return None  # the server ended the session (it MAY): the health check goes on in a new one
    answers = [m for m in ex.messages if m.get("id") == ex.request_id and ("result" in m or "error" in m)]
    if not answers:
        return f"answered HTTP {status} without a JSON-RPC response"
    found = violations(conv)
    if found:
        return "; ".join(found[:3])
    result = answers[0].get("result")
    if kind == "invalid" and isinstance(result, dict) and result.get("isError") is not True:
        return (
            f"accepted them with a result that is not isError (servers MUST validate all tool inputs): {_json(result)}"
        )
    return None


KIND_TEXT = {
    "valid": "arguments valid against its inputSchema",
    "hard": "valid arguments",
    "invalid": "arguments its inputSchema rejects",
}


def tool_property(run: Runner, plan: Arguments, fixed: bool) -> Any:
    """The tool's random valid calls, or (`fixed`) only its hard and invalid cases, each sent."""
    tool = plan.tool

    @(run.fixed_only() if fixed else run.hypothesis_settings())
    @given(case=plan.cases())
    def tools_call(case: Case) -> None:
        kind, what, args = case
        if not run.begin(bounded=not fixed):
            return
        run.kinds[kind] += 1
        try:
            label = f"tools/call {tool}"
            conv = run.shared_session(label) if fixed else open_session(run, label)
            text = f"tools/call {tool} with {KIND_TEXT[kind]}" + (f" ({what})" if what else "")
            conv.wire.note(f"{text}: {_json(args)}")
            ex = call_tool(run, conv, tool, args, text)
            problem = None if ex is None else judge_tool_call(conv, ex, kind)
            if problem:
                run.fail(f"{text}: {problem}")
            require_healthy(run, conv, f"after tools/call {tool}")
        finally:
            run.end()

    for case in plan.fixed if fixed else ():
        tools_call = example(case=case)(tools_call)
    return tools_call


@check("property.tools.arguments")
def test_tool_arguments(h: Harness) -> None:
    run = Runner(h)
    chosen, skipped = generated_tools(list_tools(h.session()), h.target)
    if not chosen:
        h.not_testable(
            "no tool may get generated arguments: list them in [properties] tools, or annotate them readOnlyHint"
            + (f" (skipped: {', '.join(skipped)})" if skipped else "")
        )
    plans = [arguments(tool, h.version) for tool in chosen]
    run.notes += [p.note for p in plans if p.note]
    usable = [p for p in plans if p.strategy is not None]
    fixed = sum(len(p.fixed) for p in usable)
    h.say(
        f"property.tools.arguments: {len(usable)} tool(s), {fixed} hard or invalid cases and up to "
        f"{run.settings.examples} random valid calls each"
    )
    try:
        for plan in usable:  # every fixed case is sent, in one session per tool; the budget is for the random ones
            if plan.fixed:
                run.given(tool_property(run, plan, fixed=True))
    finally:
        run.close_shared()
    run.budget_from_now()
    for left, plan in zip(range(len(usable), 0, -1), usable, strict=True):
        run.share(left)
        run.given(tool_property(run, plan, fixed=False))
    if run.examples and len(run.cancelled) >= sum(run.kinds.values()):
        h.not_testable(f"every generated call went unanswered and was cancelled: {run.summary('calls')}")
    planned = Counter(c[0] for p in usable for c in p.fixed)
    sent = ", ".join(f"{run.kinds[k]} of {planned[k]} {k}" for k in ("hard", "invalid"))
    h.observe(
        run.summary(f"calls of {', '.join(p.tool for p in usable)}")
        + f"; sent {run.kinds['valid']} random valid and {sent} fixed cases"
        + (f"; not called: {', '.join(skipped)}" if skipped else "")
    )
    if run.notes:  # what could not be generated: said as info, since those tools went (partly) untested
        h.info("; ".join(run.notes) + f" — {h.message}")


# --- malformed input ----------------------------------------------------------------------------------------------


def with_headers(headers: dict[str, str], changes: tuple[tuple[str, str | None], ...]) -> dict[str, str]:
    for name, value in changes:
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        if value is not None:
            headers[name] = value
    return headers


def malformed_property(run: Runner, version: str, sessions: bool, seen: dict[str, str]) -> Any:
    """The property; what servers did with batch bodies, which the spec does not judge, is filed in `seen`."""
    ping = json.dumps(PING, separators=(",", ":")).encode()
    oversized = run.settings.oversized

    @run.hypothesis_settings()
    @given(case=malformed_requests(version, oversized))
    @example(case=Malformed("json", "truncated after 12 bytes", ping[:12]))
    @example(case=Malformed("shape", "a JSON list, no object", b"[]"))
    @example(case=Malformed("batch", "a batch of 1 ping(s)", b"[" + ping + b"]", strict=False))
    @example(case=Malformed("shape", "no jsonrpc", json.dumps({"id": 7, "method": "ping"}).encode()))
    @example(
        case=Malformed(
            "content-type",
            "Content-Type: 'text/plain'",
            ping,
            (("Content-Type", "text/plain"),),
            strict=False,
            request=True,
        )
    )
    @example(
        case=Malformed("accept", "Accept: 'text/html'", ping, (("Accept", "text/html"),), strict=False, request=True)
    )
    @example(
        case=Malformed(
            "session-header",
            "MCP-Session-Id: 'never-issued'",
            ping,
            (("MCP-Session-Id", "never-issued"),),
            strict=False,
        )
    )
    def malformed(case: Malformed) -> None:
        # No version header to get wrong before the revision has one, no batch to refuse where batches are
        # ordinary; a server that issues no session ids may ignore that header.
        rev = revision(version)
        skip = (
            (case.kind == "version-header" and not rev.sends_version_header)
            or (case.kind == "batch" and rev.batching)
            or (case.kind == "session-header" and not sessions)
        )
        if skip or not run.begin():
            return
        try:
            conv = open_session(run, f"malformed: {case.kind}")
            headers = with_headers(conv.core.headers(), case.headers)
            try:
                ex = conv.raw("POST", headers, body=case.body)
            except HarnessError as e:
                run.fail(f"{case.kind} ({case.what}): no answer ({e})")
            if case.kind == "batch":  # batching was removed, but how to refuse one is not specified
                seen.setdefault(case.what, batch_answer(ex))
            else:
                problem = judge_malformed(case, ex, conv.core.version)
                if problem:
                    run.fail(f"{case.kind} ({case.what}): {problem}")
            require_healthy(run, conv, f"after {case.kind} ({case.what})")
        finally:
            run.end()

    if oversized:
        big = Malformed("oversized", "a ping over 4 MiB", OVER_4_MIB, strict=False, request=True)
        return example(case=big)(malformed)
    return malformed


@check("property.malformed.rejected")
def test_malformed_input(h: Harness) -> None:
    if not h.target.properties.malformed:
        h.not_testable(OFF_MALFORMED)
    run = Runner(h)
    h.say(f"property.malformed.rejected: up to {run.settings.examples} malformed requests, seed {run.settings.seed}")
    batches: dict[str, str] = {}
    run.given(malformed_property(run, h.version, bool(h.probe and h.probe.session_id_issued), batches))
    largest = "up to 16 MiB" if run.settings.oversized else "up to 64 KiB (--property-oversized for 1-16 MiB)"
    h.observe(
        run.summary(f"malformed requests, bodies {largest}")
        + "".join(f"; not judged (the spec says not how to refuse it): {w} → {a}" for w, a in batches.items())
    )
    if run.ended_sessions:
        h.info(f"the server ended the session (404) after {run.ended_sessions} malformed request(s) — {h.message}")


# --- JSON-RPC error codes -----------------------------------------------------------------------------------------


def error_property(run: Runner, calls: st.SearchStrategy[Call]) -> Any:
    @run.hypothesis_settings()
    @given(call=calls)
    @example(call=Call("mcp-harness/no-such-method", None, -32601, "unknown method 'mcp-harness/no-such-method'"))
    @example(call=Call("ping", {"_meta": "x"}, -32602, "ping with _meta='x'"))
    def error_codes(call: Call) -> None:
        if not run.begin():
            return
        try:
            conv = open_session(run, "error codes")
            ex = send(run, conv, conv.core.request(call.method, call.params), call.what)
            problem = judge_error(call, ex, ex.request_id)
            if problem:
                run.fail(f"{call.what}: {problem}")
            require_healthy(run, conv, f"after {call.what}")
        finally:
            run.end()

    return error_codes


@check("property.jsonrpc.error-codes")
def test_error_codes(h: Harness) -> None:
    run = Runner(h)
    s = h.session()
    chosen, _ = generated_tools(list_tools(s), h.target)
    tool = chosen[0]["name"] if chosen else None  # broken params never reach it, but only a harmless one is named
    h.say(f"property.jsonrpc.error-codes: up to {run.settings.examples} requests, seed {run.settings.seed}")
    run.given(error_property(run, error_calls(h.version, s.core.server_capabilities, tool)))
    h.observe(run.summary("unknown methods and broken params"))
