"""The revision records: the one place that knows what each protocol revision does."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from mcp_harness import versions

ROOT = Path(__file__).resolve().parents[1]
OWNERS = ("versions.py", "catalogue.py")  # the revision records and the catalogue rows may name revisions


def test_features_by_revision() -> None:
    r = versions.revision
    assert [r(v).session_header for v in versions.stateful()] == ["Mcp-Session-Id", "Mcp-Session-Id", "MCP-Session-Id"]
    assert [r(v).sends_version_header for v in versions.stateful()] == [False, True, True]
    assert [r(v).batching for v in versions.stateful()] == [True, False, False]
    assert not r(versions.stateless()).sessions and r(versions.stateless()).closed_stream_cancels
    assert versions.latest() == versions.stateful()[-1]


def test_an_unknown_version_reads_as_the_revision_before_it() -> None:
    assert versions.revision("2025-09-01").name == "2025-06-18"  # negotiated by a server: a date we do not know
    assert versions.revision("2099-01-01").name == versions.latest()
    assert versions.revision("not-a-version").name == versions.latest()
    assert versions.revision("1900-01-01").name == versions.stateful()[0]


def _literals(path: Path) -> list[str]:
    """Version strings in code (docstrings aside) and comparisons of date strings."""
    tree = ast.parse(path.read_text())
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            found += [f"{path.name}:{node.lineno} {n}" for n in versions.names() if n in node.value]
        if isinstance(node, ast.Compare) and any(isinstance(o, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for o in node.ops):
            for side in (node.left, *node.comparators):
                if (
                    isinstance(side, ast.Constant)
                    and isinstance(side.value, str)
                    and versions.DATE.fullmatch(side.value)
                ):
                    found.append(f"{path.name}:{node.lineno} compares dates")
    return found


def test_no_module_names_a_revision_or_compares_dates() -> None:
    found = [
        hit
        for folder in ("mcp_harness", "conformance", "load")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name not in OWNERS
        for hit in _literals(path)
    ]
    assert not found, found


def test_a_throw_away_revision_is_one_record() -> None:
    """Added before anything else is imported: the catalogue imports, its rows 'from' a revision apply to the new
    one, the harness asks for it by default and a profile accepts it."""
    code = """
import dataclasses
from mcp_harness import versions
versions.REVISIONS.append(
    dataclasses.replace(versions.revision("2025-11-25"), name="2099-01-01", has_schema=False)
)
from mcp_harness import catalogue, core, profile
assert core.LATEST_VERSION == "2099-01-01" and "2099-01-01" in core.STATEFUL_VERSIONS
applicable = [r.id for r in catalogue.CATALOGUE if r.row("2099-01-01") is not None]
assert "cancellation.receiver.stop" in applicable and "lifecycle.init.server-responds" in applicable
assert profile.Target().spec_version == "2099-01-01"
print(len(applicable))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 20
