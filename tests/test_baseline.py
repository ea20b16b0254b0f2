"""Baselines of expected failures and run comparisons: the pure logic, and the command end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_harness

from mcp_harness import baseline
from mcp_harness.cli import main


def results(**verdicts: str) -> dict:
    return {"checks": [{"id": i.replace("_", "."), "verdict": v, "reason": f"why {i}"} for i, v in verdicts.items()]}


def test_apply_splits_new_expected_and_stale() -> None:
    expected = {"a": {"verdict": "fail"}, "b": {"verdict": "fail"}, "gone": {"verdict": "fail"}}
    outcome = baseline.apply(results(a="fail", b="pass", c="error", d="warn"), expected)
    assert outcome.expected == ["a"] and outcome.new == ["c"] and outcome.stale == ["b"]
    assert outcome.not_run == ["gone"]
    assert outcome.failed(strict=False) and outcome.failed(strict=True)
    quiet = baseline.apply(results(a="fail", b="pass"), expected)
    assert not quiet.failed(strict=False) and quiet.failed(strict=True)  # only the stale entry remains


def test_compare_reports_new_fixed_and_changed() -> None:
    c = baseline.compare(
        results(a="pass", b="fail", c="warn", d="pass"), results(a="fail", b="pass", c="info", e="error")
    )
    assert c.new_failures == [("a", "pass", "fail"), ("e", "absent", "error")]
    assert c.fixed == [("b", "fail", "pass")] and c.changed == [("c", "warn", "info")]
    assert c.added == ["e"] and c.removed == ["d"]


def test_bad_files_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    assert main(["conformance", "--baseline", str(tmp_path / "missing.json")]) == 2
    assert main(["conformance", "--baseline", str(tmp_path / "x.json")]) == 2
    assert main(["conformance", "--baseline", str(tmp_path / "other.json")]) == 2
    assert main(["baseline", "write", str(tmp_path / "other.json")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and "no such file" in lines[0] and "not JSON" in lines[1]
    assert "not an mcp-harness-baseline/1 file" in lines[2] and "not an mcp-harness results.json" in lines[3]


def test_baseline_round_trip_against_a_mutant_and_the_reference(tmp_path: Path, server_factory) -> None:
    """A run that fails only its baselined check passes; the same baseline against a server without the
    defect reports the entry stale, which fails the run only with --strict-baseline; diff shows the fix."""
    check = ["--check", "transport.origin.invalid-403"]
    mutant = server_factory(mutant="origin-accepted")
    first = run_harness(tmp_path / "first", "--url", mutant.url, *check)
    assert first.code == 1 and first.verdicts["transport.origin.invalid-403"] == "fail"
    file = tmp_path / "baseline.json"
    assert main(["baseline", "write", str(first.out / "results.json"), "--out", str(file)]) == 0
    assert list(json.loads(file.read_text())["expected"]) == ["transport.origin.invalid-403"]

    again = run_harness(tmp_path / "again", "--url", mutant.url, *check, "--baseline", str(file))
    assert again.code == 0, again.stderr
    assert again.results["baseline"]["expected"] == ["transport.origin.invalid-403"]
    assert "expected failures (listed): `transport.origin.invalid-403`" in (again.out / "summary.md").read_text()

    reference = server_factory()
    fixed_args = ("--url", reference.url, *check, "--baseline", str(file), "--compare", str(first.out / "results.json"))
    fixed = run_harness(tmp_path / "fixed", *fixed_args)
    assert fixed.code == 0 and fixed.results["baseline"]["stale"] == ["transport.origin.invalid-403"]
    summary = (fixed.out / "summary.md").read_text()
    assert "fixed: `transport.origin.invalid-403` (fail → pass)" in summary
    strict = run_harness(tmp_path / "strict", *fixed_args, "--strict-baseline")
    assert strict.code == 1
    assert main(["diff", str(first.out / "results.json"), str(fixed.out / "results.json")]) == 0
    assert main(["diff", str(fixed.out / "results.json"), str(first.out / "results.json")]) == 1


def test_nightly_ci_template_uses_existing_make_variables() -> None:
    """The GitHub Actions template calls `make conformance` with variables the Makefile knows, keeps the token
    in a secret sent through HEADER (never on the command line), and publishes summary.md as the job summary."""
    root = Path(__file__).resolve().parent.parent
    template = (root / "examples" / "ci" / "nightly-conformance.yml").read_text()
    makefile = (root / "Makefile").read_text()
    used = set(re.findall(r"\b([A-Z_]+)=", template.split("make -C mcp-harness conformance", 1)[1].split("- name:")[0]))
    assert used >= {"URL", "BASELINE", "STRICT_BASELINE", "OUT"}
    assert all(f"$({name})" in makefile for name in used), used
    assert 'HEADER: "Authorization: Bearer ${{ secrets.' in template and "GITHUB_STEP_SUMMARY" in template
