"""Progress notifications (basic/utilities/progress)."""

from __future__ import annotations

from itertools import pairwise

from mcp_harness import core
from mcp_harness.driver import Conversation
from mcp_harness.plugin import Harness, check
from mcp_harness.scenarios import notifications, progress


def progress_call(h: Harness, *, token: bool) -> tuple[Conversation, core.Exchange]:
    """Call the progress tool (with or without a progressToken), reading its stream to the end."""
    s = h.session()
    return s, progress(s, h.tool("progress", s), token=token, read_on=True)


def on_stream(conv: Conversation, ex: core.Exchange) -> list[dict]:
    return [m for e, m in notifications(conv, "notifications/progress") if e.stream is ex]


@check("progress.token.active-only", roles=True)
def test_progress_only_with_a_token(h: Harness) -> None:
    s, ex = progress_call(h, token=True)
    token = ex.message["params"]["_meta"]["progressToken"]
    if not s.core.progress.get(token):  # then silence without a token would prove nothing
        h.not_testable("the progress tool sent no progress notification even for a request with a progressToken")
    foreign = [m["params"].get("progressToken") for _, m in notifications(s, "notifications/progress")]
    foreign = [t for t in foreign if t != token]
    h.require(not foreign, f"progress notifications with tokens the request did not send: {foreign[:3]}")
    with_token = len(on_stream(s, ex))
    s, ex = progress_call(h, token=False)
    unasked = notifications(s, "notifications/progress")
    h.require(not unasked, f"{len(unasked)} progress notification(s) for a request that sent no progressToken")
    h.observe(f"{with_token} with the request's token; none for the same call without one")


@check("progress.value.increasing", roles=True)
def test_progress_increases(h: Harness) -> None:
    s, ex = progress_call(h, token=True)
    token = ex.message["params"]["_meta"]["progressToken"]
    values = [p.progress for p in s.core.progress[token]]
    if not values:
        h.not_testable("the progress tool sent no progress notification")
    bad = [f"{a} → {b}" for a, b in pairwise(values) if not b > a]
    h.require(not bad, f"progress did not increase: {', '.join(bad[:5])} (all: {values})")
    totals = {p.total for p in s.core.progress[token]}
    h.observe(f"progress {values}, total {sorted(t for t in totals if t is not None) or 'absent'}")


@check("progress.stop-after-completion", roles=True)
def test_no_progress_after_the_result(h: Harness) -> None:
    s, ex = progress_call(h, token=True)
    token = ex.message["params"]["_meta"]["progressToken"]
    after, answered = [], False
    for kind, _, message in s.core.timeline:
        if kind != "received" or message is None:
            continue
        if message.get("id") == ex.request_id and "method" not in message:
            answered = True
        elif answered and core.as_object(message.get("params")).get("progressToken") == token:
            after.append(message["params"].get("progress"))
    h.require(answered, "the progress tool call got no result")
    if not s.core.progress.get(token):
        h.not_testable("the progress tool sent no progress notification: none could come late")
    h.require(not after, f"progress notification(s) after the result: {after}")
    h.observe(f"{len(s.core.progress[token])} notification(s), all before the result")
