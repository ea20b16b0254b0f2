"""Verdicts and the reports built from them: the console line, results.json, summary.md, wire logs.

Every reporter reads the same list of `CheckResult`s; none re-runs anything.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

VERDICTS = ("pass", "fail", "warn", "not-testable", "info", "error")
FAILING = ("fail", "error")


@dataclass
class CheckResult:
    id: str
    level: str
    verdict: str
    spec: str
    requirement: str
    message: str
    reason: str | None = None
    duration_s: float = 0.0
    wire_log: str | None = field(default=None)  # path relative to the output folder

    def record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunInfo:
    harness: dict[str, str]
    target: str
    requested_version: str
    protocol_version: str | None
    strict: bool
    started_at: str
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def public_url(url: str) -> str:
    """The URL without any user:password part, fit for a report."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"<redacted>@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def console_line(result: CheckResult) -> str:
    word = result.verdict.upper()
    line = f"{word:<13} {result.id}"
    detail = result.reason or (result.message if result.verdict in ("info", "pass") else "")
    return f"{line}  — {detail}" if detail else line


def tally(results: list[CheckResult]) -> str:
    counts = Counter(r.verdict for r in results)
    return ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS)


def safe_name(check_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", check_id)


def write_results(out: Path, run: RunInfo, results: list[CheckResult]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "harness": run.harness,
        "target": public_url(run.target),
        "requested_version": run.requested_version,
        "protocol_version": run.protocol_version,
        "strict": run.strict,
        "started_at": run.started_at,
        "duration_s": round(run.duration_s, 3),
        "notes": run.notes,
        "tally": dict(Counter(r.verdict for r in results)),
        "checks": [r.record() for r in results],
    }
    path = out / "results.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return path


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def write_summary(out: Path, run: RunInfo, results: list[CheckResult]) -> Path:
    """A Markdown table fit for a CI job summary."""
    lines = [
        "# mcp-harness conformance",
        "",
        f"- target: `{public_url(run.target)}`",
        f"- protocol version: requested `{run.requested_version}`, negotiated `{run.protocol_version}`",
        f"- run `{run.harness['run_id']}`, mcp-harness {run.harness['version']}, strict: {str(run.strict).lower()}",
        f"- result: {tally(results)}",
        *[f"- note: {n}" for n in run.notes],
        "",
        "| verdict | check | level | spec | detail |",
        "| --- | --- | --- | --- | --- |",
    ]
    order = {v: i for i, v in enumerate(("fail", "error", "warn", "not-testable", "info", "pass"))}
    for r in sorted(results, key=lambda r: (order[r.verdict], r.id)):
        detail = r.reason or r.message
        lines.append(f"| {r.verdict} | `{r.id}` | {r.level} | {r.spec} | {_cell(detail)} |")
    path = out / "summary.md"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path
