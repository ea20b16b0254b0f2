"""The HTML report: built only from results.json and the wire logs, every string escaped, nothing external, and
rendered in a real headless Chromium (Debian's chromium + chromium-driver, installed by .ci/run)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from conftest import severe_console_entries

from mcp_harness import baseline, report

WIRE = '→ {"jsonrpc":"2.0","id":1,"method":"tools/list"}\n← {"jsonrpc":"2.0","id":1,"error":{"code":-32601}}\n'
EVIL = "<script>alert('x')</script> & more"


def result(check_id: str, verdict: str, **extra: Any) -> report.CheckResult:
    fields = {"level": "MUST", "spec": "basic/lifecycle", "requirement": f"the {check_id} requirement"}
    return report.CheckResult(id=check_id, verdict=verdict, message=f"{check_id} message", **(fields | extra))


def make_run(out: Path) -> dict[str, Any]:
    """A results.json document with one check of most verdicts, a wire log, a baseline and a comparison."""
    (out / "wire").mkdir(parents=True)
    (out / "wire" / "tools.list.log").write_text(WIRE, "utf-8")
    results = [
        result("lifecycle.initialize", "pass", duration_s=0.25),
        result("tools.list", "fail", reason="method not found", wire_log="wire/tools.list.log"),
        result("tools.call", "error", reason=EVIL),
        result("resources.subscribe", "not-testable", reason="server has no resources"),
        result("server.info", "info"),
        result("prompts.list", "fail", reason="gone", wire_log="wire/prompts.list.log"),  # file never written
    ]
    run = report.RunInfo(
        harness={"run_id": "run-42", "version": "9.9.9"},
        target="https://user:secret@mcp.example/mcp",
        requested_version="2025-06-18",
        protocol_version="2025-06-18",
        strict=False,
        started_at="2025-07-01T12:00:00Z",
        duration_s=3.5,
        notes=["a note"],
    )
    doc = json.loads(report.write_results(out, run, results).read_text("utf-8"))
    old = {"checks": [{"id": "tools.list", "verdict": "pass"}, {"id": "tools.call", "verdict": "fail"}]}
    outcome = baseline.apply(doc, {"tools.list": {}, "lifecycle.initialize": {}})
    doc["baseline"] = {"file": "ci/mcp-baseline.json", "strict": True, **asdict(outcome)}
    doc["comparison"] = {"old": "old/results.json", **asdict(baseline.compare(old, doc))}
    doc["transport"] = {"front_retries": 3, "token_refreshes": 1}
    return json.loads(json.dumps(doc))  # as read back from results.json: tuples become lists


class Page(HTMLParser):
    """The text, the ids and the resource-bearing attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.ids: dict[str, int] = {}
        self.links: list[str] = []
        self.rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] = self.ids.get(value, 0) + 1
            if name in ("src", "href", "action", "srcset", "poster", "data") and value:
                self.links.append(value)
        self.rows += tag == "tr" and any(name == "data-verdict" for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_report_is_escaped_self_contained_and_complete(tmp_path: Path) -> None:
    doc = make_run(tmp_path)
    path = report.write_html(tmp_path, doc)
    assert path == tmp_path / "report.html"
    raw = path.read_text("utf-8")
    page = Page()
    page.feed(raw)
    text = "".join(page.text)

    assert "1 pass, 2 fail, 0 warn, 1 not-testable, 1 info, 1 error" in text
    for check in doc["checks"]:
        assert check["id"] in text
    assert page.rows == len(doc["checks"])
    assert WIRE in text  # inlined, and unescaped back to the very bytes of the log
    assert "wire/prompts.list.log is missing" in text
    assert "<script>alert" not in raw and "&lt;script&gt;alert" in raw and EVIL in text
    assert "secret" not in raw and "run-42" in text and "9.9.9" in text and "a note" in text
    assert not page.links, page.links  # no src/href at all: nothing to fetch
    assert not re.search(r"https?://(?!(&lt;redacted&gt;@)?mcp\.example/)|url\(|@import", raw)
    assert {"run", "tally", "checks", "baseline", "comparison", "transport"} <= set(page.ids)
    assert "front_retries: 3" in text
    assert "new failures (fail the run): prompts.list, tools.call" in text
    assert "stale entries, now passing (fail the run): lifecycle.initialize" in text
    assert "new failures: tools.list (pass → fail)" in text
    # sorted like summary.md: fail, error, warn, not-testable, info, pass, then id
    table = text[text.index("verdictchecklevelspecdetail") :]
    order = [table.index(i) for i in ("prompts.list", "tools.list", "tools.call", "resources.subscribe")]
    assert order == sorted(order)
    assert report.write_html(tmp_path, doc).read_text("utf-8") == raw  # deterministic


def test_html_report_without_optional_sections(tmp_path: Path) -> None:
    doc = make_run(tmp_path)
    for key in ("baseline", "comparison", "transport"):
        del doc[key]
    doc["checks"][1]["wire_log"] = "../../etc/passwd"
    page = Page()
    page.feed(report.write_html(tmp_path, doc).read_text("utf-8"))
    assert not {"baseline", "comparison", "transport"} & set(page.ids)
    assert "outside the output folder" in "".join(page.text)


def test_html_report_renders_in_headless_chromium(tmp_path: Path, headless_chromium: Any) -> None:
    from selenium.webdriver.common.by import By

    doc = make_run(tmp_path / "run")
    page = report.write_html(tmp_path / "run", doc)
    driver = headless_chromium
    driver.get(page.as_uri())
    assert driver.title == "mcp-harness conformance: https://<redacted>@mcp.example/mcp"
    rows = driver.find_elements(By.CSS_SELECTOR, "#checks tbody tr")
    verdicts = [r.get_attribute("data-verdict") for r in rows]
    assert verdicts == ["fail", "fail", "error", "not-testable", "info", "pass"]
    assert EVIL in rows[2].find_element(By.TAG_NAME, "summary").text  # shown as text, never run
    assert driver.find_element(By.ID, "filter").is_displayed()  # the script ran
    driver.find_element(By.CSS_SELECTOR, "#filter button[data-verdict='fail']").click()
    assert sum(r.is_displayed() for r in rows) == 2
    assert len(driver.find_elements(By.TAG_NAME, "script")) == 1  # only the filter's own
    assert not severe_console_entries(driver)
