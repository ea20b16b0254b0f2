"""The reporters that live inside pytest: Allure labels and attachments, JUnit test case names, the wire-log files,
the one console line per check, and the late amendments of a verdict already reported (a violation of a check's
rule seen during a later check).

`report.py` builds the run's own files (results.json, summary.md, report.html) and stays free of pytest and allure,
since the CLI imports it; this module is imported by the pytest plugin alone.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import allure
import pytest
from _pytest.junitxml import xml_key  # pytest is pinned exactly: the JUnit plugin's stash key

from mcp_harness import catalogue, report
from mcp_harness.catalogue import Requirement
from mcp_harness.report import console_line

# Allure severities by requirement level; info records are trivial.
SEVERITY = {
    "MUST": allure.severity_level.CRITICAL,
    "SHOULD": allure.severity_level.NORMAL,
    "MAY": allure.severity_level.MINOR,
}


def label_allure(req: Requirement, version: str, level: str) -> None:
    """The check as Allure shows it: the spec clause as a link, the level as severity, labels by area.
    (No-ops unless allure-pytest writes results, i.e. --alluredir is given.)"""
    allure.dynamic.description(f"{req.title}\n\n> {(req.row(version) or req.rows[-1]).quote}")
    allure.dynamic.link(req.spec_url(version), name=f"spec {req.spec_ref(version)}")
    allure.dynamic.severity(allure.severity_level.TRIVIAL if req.kind == "info" else SEVERITY[level])
    allure.dynamic.parent_suite("mcp-harness")
    allure.dynamic.suite(req.area)
    allure.dynamic.feature(req.area)
    allure.dynamic.label("check", req.id)


def name_allure(check_id: str, verdict: str) -> None:
    """Title and tag, set when the verdict is known (allure-pytest names the test after its setup)."""
    allure.dynamic.title(check_id)
    allure.dynamic.tag(verdict)


def name_junit(item: pytest.Item, check_id: str) -> None:
    """JUnit test cases carry the check ids too (classname mcp-harness.<area>, name <check id>)."""
    xml = item.config.stash.get(xml_key, None)
    if xml is not None:
        node = xml.node_reporter(item.nodeid)
        node.add_attribute("classname", f"mcp-harness.{catalogue.get(check_id).area}")
        node.add_attribute("name", check_id)


def write_wire(out: Path, check_id: str, text: str) -> str | None:
    """The check's wire log (already scrubbed) as a file under `out`; its path relative to `out`, or None."""
    if not text:
        return None
    folder = out / "wire"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{report.safe_name(check_id)}.log"
    (folder / name).write_text(text + "\n", "utf-8")
    return f"wire/{name}"


def attach_wire(out: Path, relative: str) -> None:
    allure.attach.file(str(out / relative), name="wire log", attachment_type=allure.attachment_type.TEXT)


class ConsoleReporter:
    """One line per check, printed from the log report (after the test's output capture has ended)."""

    def __init__(self, config: pytest.Config, lines: dict[str, report.CheckResult]) -> None:
        self.config = config
        self.lines = lines  # node id → its result, waiting for the line

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = self.lines.pop(report.nodeid, None) if report.when == "teardown" else None
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if result is not None and terminal is not None:
            terminal.ensure_newline()
            terminal.write_line(console_line(result))


def allure_environment(config: pytest.Config, run: report.RunInfo) -> None:
    """Allure's Environment panel: what ran against what."""
    folder = getattr(config.option, "allure_report_dir", None)
    if not folder:
        return
    lines = [
        f"target={report.public_url(run.target)}",
        f"protocol_version={run.protocol_version}",
        f"requested_version={run.requested_version}",
        f"mcp_harness={run.harness['version']}",
        f"run_id={run.harness['run_id']}",
        f"strict={str(run.strict).lower()}",
    ]
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "environment.properties").write_text("\n".join(lines) + "\n", "utf-8")


# --- late amendments: a verdict changed after its check was reported -----------------------------------------


def amend_reported(config: pytest.Config, result: report.CheckResult) -> None:
    """`result` turned failing after its test was reported: JUnit (written at the end of the run) and Allure (written
    per test) say so too, and the console gets its line again."""
    _amend_junit(config, result)
    _amend_allure(config, result)
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.ensure_newline()
        terminal.write_line(f"{console_line(result)}  [verdict amended at the end of the run]")


def _amend_junit(config: pytest.Config, result: report.CheckResult) -> None:
    """The finalized test case element (pytest keeps it until it writes the file at session finish) gets the
    failure; the suite's counters follow."""
    xml = config.stash.get(xml_key, None)
    if xml is None or result.verdict not in report.FAILING:
        return
    for reporter in xml.node_reporters_ordered:
        case = reporter.to_xml()
        if case.get("name") != result.id or case.find("failure") is not None or case.find("error") is not None:
            continue
        skipped = case.findall("skipped")
        for element in skipped:
            case.remove(element)
        xml.stats["skipped" if skipped else "passed"] -= 1
        failure = ET.SubElement(case, "failure", message=f"{result.verdict}: {result.reason}")
        failure.text = f"{result.verdict}: {result.reason}\nrequirement ({result.spec}): {result.requirement}"
        xml.stats["failure"] += 1


def _amend_allure(config: pytest.Config, result: report.CheckResult) -> None:
    folder = getattr(config.option, "allure_report_dir", None)
    if not folder or not Path(folder).is_dir():
        return
    for path in Path(folder).glob("*-result.json"):
        doc = json.loads(path.read_text("utf-8"))
        if {"name": "check", "value": result.id} not in doc.get("labels", []):
            continue
        doc["status"] = "failed" if result.verdict == "fail" else "broken"
        doc["statusDetails"] = {"message": f"{result.verdict}: {result.reason}"}
        doc["labels"] = [*doc["labels"], {"name": "tag", "value": result.verdict}]
        path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
