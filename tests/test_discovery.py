"""With no profile, the harness finds the round-trip tools by what they do and builds their arguments: the renamed
variant of the reference server (other names, required constrained arguments) passes every check, and each mutant
of the round-trip, argument and bad-input checks, built on that variant, still fails its check."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from conftest import run_harness

from mcp_harness import catalogue

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from mutants import MUTANTS

RENAMED = ("--renamed",)
# The mutants of the checks that need a role's tool, generated arguments or bad input (tool-500-non-ascii breaks the
# reference server's `echo`, which the variant has not).
ROUND_TRIP_MUTANTS = sorted(
    name
    for name, m in MUTANTS.items()
    if m.check.split(".")[0] in ("elicitation", "sampling", "progress", "cancellation")
    or m.check.startswith(("transport.resume.", "transport.sse.", "lifecycle.operation.", "property.malformed."))
    or m.check in ("property.jsonrpc.error-codes", "jsonrpc.request.id-unique")
)


def test_renamed_tools_are_found_by_observation_and_every_check_runs(tmp_path: Path, server_factory) -> None:
    server = server_factory(extra_args=RENAMED)
    counter = server.url.removesuffix("/mcp") + "/sessions#cancelled"  # what the disconnect check reads
    run = run_harness(tmp_path, "--url", server.url, "--idle-timeout", "2", "--strict", "--side-channel", counter)
    assert run.code == 0, run.stdout + run.stderr
    info = {r.id for r in catalogue.CATALOGUE if r.kind == "info"}
    modern_only = {r.id for r in catalogue.CATALOGUE if r.binds == "modern-only"}  # the server is dual-era
    assert run.with_verdict("pass") == set(catalogue.BY_ID) - info - modern_only, run.stdout
    notes = "\n".join(run.results["notes"])
    for role, tool in (("elicitation", "ask_contact"), ("sampling", "ask_model"), ("progress", "long_task")):
        assert f"roles — {role}: {tool} (observed)" in notes
    assert "tools called to find roles" in notes and "built from each tool's inputSchema" in notes
    pinned = tomllib.loads((tmp_path / "roles.toml").read_text())
    assert pinned["tools"]["elicitation"]["name"] == "ask_contact"
    assert "[tools.elicitation]" in run.stdout  # the snippet is printed too
    assert server.open_sessions() == 0
    # The snippet pins the roles: as a profile, they are the profile's.
    profile = tmp_path / "pinned.toml"
    profile.write_text((tmp_path / "roles.toml").read_text())
    again = run_harness(tmp_path / "pinned", "--url", server.url, "--profile", str(profile), "--check", "sampling.*")
    assert again.verdicts == {"sampling.request.shape": "pass"}, again.stdout
    assert "roles — sampling: ask_model (profile)" in "\n".join(again.results["notes"])


def test_without_discovery_the_round_trips_say_why_they_did_not_run(tmp_path: Path, server_factory) -> None:
    server = server_factory(extra_args=RENAMED)
    run = run_harness(tmp_path, "--url", server.url, "--check", "elicitation.form.params", "--no-discover")
    assert run.verdicts == {"elicitation.form.params": "not-testable"}
    reason = run.results["checks"][0]["reason"]
    assert "role discovery is off" in reason and "[tools.elicitation]" in reason


@pytest.mark.parametrize("name", ROUND_TRIP_MUTANTS)
def test_mutant_on_the_renamed_variant_fails_with_no_profile(tmp_path: Path, server_factory, name: str) -> None:
    mutant = MUTANTS[name]
    server = server_factory(mutant=name, extra_args=RENAMED)
    run = run_harness(tmp_path, "--url", server.url, "--strict", "--check", mutant.check, "--seed", "0")
    assert run.verdicts == {mutant.check: "fail"}, run.stdout
