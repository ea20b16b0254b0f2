"""The suite against the reference server (all pass, nothing left open), against each one-defect mutant (its check
fails, nothing unrelated does) and against each quirk — what real servers do within the spec — (the verdicts it
must get: no false failure, no pass without evidence)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import run_harness

from mcp_harness import catalogue

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from mutants import MUTANTS, QUIRKS

IDLE = "2"  # seconds: the servers' idle timeout, so the expiry check runs quickly
MALFORMED = "--property-malformed"  # the default since malformed input goes to every target; kept explicit here
# Against a mutant aimed at another check the property checks are a second opinion: a smaller budget will do there.
SECOND_OPINION = ("--property-budget", "10:2")
# Against a property mutant: a fixed seed and a budget counted in examples, not seconds (a loaded machine runs
# fewer in the same time; 15 s is over three times what 25 take here), so the verdict is the same on every run.
PROPERTY_RUN = ("--seed", "0", "--property-budget", "25:15")


def side_channel(server: Any) -> tuple[str, str]:
    """The reference server's count of cancelled calls, which the disconnect check reads (the embedded one's is
    used by default)."""
    return ("--side-channel", server.url.removesuffix("/mcp") + "/sessions#cancelled")


def test_reference_server_passes_every_check(tmp_path: Path, server_factory) -> None:
    server = server_factory()
    run = run_harness(
        tmp_path, "--url", server.url, "--idle-timeout", IDLE, "--strict", MALFORMED, *side_channel(server)
    )
    assert run.code == 0, run.stdout + run.stderr
    assert set(run.verdicts) == set(catalogue.BY_ID)
    info = {r.id for r in catalogue.CATALOGUE if r.kind == "info"}
    modern_only = {r.id for r in catalogue.CATALOGUE if r.binds == "modern-only"}  # a dual-era server serves initialize
    assert run.with_verdict("info") == info
    assert run.with_verdict("not-testable") == modern_only
    assert run.with_verdict("pass") == set(catalogue.BY_ID) - info - modern_only
    doc = run.results
    assert doc["protocol_version"] == doc["requested_version"] == "2025-11-25"
    assert doc["eras"] == "dual-era"
    assert doc["strict"] is True and doc["harness"]["name"] == "mcp-harness"
    for c in doc["checks"]:
        era = "2026-07-28" if c["era"] == "modern" else "2025-11-25"
        assert c["era"] == ("modern" if catalogue.get(c["id"]).modern else "legacy")
        assert c["level"] in ("MUST", "SHOULD", "MAY") and c["spec"].startswith(
            tuple(f"{era}/{part}/" for part in ("basic", "client", "server"))
        )
        assert c["requirement"] and c["message"]
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    assert len(list(cases)) == len(catalogue.BY_ID)
    assert "| pass |" in (tmp_path / "summary.md").read_text()
    for check_id in catalogue.BY_ID:
        assert check_id in run.stdout  # one console line per check


def test_modern_only_reference_server_passes_every_modern_check(tmp_path: Path, server_factory) -> None:
    """The reference server's modern-only mode: every 2026-07-28 check passes (none is not-testable for lack of
    support), every session check is not-testable and says why, and no session was ever opened."""
    server = server_factory(extra_args=("--modern-only",))
    run = run_harness(tmp_path, "--url", server.url, "--strict", *side_channel(server))
    assert run.code == 0, run.stdout + run.stderr
    modern = {r.id for r in catalogue.CATALOGUE if r.modern}
    dual = {r.id for r in catalogue.CATALOGUE if r.binds == "dual-era"}  # how a dual-era server routes: not here
    assert run.with_verdict("pass") == modern - dual
    assert run.with_verdict("not-testable") == set(catalogue.BY_ID) - modern | dual
    assert run.results["eras"] == "modern-only" and run.results["protocol_version"] == "2026-07-28"
    legacy = [c for c in run.results["checks"] if not catalogue.get(c["id"]).modern]
    assert all("serves only 2026-07-28" in c["reason"] for c in legacy)
    assert any(n.startswith("modern only: initialize was refused") for n in run.results["notes"]), run.results["notes"]
    assert server.open_sessions() == 0


def test_spec_version_picks_one_era(tmp_path: Path, server_factory) -> None:
    server = server_factory()
    run = run_harness(tmp_path / "modern", "--url", server.url, "--spec-version", "2026-07-28")
    assert run.code == 0, run.stdout + run.stderr
    modern = {r.id for r in catalogue.CATALOGUE if r.modern}
    assert run.with_verdict("not-testable") >= set(catalogue.BY_ID) - modern
    assert run.results["eras"] == "dual-era"
    assert any(n.endswith("--spec-version picks the modern era") for n in run.results["notes"]), run.results["notes"]
    assert all(
        "picks the modern era" in c["reason"] for c in run.results["checks"] if not catalogue.get(c["id"]).modern
    )
    legacy = run_harness(
        tmp_path / "legacy", "--url", server.url, "--spec-version", "2025-11-25", "--check", "stateless.*"
    )
    assert set(legacy.verdicts.values()) == {"not-testable"}, legacy.stdout
    assert all("picks the legacy era" in c["reason"] for c in legacy.results["checks"])


def test_harness_leaves_no_session_open(tmp_path: Path, server_factory) -> None:
    # A long idle timeout, so that a session the harness forgot cannot expire before we count.
    server = server_factory(idle_timeout=120)
    run = run_harness(tmp_path, "--url", server.url, MALFORMED)
    assert run.code == 0, run.stdout + run.stderr
    assert run.verdicts["transport.session.expired-404.idle"] == "not-testable"
    assert server.open_sessions() == 0


def test_embedded_server_is_the_default_target(tmp_path: Path) -> None:
    run = run_harness(tmp_path, "--check", "lifecycle.*")
    assert run.code == 0, run.stdout + run.stderr
    assert run.results["target"].startswith("http://127.0.0.1:")
    assert set(run.verdicts) == {i for i in catalogue.BY_ID if i.startswith("lifecycle.")}


def checks_against(mutant: Any) -> str:
    """The checks a mutant is run against: every check of its era and area, the checks it names as seeing the same
    defect and, for a session-revision mutant, the property model (a second opinion over every area). Full runs
    against the unmodified servers (dual-era, modern-only, renamed tools) show that nothing fails without a defect."""
    req = catalogue.get(mutant.check)
    area = {r.id for r in catalogue.CATALOGUE if r.area == req.area and r.modern == req.modern}
    return ",".join(sorted(area | set(mutant.also) | (set() if req.modern else {"property.session.model"})))


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_fails_its_check_and_nothing_unrelated(tmp_path: Path, server_factory, name: str) -> None:
    mutant = MUTANTS[name]
    server = server_factory(mutant=name)
    budget = PROPERTY_RUN if mutant.check.startswith("property.") else SECOND_OPINION
    era = "2026-07-28" if catalogue.get(mutant.check).modern else "2025-11-25"
    args = ("--idle-timeout", IDLE, "--strict", MALFORMED, "--spec-version", era, *budget, *side_channel(server))
    run = run_harness(tmp_path, "--url", server.url, *args, "--check", checks_against(mutant))
    assert run.code == 1, run.stdout + run.stderr
    assert run.verdicts[mutant.check] == "fail", run.stdout
    assert run.with_verdict("fail", "error", "warn") <= {mutant.check, *mutant.also}, run.stdout
    assert mutant.check in run.stdout


def test_should_level_failure_is_a_warning_without_strict(tmp_path: Path, server_factory) -> None:
    server = server_factory(mutant="missing-id-404")
    run = run_harness(tmp_path, "--url", server.url, "--check", "transport.session.missing-id-400")
    assert run.code == 0, run.stdout + run.stderr
    assert run.verdicts == {"transport.session.missing-id-400": "warn"}


# quirk → (the checks run, the verdicts they must get, words the verdict's text must hold)
QUIRK_VERDICTS: dict[str, tuple[str, dict[str, str], str]] = {
    "batch-served": (
        "property.malformed.rejected",
        {"property.malformed.rejected": "pass"},
        "not judged (the spec says not how to refuse it): a batch of 1 ping(s) → HTTP 200, 1 result(s)",
    ),
    "nothing-left-to-resume": (
        "transport.resume.*",
        {"transport.resume.replay": "not-testable", "transport.resume.no-cross-stream-replay": "not-testable"},
        "nothing was left to resume",
    ),
    "get-405": (
        "transport.session.isolation",
        {"transport.session.isolation": "pass"},
        "GET answered HTTP 405 text/plain: no GET stream",
    ),
    "delete-html-404": (
        "transport.session.expired-404",
        {"transport.session.expired-404": "not-testable"},
        "DELETE was answered HTTP 404 text/html, yet the session still works",
    ),
    "legacy-only": (
        "stateless.*",
        {r.id: "not-testable" for r in catalogue.CATALOGUE if r.modern},
        'applies to 2026-07-28; server/discover was answered HTTP 400 {"code": -32600, "message": "Bad Request',
    ),
    "json-cancel-silent": (
        "cancellation.receiver.stop",
        {"cancellation.receiver.stop": "pass"},
        "the cancelled POST got no HTTP response at all",
    ),
}


def test_every_quirk_has_its_verdicts() -> None:
    assert set(QUIRKS) == {*QUIRK_VERDICTS, "tools-is-error"}


@pytest.mark.parametrize("name", sorted(QUIRK_VERDICTS))
def test_quirk_gets_the_verdict_the_spec_allows(tmp_path: Path, server_factory, name: str) -> None:
    checks, verdicts, words = QUIRK_VERDICTS[name]
    server = server_factory(mutant=name)
    run = run_harness(tmp_path, "--url", server.url, "--idle-timeout", IDLE, "--strict", "--check", checks)
    assert run.verdicts == verdicts, run.stdout
    texts = " ".join(c["reason"] or c["message"] for c in run.results["checks"])
    assert words in texts, texts


def test_delete_answered_by_an_html_404_is_no_failure_of_the_session_model(tmp_path: Path, server_factory) -> None:
    server = server_factory(mutant="delete-html-404")
    run = run_harness(tmp_path, "--url", server.url, "--check", "property.session.model", "--seed", "0")
    assert run.verdicts == {"property.session.model": "pass"}, run.stdout


def test_ping_watch_says_there_was_no_get_stream(tmp_path: Path, server_factory) -> None:
    server = server_factory(mutant="get-405")
    run = run_harness(tmp_path, "--url", server.url, "--check", "ping.periodic")
    assert run.verdicts == {"ping.periodic": "info"}
    assert "GET answered HTTP 405 text/plain: no GET stream" in run.results["checks"][0]["message"]


ROUND_TRIPS = ("elicitation.", "sampling.", "progress.", "cancellation.", "transport.sse.", "lifecycle.operation.")


def test_no_round_trip_check_passes_when_every_tool_fails(tmp_path: Path, server_factory) -> None:
    """Every tools/call answered isError: no elicitation, sampling or progress ever happened, so no check of them
    may pass — each says why it could not test."""
    server = server_factory(mutant="tools-is-error")
    run = run_harness(tmp_path, "--url", server.url, "--idle-timeout", IDLE)
    trips = {i: v for i, v in run.verdicts.items() if i.startswith(ROUND_TRIPS)}
    assert len(trips) >= 9 and "pass" not in trips.values(), trips
    assert not run.with_verdict("fail", "error"), run.stdout


def test_a_json_mode_call_has_no_stream_to_resume(tmp_path: Path, server_factory) -> None:
    server = server_factory(mutant="json-cancel-silent")  # JSON responses
    run = run_harness(tmp_path, "--url", server.url, "--check", "transport.resume.*")
    assert set(run.verdicts.values()) == {"not-testable"}, run.stdout
    assert all("not with an SSE stream" in c["reason"] for c in run.results["checks"])


# --- violations seen during another check reach that check's verdict (mcp_harness/attribution.py) ---


def two_checks(tmp_path: Path, server_factory, mutant: str, first: str, second: str) -> tuple[Any, dict]:
    """Run `first` then `second` against `mutant` (a failing run); the run and the failed check's result."""
    server = server_factory(mutant=mutant)
    run = run_harness(tmp_path, "--url", server.url, "--check", first, "--check", second)
    assert run.code == 1, run.stdout + run.stderr
    return run, next(c for c in run.results["checks"] if c["verdict"] == "fail")


