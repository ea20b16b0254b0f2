"""Expected failures (a baseline) and the comparison of two runs, both read from a finished run's results.json.

A baseline lists the checks known to fail on a target, each with the verdict and reason seen when it was
written (`mcp-harness baseline write`). A run that fails only listed checks passes; a failure not listed fails
it; a listed check that no longer fails is *stale*, reported, and fails the run only with --strict-baseline
(so the list cannot quietly outlive the defects it excuses). A comparison shows what changed since an earlier
run: new failures, fixed checks, other changed verdicts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_harness.report import FAILING

FORMAT = "mcp-harness-baseline/1"


class BaselineError(ValueError):
    """A baseline or results file that cannot be used; the message is one line naming the file."""


def read_json(path: str | Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{what} {path}: no such file") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise BaselineError(f"{what} {path}: not JSON ({e})") from None
    if not isinstance(data, dict):
        raise BaselineError(f"{what} {path}: expected a JSON object")
    return data


def verdicts(results: dict[str, Any], path: str | Path = "results") -> dict[str, dict[str, Any]]:
    """check id → its record, from a results.json document."""
    checks = results.get("checks")
    if not isinstance(checks, list) or not all(isinstance(c, dict) and "id" in c and "verdict" in c for c in checks):
        raise BaselineError(f"results {path}: not an mcp-harness results.json (no checks with id and verdict)")
    return {c["id"]: c for c in checks}


def write_baseline(results_path: str | Path, out: str | Path) -> int:
    """Write a baseline listing every failing check of a run; returns how many."""
    results = read_json(results_path, "results")
    failing = {
        i: {"verdict": c["verdict"], "reason": c.get("reason") or c.get("message") or ""}
        for i, c in sorted(verdicts(results, results_path).items())
        if c["verdict"] in FAILING
    }
    doc = {
        "format": FORMAT,
        "target": results.get("target"),
        "written_from": results.get("harness", {}).get("run_id"),
        "started_at": results.get("started_at"),
        "expected": failing,
    }
    Path(out).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return len(failing)


def load_baseline(path: str | Path) -> dict[str, dict[str, Any]]:
    doc = read_json(path, "baseline")
    if doc.get("format") != FORMAT or not isinstance(doc.get("expected"), dict):
        raise BaselineError(f"baseline {path}: not an {FORMAT} file (write one with `mcp-harness baseline write`)")
    return doc["expected"]


@dataclass
class Outcome:
    """A run judged against a baseline."""

    expected: list[str] = field(default_factory=list)  # failing, and listed
    new: list[str] = field(default_factory=list)  # failing, not listed
    stale: list[str] = field(default_factory=list)  # listed, no longer failing
    not_run: list[str] = field(default_factory=list)  # listed, not in this run (a --check selection)

    def failed(self, strict: bool) -> bool:
        return bool(self.new) or (strict and bool(self.stale))


def apply(results: dict[str, Any], expected: dict[str, dict[str, Any]]) -> Outcome:
    checks = verdicts(results)
    outcome = Outcome()
    for check_id, record in sorted(checks.items()):
        failing = record["verdict"] in FAILING
        if failing:
            (outcome.expected if check_id in expected else outcome.new).append(check_id)
        elif check_id in expected:
            outcome.stale.append(check_id)
    outcome.not_run = sorted(set(expected) - set(checks))
    return outcome


@dataclass
class Comparison:
    new_failures: list[tuple[str, str, str]] = field(default_factory=list)  # (id, old verdict, new verdict)
    fixed: list[tuple[str, str, str]] = field(default_factory=list)
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # other verdict changes
    added: list[str] = field(default_factory=list)  # checks only in the new run
    removed: list[str] = field(default_factory=list)  # checks only in the old run


def compare(old: dict[str, Any], new: dict[str, Any]) -> Comparison:
    before, after = verdicts(old, "old"), verdicts(new, "new")
    result = Comparison(added=sorted(set(after) - set(before)), removed=sorted(set(before) - set(after)))
    for check_id in sorted(set(before) & set(after)):
        was, now = before[check_id]["verdict"], after[check_id]["verdict"]
        if was == now:
            continue
        change = (check_id, was, now)
        if now in FAILING and was not in FAILING:
            result.new_failures.append(change)
        elif was in FAILING and now not in FAILING:
            result.fixed.append(change)
        else:
            result.changed.append(change)
    for check_id in result.added:
        if after[check_id]["verdict"] in FAILING:
            result.new_failures.append((check_id, "absent", after[check_id]["verdict"]))
    return result


def baseline_markdown(outcome: Outcome, path: str | Path, strict: bool) -> list[str]:
    lines = ["", f"## Baseline `{Path(path).name}`", ""]
    lines.append(f"- new failures (fail the run): {_ids(outcome.new)}")
    lines.append(f"- expected failures (listed): {_ids(outcome.expected)}")
    stale = "fail the run" if strict else "reported only; --strict-baseline fails them"
    lines.append(f"- stale entries, now passing ({stale}): {_ids(outcome.stale)}")
    if outcome.not_run:
        lines.append(f"- listed but not run: {_ids(outcome.not_run)}")
    return lines


def comparison_markdown(comparison: Comparison, old_path: str | Path) -> list[str]:
    lines = ["", f"## Compared with `{old_path}`", ""]
    lines.append(f"- new failures: {_changes(comparison.new_failures)}")
    lines.append(f"- fixed: {_changes(comparison.fixed)}")
    lines.append(f"- other changed verdicts: {_changes(comparison.changed)}")
    if comparison.added or comparison.removed:
        lines.append(
            f"- checks only in this run: {_ids(comparison.added)}; only in the old one: {_ids(comparison.removed)}"
        )
    return lines


def _ids(ids: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids) if ids else "none"


def _changes(changes: list[tuple[str, str, str]]) -> str:
    return ", ".join(f"`{i}` ({was} → {now})" for i, was, now in changes) if changes else "none"
