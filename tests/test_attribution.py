"""Which violations a check leaves to others, and what a sighting does to the verdict it reaches (the run-level
behaviour is in test_selftest.py)."""

from __future__ import annotations

import json

from mcp_harness import attribution, catalogue, core, report

V = "2025-11-25"
INIT_RESULT = {"protocolVersion": V, "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}}


def answer(s: core.Session, ex: core.Exchange, message: object, status: int = 200) -> None:
    s.receive_start(ex, status, {"Content-Type": core.JSON})
    s.receive_data(ex, json.dumps(message).encode())
    s.receive_end(ex)


def session() -> core.Session:
    s = core.Session()
    ex = s.initialize()
    answer(s, ex, {"jsonrpc": "2.0", "id": ex.request_id, "result": INIT_RESULT})
    return s


def recorded(s: core.Session) -> list[tuple[str, core.Violation]]:
    return [("s1", v) for v in s.violations]


def test_own_rules_are_the_check_id_and_its_rows_rules() -> None:
    assert attribution.own_rules(catalogue.get("elicitation.form.params")) == {
        "elicitation.form.params",
        "schema.server-messages",  # its rows quote the schema rule: an invalid elicitation is its to judge
    }


def test_a_violation_of_another_checks_rule_is_foreign() -> None:
    s = session()
    ex = s.request("ping")
    answer(s, ex, {"jsonrpc": "2.0", "id": "another", "result": {}})
    assert [v.rule for _, v in attribution.foreign(catalogue.get("ping.respond.prompt-empty"), recorded(s))] == [
        "jsonrpc.response.same-id"
    ]
    assert attribution.foreign(catalogue.get("jsonrpc.response.same-id"), recorded(s)) == []  # its own


def test_the_answer_to_a_handmade_body_stays_with_the_check_that_sent_it() -> None:
    """An error with a null id answers an unreadable request as the spec allows; the core cannot know that."""
    s = session()
    ex = s.custom("POST", s.headers(), body=b'{"jsonrpc": "2.0", "id": ')
    answer(s, ex, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
    assert [v.rule for v in s.violations] == ["jsonrpc.response.same-id"]
    assert attribution.foreign(catalogue.get("property.malformed.rejected"), recorded(s)) == []
    built = s.custom("POST", s.headers(), {"jsonrpc": "2.0", "id": 99, "method": "ping"})  # a message, odd headers
    answer(s, built, {"jsonrpc": "2.0", "id": 100, "result": {}})
    assert len(attribution.foreign(catalogue.get("property.malformed.rejected"), recorded(s))) == 1


def result(verdict: str, level: str = "MUST", reason: str | None = None) -> report.CheckResult:
    return report.CheckResult("schema.server-messages", level, verdict, "spec", "quote", "title", reason)


SEEN = attribution.Sighting("schema.server-messages", "bad content", "ping.respond.prompt-empty", "s1", "wire/p.log")


def test_a_sighting_fails_a_passing_check_at_its_level_and_points_to_the_evidence() -> None:
    r = result("pass")
    assert attribution.amend(r, [SEEN], strict=False)
    assert r.verdict == "fail" and r.wire_log == "wire/p.log"
    assert r.reason == (
        "1 violation(s) seen during other checks: bad content "
        "(seen during ping.respond.prompt-empty, session s1, wire log wire/p.log)"
    )
    should = result("pass", level="SHOULD")
    attribution.amend(should, [SEEN], strict=False)
    assert should.verdict == "warn"
    attribution.amend(strict := result("pass", level="SHOULD"), [SEEN], strict=True)
    assert strict.verdict == "fail"


def test_a_sighting_is_added_to_a_failure_and_overrides_not_testable() -> None:
    failed = result("fail", reason="its own finding")
    assert not attribution.amend(failed, [SEEN], strict=False)
    assert failed.verdict == "fail" and failed.reason.startswith("its own finding; also 1 violation(s)")
    untested = result("not-testable", reason="no tool")
    assert attribution.amend(untested, [SEEN], strict=False)
    assert untested.verdict == "fail" and untested.reason.endswith("[the check itself: not-testable: no tool]")
    assert not attribution.amend(result("pass"), [], strict=False)
