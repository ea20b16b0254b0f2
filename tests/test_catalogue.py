"""The catalogue: each entry has one check; each check (not info records) has a mutant; quotes are the spec's."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from mcp_harness import catalogue

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "spec"
sys.path.insert(0, str(ROOT / "fixtures"))
from mutants import MUTANTS  # noqa: E402 — fixtures/ is a folder of scripts


def checks_in_suite() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "conformance").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check" and node.args:
                check_id = node.args[0].value
                assert check_id not in found, f"{check_id} claimed twice"
                found[check_id] = path.name
    return found


def test_every_catalogue_entry_has_exactly_one_check() -> None:
    assert set(checks_in_suite()) == set(catalogue.BY_ID)


def test_every_check_has_a_mutant_and_every_mutant_a_check() -> None:
    targeted = {m.check for m in MUTANTS.values()}
    checks = {r.id for r in catalogue.CATALOGUE if r.kind == "check"}
    assert checks - targeted == set(), "checks no mutant can fail"
    assert targeted - checks == set(), "mutants aimed at no check"


def _normalise(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    return re.sub(r"\s+", " ", text)


@pytest.mark.skipif(not SPEC.exists(), reason="the pinned spec copy (../shared/spec) is not beside this checkout")
def test_quotes_are_verbatim_from_the_pinned_spec() -> None:
    corpus = _normalise((SPEC / "REQUIREMENTS.md").read_text())
    corpus += " ".join(_normalise(p.read_text()) for p in (SPEC / "docs").rglob("*.md"))
    for req in catalogue.CATALOGUE:
        for row in req.rows:
            for fragment in row.quote.split(" … "):
                plain = fragment.replace("**", "")
                assert fragment in corpus or plain in corpus.replace("**", ""), f"{req.id}: {fragment[:60]}…"
            for version in row.versions:
                page = SPEC / "docs" / version / f"{row.page}.md"
                assert page.exists(), f"{req.id}: no page {page}"


def test_the_readme_table_of_checks_lists_every_check() -> None:
    """The README's table of checks and the catalogue name the same checks (a check id in backticks)."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index("## The checks") : text.index("### With no profile")]
    named = set(re.findall(r"`([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+)`", section))
    ids = {r.id for r in catalogue.CATALOGUE}
    assert ids - named == set(), "checks the README's table does not list"
    assert named - ids <= {"sampling.tools"}, "ids in the README's table that are no check (a capability is allowed)"


def rules_the_core_emits() -> set[str]:
    """Every rule id core.py passes to `Session._violation` (its second argument), as written in the source."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / "mcp_harness" / "core.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "_violation":
            rule = node.args[1]
            assert isinstance(rule, ast.Constant) and isinstance(rule.value, str), f"line {node.lineno}: not a literal"
            found.add(rule.value)
    return found


def test_every_rule_the_core_emits_is_a_check() -> None:
    """A violation names the check that judges it, so that it reaches that check's verdict wherever it is seen."""
    rules = rules_the_core_emits()
    assert {"schema.server-messages", "jsonrpc.response.same-id", "jsonrpc.request.id-unique"} <= rules
    assert rules - set(catalogue.BY_ID) == set(), "rule ids the core emits that are no check in the catalogue"
    assert all(catalogue.BY_ID[r].kind == "check" for r in rules), "a violation must be able to fail its check"