def test_a_violation_seen_during_one_check_fails_the_check_of_its_rule(tmp_path: Path, server_factory) -> None:
    """Only a session that elicits sees this mutant's schema-invalid elicitation/create; schema.server-messages's
    own session elicits nothing, yet the violation seen during the earlier check fails it, with that evidence."""
    checks = ("transport.sse.related-messages", "schema.server-messages")
    run, failed = two_checks(tmp_path, server_factory, "elicitation-nested-schema", *checks)
    assert run.verdicts == {"transport.sse.related-messages": "pass", "schema.server-messages": "fail"}, run.stdout
    assert "seen during transport.sse.related-messages" in failed["reason"], failed
    assert failed["wire_log"] == "wire/transport.sse.related-messages.log"
    assert "elicitation/create" in (tmp_path / failed["wire_log"]).read_text()


def test_a_violation_seen_after_its_check_ran_amends_that_verdict(tmp_path: Path, server_factory) -> None:
    """transport.session.isolation runs first and passes on its own sessions; the stray progress notification the
    later schema.server-messages check receives (a token no session sent) turns it into a failure, in results.json,
    JUnit and the exit status."""
    run, failed = two_checks(
        tmp_path, server_factory, "progress-unrequested", "transport.session.isolation", "schema.server-messages"
    )
    assert run.verdicts == {"transport.session.isolation": "fail", "schema.server-messages": "pass"}, run.stdout
    assert "'unasked'" in failed["reason"] and "seen during schema.server-messages" in failed["reason"], failed
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")}
    assert cases["transport.session.isolation"].find("failure") is not None
    assert cases["schema.server-messages"].find("failure") is None


def test_a_violation_of_an_unselected_check_is_in_the_notes(tmp_path: Path, server_factory) -> None:
    """Every initialize result of this mutant breaks the schema; with schema.server-messages not selected, what the
    selected check saw is listed in the run's notes, pointing to its wire log."""
    server = server_factory(mutant="init-no-capabilities")
    run = run_harness(tmp_path, "--url", server.url, "--check", "ping.respond.prompt-empty")
    assert run.code == 0, run.stdout + run.stderr
    assert run.verdicts == {"ping.respond.prompt-empty": "pass"}
    notes = [n for n in run.results["notes"] if n.split(" (")[0].endswith("violation(s) of schema.server-messages")]
    assert len(notes) == 1, run.results["notes"]
    assert "not selected in this run" in notes[0] and "seen during ping.respond.prompt-empty" in notes[0]
    assert "wire log wire/ping.respond.prompt-empty.log" in notes[0]
    assert "capabilities" in (tmp_path / "wire" / "ping.respond.prompt-empty.log").read_text()
