"""The suite against the reference server (all pass, nothing left open) and against each one-defect mutant
(its check fails, nothing unrelated does)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import run_harness

from mcp_harness import catalogue

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from mutants import MUTANTS

IDLE = "2"  # seconds: the servers' idle timeout, so the expiry check runs quickly
MALFORMED = "--property-malformed"  # these loopback servers may get malformed input (by default only the embedded one)
# Against a mutant aimed at another check the property checks are a second opinion: a smaller budget will do there.
SECOND_OPINION = ("--property-budget", "10:2")
# Against a property mutant: a fixed seed and a budget counted in examples, not seconds (a loaded machine runs
# fewer in the same time; 15 s is over three times what 25 take here), so the verdict is the same on every run.
PROPERTY_RUN = ("--seed", "0", "--property-budget", "25:15")


def test_reference_server_passes_every_check(tmp_path: Path, server_factory) -> None:
    server = server_factory()
    run = run_harness(tmp_path, "--url", server.url, "--idle-timeout", IDLE, "--strict", MALFORMED)
    assert run.code == 0, run.stdout + run.stderr
    assert set(run.verdicts) == set(catalogue.BY_ID)
    info = {r.id for r in catalogue.CATALOGUE if r.kind == "info"}
    assert run.with_verdict("info") == info
    assert run.with_verdict("pass") == set(catalogue.BY_ID) - info
    doc = run.results
    assert doc["protocol_version"] == doc["requested_version"] == "2025-11-25"
    assert doc["strict"] is True and doc["harness"]["name"] == "mcp-harness"
    for c in doc["checks"]:
        assert c["level"] in ("MUST", "SHOULD", "MAY") and c["spec"].startswith(
            ("2025-11-25/basic/", "2025-11-25/client/")
        )
        assert c["requirement"] and c["message"]
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    assert len(list(cases)) == len(catalogue.BY_ID)
    assert "| pass |" in (tmp_path / "summary.md").read_text()
    for check_id in catalogue.BY_ID:
        assert check_id in run.stdout  # one console line per check


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


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_fails_its_check_and_nothing_unrelated(tmp_path: Path, server_factory, name: str) -> None:
    mutant = MUTANTS[name]
    server = server_factory(mutant=name)
    budget = PROPERTY_RUN if mutant.check.startswith("property.") else SECOND_OPINION
    run = run_harness(tmp_path, "--url", server.url, "--idle-timeout", IDLE, "--strict", MALFORMED, *budget)
    assert run.code == 1, run.stdout + run.stderr
    assert run.verdicts[mutant.check] == "fail", run.stdout
    assert run.with_verdict("fail", "error", "warn") <= {mutant.check, *mutant.also}, run.stdout
    assert mutant.check in run.stdout


def test_should_level_failure_is_a_warning_without_strict(tmp_path: Path, server_factory) -> None:
    server = server_factory(mutant="missing-id-404")
    run = run_harness(tmp_path, "--url", server.url, "--check", "transport.session.missing-id-400")
    assert run.code == 0, run.stdout + run.stderr
    assert run.verdicts == {"transport.session.missing-id-400": "warn"}
