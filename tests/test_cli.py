"""The command line: exit statuses, one clear line for what stops a run, and no secret in any output."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import RUN_TIMEOUT, harness_command, run_harness

from mcp_harness import catalogue


def assert_one_line(text: str) -> None:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text


def test_unreachable_url_exits_2_with_one_line(tmp_path: Path) -> None:
    run = run_harness(tmp_path, "--url", "http://127.0.0.1:9/mcp", "--timeout", "2")
    assert run.code == 2
    assert_one_line(run.stderr)
    assert "cannot reach http://127.0.0.1:9/mcp" in run.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--url", "not a url"], "--url"),
        (["--spec-version", "2024-11-05"], "--spec-version"),
        (["--idle-timeout", "0"], "--idle-timeout"),
        (["--header", "no-colon"], "--header"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    run = run_harness(tmp_path, *args)
    assert run.code == 2
    assert_one_line(run.stderr)
    assert says in run.stderr


def test_bad_profile_names_the_key(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('url = "http://127.0.0.1:9/mcp"\nidle_timeout = "soon"\n')
    run = run_harness(tmp_path, "--profile", str(profile))
    assert run.code == 2
    assert_one_line(run.stderr)
    assert "idle_timeout" in run.stderr


def test_unknown_check_exits_2(tmp_path: Path) -> None:
    run = run_harness(tmp_path, "--check", "no.such.check")
    assert run.code == 2
    assert "no.such.check" in run.stderr + run.stdout


def test_list_checks(tmp_path: Path) -> None:
    run = run_harness(tmp_path, "--list-checks")
    assert run.code == 0
    for check_id in catalogue.BY_ID:
        assert check_id in run.stdout


class Refusing(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", "Bearer")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/mcp"
    server.shutdown()
    server.server_close()


def test_authentication_refused_exits_2(tmp_path: Path, refusing_url: str) -> None:
    run = run_harness(tmp_path, "--url", refusing_url, "--header", "Authorization: Bearer planted-token-0001")
    assert run.code == 2
    assert_one_line(run.stderr)
    assert "authentication refused" in run.stderr and "planted-token-0001" not in run.stderr


def test_planted_secrets_appear_in_no_output(tmp_path: Path, server_factory) -> None:
    # A mutant, so that failures write wire logs carrying every header the harness sent.
    server = server_factory(mutant="notification-200")
    secrets = ("planted-bearer-7f3a9c", "planted-tenant-51d2e8")
    run = run_harness(
        tmp_path,
        "--url",
        server.url,
        "--header",
        f"Authorization: Bearer {secrets[0]}",
        "--header",
        "X-Tenant-Key: ${MCP_PLANTED_TENANT}",  # filled from the environment: never on a command line
        env={**os.environ, "MCP_PLANTED_TENANT": secrets[1]},
    )
    assert run.code == 1
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.name == "wire" for p in files)  # the wire logs were written, with redactions
    for text in [run.stdout, run.stderr, *(p.read_text() for p in files)]:
        for secret in secrets:
            assert secret not in text


def test_a_modern_only_server_cannot_be_tested_in_the_legacy_era(tmp_path: Path, server_factory) -> None:
    server = server_factory(extra_args=("--modern-only",))
    run = run_harness(tmp_path, "--url", server.url, "--spec-version", "2025-06-18")
    assert run.code == 2, run.stdout + run.stderr
    assert "initialize was refused" in run.stderr and "drop --spec-version" in run.stderr, run.stderr


def test_server_dying_mid_run_gives_a_complete_report(tmp_path: Path, server_factory) -> None:
    server = server_factory()
    proc = subprocess.Popen(
        harness_command(
            tmp_path,
            *("--url", server.url, "--idle-timeout", "2", "--timeout", "3", "--property-malformed"),
            *("--side-channel", server.url.removesuffix("/mcp") + "/sessions#cancelled"),  # the check needs one
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:  # the expiry check runs first and says when it starts waiting
        lines.append(line)
        if "staying idle" in line:
            server.stop()
            break
    rest, _ = proc.communicate(timeout=RUN_TIMEOUT)
    output = "".join(lines) + rest
    assert proc.returncode == 1, output
    doc = json.loads((tmp_path / "results.json").read_text())
    assert {c["id"] for c in doc["checks"]} == set(catalogue.BY_ID)
    order = [c["id"] for c in doc["checks"]]  # the order they ran in
    after_death = doc["checks"][order.index("transport.session.expired-404.idle") :]
    assert len(after_death) > len(catalogue.BY_ID) // 2
    after_death = [c for c in after_death if catalogue.get(c["id"]).binds != "modern-only"]  # not-testable here
    assert {c["verdict"] for c in after_death} == {"error"}, output
    assert all(c["reason"] and "Traceback" not in c["reason"] for c in after_death)


def test_allure_and_junit_carry_the_check_ids(tmp_path: Path, server_factory) -> None:
    server = server_factory(mutant="notification-200")
    run = run_harness(tmp_path, "--url", server.url, "--check", "transport.post.*", "--check", "lifecycle.*")
    assert run.code == 1
    verdicts = run.verdicts
    assert verdicts["transport.post.notification-202"] == "fail"
    allure = {}
    for path in (tmp_path / "allure-results").glob("*-result.json"):
        doc = json.loads(path.read_text())
        allure[doc["name"]] = doc
    assert set(allure) == set(verdicts)  # one Allure result per check, named by its id
    status = {"pass": "passed", "info": "passed", "warn": "passed", "fail": "failed", "not-testable": "skipped"}
    for check_id, verdict in verdicts.items():
        doc = allure[check_id]
        labels = {(label["name"], label["value"]) for label in doc["labels"]}
        assert doc["status"] == status[verdict], check_id
        assert ("check", check_id) in labels and ("tag", verdict) in labels
        assert ("feature", catalogue.get(check_id).area) in labels
        spec = next(c["spec"] for c in run.results["checks"] if c["id"] == check_id)
        assert [link["url"] for link in doc["links"]] == [f"https://modelcontextprotocol.io/specification/{spec}"]
    failed = allure["transport.post.notification-202"]
    assert ("severity", "critical") in {(label["name"], label["value"]) for label in failed["labels"]}
    attachment = tmp_path / "allure-results" / failed["attachments"][0]["source"]
    assert "== wire log" in attachment.read_text()  # the wire log of the failing check
    assert (tmp_path / "allure-results" / "environment.properties").exists()
    cases = ElementTree.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    junit = {case.get("name"): case for case in cases}
    assert set(junit) == set(verdicts)
    assert junit["transport.post.notification-202"].find("failure") is not None
    assert junit["transport.post.notification-202"].get("classname") == "mcp-harness.transport"


def test_time_limit_reports_the_checks_not_run_as_errors(tmp_path: Path) -> None:
    run = run_harness(tmp_path, "--time-limit", "4")
    assert run.code == 1
    late = [c for c in run.results["checks"] if c["reason"] and "time limit of 4s was reached" in c["reason"]]
    assert late and all(c["verdict"] == "error" for c in late)
    assert len(run.results["checks"]) == len(catalogue.BY_ID)  # the report is complete
    assert run.results["duration_s"] < 4 + 2 * 10  # the check running at the limit ends within its reads
    assert any(f"{len(late)} check(s) not run" in n for n in run.results["notes"])
    allure = [json.loads(p.read_text()) for p in (tmp_path / "allure-results").glob("*-result.json")]
    assert {d["status"] for d in allure if d["name"] in {c["id"] for c in late}} == {"broken"}


def test_server_that_stops_answering_times_out_and_the_run_ends(tmp_path: Path, server_factory) -> None:
    """A server that goes silent mid-run costs a few read timeouts, not one per request: after three exchanges in a
    row got no answer the rest fail at once (policy.Health), every check still ends with a reason."""
    # The probe (initialize, initialized, DELETE) and the first checks' requests are answered; then silence.
    server = server_factory(extra_args=("--hang-after", "7"))
    run = run_harness(tmp_path, "--url", server.url, "--timeout", "1", "--time-limit", "60", "--check", "transport.*")
    assert run.code == 1, run.stdout + run.stderr
    checks = run.results["checks"]
    assert {c["id"] for c in checks} == {i for i in catalogue.BY_ID if i.startswith("transport.")}
    errors = [c["reason"] for c in checks if c["verdict"] == "error"]
    assert errors and all(r for r in errors)
    assert any("timed out after 1s" in r for r in errors)
    assert any("not sent: the server stopped answering" in r for r in errors)
    assert not any("time limit" in (c["reason"] or "") for c in checks)
    assert run.results["duration_s"] < 30  # a timeout per request would take well over a minute


def test_server_that_stops_answering_after_initialize_is_one_line(tmp_path: Path, server_factory) -> None:
    server = server_factory(extra_args=("--hang-after", "1"))
    run = run_harness(tmp_path, "--url", server.url, "--timeout", "1")
    assert run.code == 2
    assert_one_line(run.stderr)
    assert "stopped answering after initialize" in run.stderr and "timed out after 1s" in run.stderr


def test_header_naming_an_unset_variable_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MCP_UNSET_VARIABLE"}
    run = run_harness(tmp_path, "--header", "Authorization: Bearer ${MCP_UNSET_VARIABLE}", env=env)
    assert run.code == 2
    assert_one_line(run.stderr)
    assert "--header: environment variable MCP_UNSET_VARIABLE is not set" in run.stderr


def test_the_cli_loads_no_test_or_load_machinery() -> None:
    """`mcp-harness --help` and `--list-checks` stay quick: the CLI imports none of pytest, allure, hypothesis,
    Locust or gevent until a run needs them."""
    code = (
        "import sys, mcp_harness.cli; "
        "print(','.join(m for m in ('pytest', 'allure', 'hypothesis', 'locust', 'gevent') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def test_a_one_check_run_opens_two_sessions_the_probe_and_the_check_s(tmp_path: Path, server_factory) -> None:
    """The CLI's probe is handed to pytest (behind AgentCore each probe is a microVM session): a check that needs no
    round-trip tool opens its own session and nothing else does."""
    server = server_factory()
    run = run_harness(tmp_path, "--url", server.url, "--check", "ping.respond.prompt-empty")
    assert run.verdicts == {"ping.respond.prompt-empty": "pass"}, run.stdout
    with urllib.request.urlopen(server.sessions_url, timeout=5) as r:
        assert json.load(r)["created"] == 2
