"""Verdicts and the reports built from them: the console line, results.json, summary.md, wire logs.

Every reporter reads the same list of `CheckResult`s; none re-runs anything.
"""

from __future__ import annotations

import html
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
    era: str = "legacy"  # "legacy" (a session revision, after initialize) or "modern" (2026-07-28, stateless)

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
    transport: dict[str, int] = field(default_factory=dict)  # retries and refreshes below the checks
    eras: str = ""  # what the probe found: "legacy", "modern-only" or "dual-era"


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
        "eras": run.eras,
        "strict": run.strict,
        "started_at": run.started_at,
        "duration_s": round(run.duration_s, 3),
        "notes": run.notes,
        **({"transport": run.transport} if run.transport else {}),
        "tally": dict(Counter(r.verdict for r in results)),
        "checks": [r.record() for r in results],
    }
    path = out / "results.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
    write_html(out, doc)
    return path


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def write_summary(out: Path, run: RunInfo, results: list[CheckResult]) -> Path:
    """A Markdown table fit for a CI job summary."""
    lines = [
        "# mcp-harness conformance",
        "",
        f"- target: `{public_url(run.target)}`",
        f"- protocol version: requested `{run.requested_version}`, negotiated `{run.protocol_version}`"
        + (f" ({run.eras})" if run.eras else ""),
        f"- run `{run.harness['run_id']}`, mcp-harness {run.harness['version']}, strict: {str(run.strict).lower()}",
        f"- result: {tally(results)}",
        *[f"- note: {n}" for n in run.notes],
        *([f"- transport: {', '.join(f'{k} {v}' for k, v in run.transport.items())}"] if run.transport else []),
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


# The HTML report: one self-contained file built only from results.json and the wire logs it names, so it can
# be attached to a CI job or mailed and still open anywhere. The CSP forbids every fetch: nothing external.
HTML_ORDER = ("fail", "error", "warn", "not-testable", "info", "pass")
WIRE_LIMIT = 200_000  # characters of one wire log inlined; the full log stays in the wire folder

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 80rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.9rem; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }}
.badge {{ display: inline-block; padding: 0 0.4rem; border-radius: 0.3rem; color: #fff; background: #777; }}
.pass {{ background: #2e7d32; }} .fail, .error {{ background: #c62828; }} .warn {{ background: #ef6c00; }}
.not-testable {{ background: #6d6d6d; }} .info {{ background: #1565c0; }}
pre {{ background: #f7f7f7; padding: 0.5rem; overflow-x: auto; max-width: 60rem; white-space: pre-wrap; }}
blockquote {{ border-left: 3px solid #ccc; margin: 0.3rem 0; padding-left: 0.6rem; color: #444; }}
code {{ word-break: break-all; }} #filter button {{ margin-right: 0.3rem; }}
</style></head><body>
<h1>{title}</h1>
<ul id="run">{run}</ul>
{transport}{baseline}{comparison}<h2>Checks</h2>
<p id="filter" hidden>{buttons}</p>
<table id="checks"><thead><tr><th>verdict</th><th>check</th><th>level</th><th>spec</th><th>detail</th></tr></thead>
<tbody>{rows}</tbody></table>
<script>
// Progressive enhancement only: without JS the buttons stay hidden and every row is shown.
const filter = document.getElementById("filter");
filter.hidden = false;
filter.addEventListener("click", (event) => {{
  const wanted = event.target.dataset && event.target.dataset.verdict;
  if (wanted === undefined) return;
  for (const row of document.querySelectorAll("#checks tbody tr")) {{
    row.hidden = wanted !== "all" && row.dataset.verdict !== wanted;
  }}
}});
</script>
</body></html>
"""


def _wire_text(out: Path, relative: str) -> str:
    """The wire log's text, or one line saying why it is not there (the report must not crash on it)."""
    path = (out / relative).resolve()
    if not path.is_relative_to(out.resolve()):  # results.json may be hand-edited: read nothing outside the run
        return f"(wire log {relative} is outside the output folder; not shown)"
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError as e:
        return f"(wire log {relative} is missing: {e.strerror or e})"
    if len(text) > WIRE_LIMIT:
        return text[:WIRE_LIMIT] + f"\n… (truncated at {WIRE_LIMIT} characters; the full log is {relative})"
    return text


def _html_check(out: Path, c: dict[str, Any]) -> str:
    e = html.escape
    verdict = str(c.get("verdict", ""))
    badge = verdict if verdict in VERDICTS else "unknown"  # the class is only ever one of ours
    detail = c.get("reason") or c.get("message") or ""
    facts = [
        f"<blockquote>{e(c.get('requirement') or '')}</blockquote>",
        f"<p>message: {e(c.get('message') or '')}</p>",
        f"<p>reason: {e(c.get('reason') or 'none')}</p>",
        f"<p>duration: {float(c.get('duration_s') or 0):.3f} s</p>",
    ]
    if c.get("wire_log"):
        wire = str(c["wire_log"])
        facts.append(f"<p>wire log <code>{e(wire)}</code>:</p><pre class='wire'>{e(_wire_text(out, wire))}</pre>")
    return (
        f"<tr data-verdict='{e(verdict)}'><td><span class='badge {badge}'>{e(verdict)}</span></td>"
        f"<td><code>{e(str(c.get('id', '')))}</code></td><td>{e(str(c.get('level', '')))}</td>"
        f"<td>{e(str(c.get('spec', '')))}</td>"
        f"<td><details><summary>{e(detail)}</summary>{''.join(facts)}</details></td></tr>"
    )


def _html_ids(label: str, ids: list[Any]) -> str:
    """One list item; comparison entries are (id, old verdict, new verdict), lists after a JSON round trip."""
    items = [
        f"<code>{html.escape(str(i[0]))}</code> ({html.escape(str(i[1]))} → {html.escape(str(i[2]))})"
        if isinstance(i, list | tuple)
        else f"<code>{html.escape(str(i))}</code>"
        for i in ids
    ]
    return f"<li>{html.escape(label)}: {', '.join(items) if items else 'none'}</li>"


def _html_sections(doc: dict[str, Any]) -> dict[str, str]:
    """The optional sections: transport counters, the baseline outcome, the comparison with an older run."""
    e = html.escape
    sections = {"transport": "", "baseline": "", "comparison": ""}
    if transport := doc.get("transport"):
        items = "".join(f"<li>{e(str(k))}: {e(str(v))}</li>" for k, v in transport.items())
        sections["transport"] = f"<h2>Transport</h2>\n<ul id='transport'>{items}</ul>\n"
    if (b := doc.get("baseline")) is not None:
        stale = "fail the run" if b.get("strict") else "reported only; --strict-baseline fails them"
        items = [
            _html_ids("new failures (fail the run)", b.get("new", [])),
            _html_ids("expected failures (listed)", b.get("expected", [])),
            _html_ids(f"stale entries, now passing ({stale})", b.get("stale", [])),
        ]
        if b.get("not_run"):
            items.append(_html_ids("listed but not run", b["not_run"]))
        title = f"Baseline <code>{e(Path(str(b.get('file') or '')).name)}</code>"
        sections["baseline"] = f"<h2>{title}</h2>\n<ul id='baseline'>{''.join(items)}</ul>\n"
    if (c := doc.get("comparison")) is not None:
        items = [
            _html_ids("new failures", c.get("new_failures", [])),
            _html_ids("fixed", c.get("fixed", [])),
            _html_ids("other changed verdicts", c.get("changed", [])),
        ]
        if c.get("added") or c.get("removed"):
            items += [_html_ids("checks only in this run", c["added"]), _html_ids("only in the old one", c["removed"])]
        title = f"Compared with <code>{e(str(c.get('old') or ''))}</code>"
        sections["comparison"] = f"<h2>{title}</h2>\n<ul id='comparison'>{''.join(items)}</ul>\n"
    return sections


def write_html(out: Path, doc: dict[str, Any]) -> Path:
    """A self-contained HTML summary of a run, from its results.json document and wire logs."""
    e = html.escape
    harness, counts = doc.get("harness") or {}, doc.get("tally") or {}
    run = [
        f"target: <code>{e(str(doc.get('target')))}</code>",
        f"protocol version: requested <code>{e(str(doc.get('requested_version')))}</code>, "
        f"negotiated <code>{e(str(doc.get('protocol_version')))}</code>",
        f"run <code>{e(str(harness.get('run_id')))}</code>, mcp-harness {e(str(harness.get('version')))}, "
        f"strict: {str(bool(doc.get('strict'))).lower()}",
        f"started {e(str(doc.get('started_at')))}, took {float(doc.get('duration_s') or 0):.1f} s",
        "result: <span id='tally'>" + ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS) + "</span>",
        *[f"note: {e(str(n))}" for n in doc.get("notes") or []],
    ]
    order = {v: i for i, v in enumerate(HTML_ORDER)}
    checks = sorted(doc.get("checks") or [], key=lambda c: (order.get(c.get("verdict"), len(order)), str(c.get("id"))))
    present = [v for v in HTML_ORDER if counts.get(v)]
    buttons = "".join(f"<button type='button' data-verdict='{v}'>{v}</button>" for v in ["all", *present])
    page = HTML_PAGE.format(
        title=e(f"mcp-harness conformance: {doc.get('target')}"),
        run="".join(f"<li>{item}</li>" for item in run),
        buttons=buttons,
        rows="\n".join(_html_check(out, c) for c in checks),
        **_html_sections(doc),
    )
    path = out / "report.html"
    path.write_text(page, "utf-8")
    return path
