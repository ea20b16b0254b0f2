"""The property checks' parts: settings and options, tool selection, argument strategies (2020-12 fallbacks), the
rate cap, malformed and error-code cases and their judges, reproductions that run, seeds that reproduce."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import run_harness
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_harness import core, properties, schema
from mcp_harness.profile import ProfileError, PropertySettings, Target, load_profile, property_budget
from mcp_harness.runconfig import OPTIONS, build_target
from mcp_harness.wire import Redactor

SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"address": {"type": "object", "properties": {"city": {"type": "string"}}}},
    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
    "additionalProperties": False,
}


def draw(strategy: st.SearchStrategy[Any], count: int = 30) -> list[Any]:
    found: list[Any] = []

    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    for flags, kwargs in OPTIONS:
        parser.add_argument(*flags, **kwargs)
    return parser.parse_args(argv)


# --- settings: profile and options ---------------------------------------------------------------------------------


def test_properties_table_and_options(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('[properties]\ntools = ["echo", "search"]\nmalformed = false\nrate = 5\n')
    t = load_profile(profile)
    assert (t.properties.tools, t.properties.malformed, t.properties.rate) == (["echo", "search"], False, 5.0)
    t = build_target(options("--profile", str(profile), "--property-malformed", "--property-rate", "50"))
    assert t.properties.malformed is True and t.properties.rate == 50.0  # the command line wins
    t = build_target(options("--property-budget", "500:120", "--seed", "7"))
    assert (t.properties.examples, t.properties.seconds, t.properties.seed) == (500, 120.0, 7)
    assert property_budget("100") == (100, 16.0)  # seconds follow the examples when not given


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[properties]\ntools = "echo"', "properties.tools"),
        ("[properties]\nmalformed = 1", "properties.malformed"),
        ("[properties]\nrate = 0", "properties.rate"),
        ("[properties]\nbudget = 5", "properties.budget"),
    ],
)
def test_bad_properties_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(text)
    with pytest.raises(ProfileError, match=named):
        load_profile(profile)


@pytest.mark.parametrize(
    "argv", [("--property-budget", "lots"), ("--property-budget", "0:5"), ("--property-rate", "0")]
)
def test_bad_property_options(argv: tuple[str, ...]) -> None:
    with pytest.raises(ProfileError, match=argv[0]):
        build_target(options(*argv))


def test_bad_budget_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run = run_harness(tmp_path, "--property-budget", "x")
    assert run.code == 2 and "--property-budget" in run.stderr and len(run.stderr.strip().splitlines()) == 1


# --- which tools, which arguments ----------------------------------------------------------------------------------


def tool(name: str, **hints: bool) -> dict[str, Any]:
    return {"name": name, "inputSchema": {"type": "object"}, "annotations": hints}


def test_generated_arguments_go_to_the_tools_the_harness_may_call() -> None:
    tools = {
        t["name"]: t
        for t in (
            tool("read", readOnlyHint=True),
            tool("write"),
            tool("wipe", destructiveHint=True),
            tool("test_sampling"),  # an official fixture name
            tool("test_elicitation", destructiveHint=True),
        )
    }
    chosen, skipped = properties.generated_tools(tools, Target(url="http://127.0.0.1:1/mcp"))
    assert [t["name"] for t in chosen] == ["read", "test_sampling"]
    assert skipped == [
        "write (not annotated readOnlyHint)",
        "wipe (destructiveHint)",
        "test_elicitation (destructiveHint)",
    ]
    # A list in [properties] tools is what the user asked for: destructive or not, only those.
    listed = Target(url="http://127.0.0.1:1/mcp", properties=PropertySettings(tools=["write", "wipe", "absent"]))
    chosen, skipped = properties.generated_tools(tools, listed)
    assert [t["name"] for t in chosen] == ["write", "wipe"]
    assert skipped == ["absent (listed in [properties] tools, not offered by the server)"]


def test_slow_generated_calls_are_cancelled_at_their_deadline_and_stop_on_the_server(
    tmp_path: Path, server_factory
) -> None:
    """The progress tool's hard cases (2^53 steps, a delay of 1e308: clamped to about a second) outlast a 0.3 s
    deadline: each is cancelled with notifications/cancelled, recorded, not failed, and none runs on afterwards."""
    server = server_factory()
    run = run_harness(
        tmp_path,
        "--url",
        server.url,
        "--check",
        "property.tools.arguments",
        "--property-call-timeout",
        "0.3",
        "--property-budget",
        "3:1",
    )
    assert run.verdicts == {"property.tools.arguments": "pass"}, run.stdout
    message = run.results["checks"][0]["message"]
    assert "not answered within 0.3s, cancelled with notifications/cancelled (not a failure)" in message
    with urllib.request.urlopen(server.sessions_url, timeout=5) as r:
        counts = json.load(r)
    assert counts["running"] == 0 and counts["cancelled"] >= 2, counts  # stopped by the cancellation, not finished
    assert counts["open"] == 0


def test_hard_and_invalid_cases_are_sent_whatever_the_budget(tmp_path: Path, server_factory) -> None:
    server = server_factory()
    run = run_harness(
        tmp_path, "--url", server.url, "--check", "property.tools.arguments", "--property-budget", "1:0.1"
    )
    assert run.verdicts == {"property.tools.arguments": "pass"}, run.stdout
    message = run.results["checks"][0]["message"]
    sent = re.search(r"(\d+) of (\d+) hard, (\d+) of (\d+) invalid fixed cases", message)
    assert sent and sent[1] == sent[2] and sent[3] == sent[4] and int(sent[1]) >= 10 and int(sent[3]) >= 4, message


def test_2020_12_schema_with_defs_generates_valid_arguments() -> None:
    plan = properties.arguments({"name": "t", "inputSchema": SCHEMA_2020_12}, "2025-11-25")
    assert plan.strategy is not None and plan.note is None
    values = draw(plan.strategy)
    validator = jsonschema.Draft202012Validator(SCHEMA_2020_12)
    assert values and all(validator.is_valid(v) for v in values)
    assert any("address" in v for v in values)  # the $ref into $defs was followed


@pytest.mark.parametrize(
    ("given_schema", "keyword"),
    [
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "dependentRequired": {"a": ["b"]}},
            "dependentRequired",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "array", "prefixItems": [{"type": "integer"}]}}},
            "prefixItems",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "unevaluatedProperties": False},
            "unevaluatedProperties",
        ),
    ],
)
def test_unknown_2020_12_keywords_are_named_and_still_honoured(given_schema: dict[str, Any], keyword: str) -> None:
    plan = properties.arguments({"name": "t", "inputSchema": given_schema}, "2025-11-25")
    assert plan.strategy is not None and plan.note and keyword in plan.note
    validator = jsonschema.Draft202012Validator(given_schema)
    assert all(validator.is_valid(v) for v in draw(plan.strategy))  # filtered by the full 2020-12 schema


def test_a_property_named_like_a_keyword_is_not_a_keyword() -> None:
    plan = properties.arguments(
        {"name": "t", "inputSchema": {"type": "object", "properties": {"prefixItems": {"type": "string"}}}},
        "2025-11-25",
    )
    assert plan.strategy is not None and plan.note is None


def test_schemas_it_cannot_handle_fall_back_or_say_why() -> None:
    remote = {"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}}
    plan = properties.arguments({"name": "remote", "inputSchema": remote}, "2025-11-25")
    assert plan.strategy is not None and "RefResolutionError" in (plan.note or "")  # {"type": "object"}, filtered
    required = {**remote, "required": ["a"]}
    plan = properties.arguments({"name": "required", "inputSchema": required}, "2025-11-25")
    assert plan.strategy is None and "no valid arguments" in (plan.note or "")
    plan = properties.arguments({"name": "bad", "inputSchema": {"type": 5}}, "2025-11-25")
    assert plan.strategy is None and "not a valid schema" in (plan.note or "")
    plan = properties.arguments({"name": "null", "inputSchema": None}, "2025-11-25")
    assert plan.strategy is None and "not a JSON Schema object" in (plan.note or "")


# --- the rate cap and the reproduction -----------------------------------------------------------------------------


def exchange(method: str, headers: dict[str, str], body: bytes | None, purpose: str = "raw") -> core.Exchange:
    return core.Exchange(1, core.HttpRequest(method, headers, body), None, purpose)


def test_pacer_keeps_to_the_rate_and_journals_in_order() -> None:
    pacer = properties.Pacer(50.0)
    sent = [exchange("POST", {}, None) for _ in range(6)]
    started = time.monotonic()
    for ex in sent:
        pacer(ex)
    assert time.monotonic() - started >= 0.09  # 6 requests at 50/s: at least 5 intervals of 20 ms
    assert pacer.journal == sent and pacer.requests == 6


def test_reproduction_captures_sessions_and_hides_secrets() -> None:
    init = exchange(
        "POST", {"Authorization": "Bearer s3cret-token", "Content-Type": "application/json"}, b"{}", "initialize"
    )
    init.status, init.headers = 200, {"mcp-session-id": "abc123", "content-type": "text/event-stream"}
    use = exchange("POST", {"MCP-Session-Id": "abc123", "Authorization": "Bearer s3cret-token"}, b"x" * 5000)
    use.status, use.headers, use.body = 500, {"content-type": "text/plain"}, bytearray(b"Internal Server Error")
    script = properties.reproduction(
        [init, use], "http://127.0.0.1:1/mcp", Redactor(["Authorization"], ["Bearer s3cret-token"])
    )
    assert "s3cret" not in script and "abc123" not in script
    assert (
        "S1=$(curl" in script and '"MCP-Session-Id: $S1"' in script and '"Authorization: $HDR_AUTHORIZATION"' in script
    )
    assert "python3 -c" in script and "--data-binary @-" in script  # a large body is rebuilt, not inlined
    assert "HTTP 500 text/plain Internal Server Error" in script


# --- malformed and error-code cases ----------------------------------------------------------------------------------


def test_malformed_cases_are_what_they_say() -> None:
    cases = draw(properties.malformed_requests("2025-11-25"), 200)
    assert {c.kind for c in cases} >= {"json", "shape", "content-type", "accept", "session-header", "version-header"}
    for case in cases:
        if case.kind == "json":
            with pytest.raises(ValueError):
                json.loads(case.body)
        elif case.kind == "shape" and case.strict:  # JSON-RPC 2.0 rejects it: never a valid request
            assert not schema._validator("2025-11-25", "JSONRPCRequest").is_valid(json.loads(case.body)), case
    assert "version-header" not in {c.kind for c in draw(properties.malformed_requests("2025-03-26"), 100)}
    assert max(len(c.body) for c in cases) <= properties.MAX_BODY  # the 1-16 MiB bodies only on request
    big = draw(properties.malformed_requests("2025-11-25", oversized=True), 300)
    assert max(len(c.body) for c in big) > 2**20
    assert "batch" not in {c.kind for c in draw(properties.malformed_requests("2025-03-26"), 100)}  # batches valid


def test_a_batch_body_is_recorded_not_judged() -> None:
    cases = draw(properties.malformed_requests("2025-11-25"), 300)
    assert all(not c.strict for c in cases if c.kind == "batch") and any(c.kind == "batch" for c in cases)
    served = {"jsonrpc": "2.0", "id": 7, "result": {}}
    assert properties.batch_answer(answered(200, [served], core.JSON)) == "HTTP 200, 1 result(s)"


def answered(
    status: int, messages: list[dict[str, Any]], content_type: str = core.JSON, body: bytes = b""
) -> core.Exchange:
    ex = exchange("POST", {}, b"")
    ex.status, ex.headers, ex.messages, ex.body = status, {"content-type": content_type}, messages, bytearray(body)
    return ex


def test_judge_malformed() -> None:
    bad_json = properties.Malformed("json", "truncated", b'{"jsonrpc"')
    parse_error = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
    assert properties.judge_malformed(bad_json, answered(400, [parse_error]), "2025-11-25") is None  # null id is fine
    assert "HTTP 500" in (properties.judge_malformed(bad_json, answered(500, []), "2025-11-25") or "")
    assert "without a JSON-RPC error" in (properties.judge_malformed(bad_json, answered(202, []), "2025-11-25") or "")
    shape = properties.Malformed("shape", "no jsonrpc", b'{"id":7,"method":"ping"}')
    served = {"jsonrpc": "2.0", "id": 7, "result": {}}
    assert "served as if valid" in (
        properties.judge_malformed(shape, answered(200, [served], core.SSE), "2025-11-25") or ""
    )
    assert properties.judge_malformed(shape, answered(202, []), "2025-11-25") is None  # read as a notification
    lenient = properties.Malformed("shape", "id is null", b"{}", strict=False)
    assert properties.judge_malformed(lenient, answered(200, [served], core.SSE), "2025-11-25") is None
    version = properties.Malformed("version-header", "x", b"{}", (("MCP-Protocol-Version", "x"),), strict=False)
    assert "not 400" in (properties.judge_malformed(version, answered(404, []), "2025-11-25") or "")
    header = properties.Malformed("content-type", "text/plain", b"{}", strict=False, request=True)
    assert properties.judge_malformed(header, answered(200, [served], core.SSE), "2025-11-25") is None
    assert properties.judge_malformed(header, answered(415, []), "2025-11-25") is None


def test_error_calls_break_the_schema_and_methods_are_unknown() -> None:
    calls = draw(properties.error_calls("2025-11-25", {"tools": {}, "logging": {}}, "echo"), 200)
    known = properties.known_methods()
    assert {c.expect for c in calls} == {properties.METHOD_NOT_FOUND, properties.INVALID_PARAMS}
    for call in calls:
        if call.expect == properties.INVALID_PARAMS:
            assert not schema.params_valid("2025-11-25", call.method, call.params), call
        else:
            assert call.method not in known
    without_tools = draw(properties.error_calls("2025-11-25", {}, None), 100)
    assert not {c.method for c in without_tools} & {"tools/call", "tools/list", "logging/setLevel"}


def test_judge_error() -> None:
    call = properties.Call("nope", None, properties.METHOD_NOT_FOUND)
    error = {"jsonrpc": "2.0", "id": 3, "error": {"code": -32601, "message": "Method not found"}}
    assert properties.judge_error(call, answered(200, [error], core.SSE), 3) is None
    assert "not -32601" in (
        properties.judge_error(call, answered(200, [{**error, "error": {"code": -32600}}]), 3) or ""
    )
    assert "with a result" in (
        properties.judge_error(call, answered(200, [{"jsonrpc": "2.0", "id": 3, "result": {}}]), 3) or ""
    )
    assert "id" in (properties.judge_error(call, answered(200, [{**error, "id": 4}]), 3) or "")
    # The TypeScript SDK's answer to broken params: a parse error, and the readable id lost. Both are named.
    parse = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
    broken = properties.Call("ping", {"_meta": "x"}, properties.INVALID_PARAMS)
    reason = properties.judge_error(broken, answered(400, [parse]), 3) or ""
    assert "answered error -32700, not -32602" in reason and "carries id null, not the request's 3" in reason


def test_a_raw_request_s_answer_is_not_taken_for_a_stray_response() -> None:
    """A malformed body whose id is readable may be answered with that id: the core knows it is the harness's own."""
    s = core.Session()
    s.session_id = "abc"
    body = b'{"jsonrpc":"2.0","id":7,"method":"ping","params":[]}'
    ex = s.custom("POST", {"Content-Type": "application/json"}, body=body)
    s.sent(ex)
    s.receive_start(ex, 200, {"content-type": "application/json"})
    s.receive_data(ex, b'{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"Invalid params"}}')
    s.receive_end(ex)
    assert not [v for v in s.violations if "matches no request" in v.detail]


# --- against servers ----------------------------------------------------------------------------------------------


def reason(run: Any, check: str) -> str:
    return next(c for c in run.results["checks"] if c["id"] == check)["reason"] or ""


def test_a_failure_reports_a_reproduction_that_runs(tmp_path: Path, server_factory) -> None:
    server = server_factory(mutant="crash-non-object")
    check = "property.malformed.rejected"
    run = run_harness(tmp_path, "--url", server.url, "--property-malformed", "--check", check, "--seed", "3")
    assert run.code == 1 and run.verdicts == {check: "fail"}, run.stdout
    text = reason(run, check)
    assert "answered HTTP 500" in text and f"--check {check} --seed 3" in text and "shrunk case:" in text
    failure = ET.parse(tmp_path / "junit.xml").getroot().find(".//failure")
    assert failure is not None and "answered HTTP 500" in (failure.get("message") or "") + (failure.text or "")
    assert (tmp_path / "wire" / f"{check}.log").exists()
    script = text.split("the exchange, as curl commands:\n", 1)[1]
    replayed = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, env={**os.environ, "URL": server.url}
    )
    assert "HTTP/1.1 500" in replayed.stdout, replayed.stdout + replayed.stderr


def test_the_same_seed_finds_the_same_case(tmp_path: Path, server_factory) -> None:
    check = "property.tools.arguments"
    found = []
    for attempt in ("a", "b"):
        server = server_factory(mutant="tool-500-non-ascii")
        run = run_harness(tmp_path / attempt, "--url", server.url, "--check", check, "--seed", "11")
        assert run.verdicts == {check: "fail"}, run.stdout
        found.append(reason(run, check).split("replay:")[0])
    assert found[0] == found[1] and "tools_call(" in found[0]


def test_bad_input_by_default_against_any_target_and_derandomised_in_ci(tmp_path: Path, server_factory) -> None:
    server = server_factory(idle_timeout=120)  # long: a session left open cannot expire before it is counted
    env = {**os.environ, "CI": "1"}
    run = run_harness(tmp_path, "--url", server.url, "--check", "property.*", env=env)
    assert run.code == 0, run.stdout + run.stderr
    assert set(run.verdicts.values()) == {"pass"}, run.stdout
    malformed = next(c for c in run.results["checks"] if c["id"] == "property.malformed.rejected")
    assert "bodies up to 64 KiB" in malformed["message"]
    assert any("property checks: seed 0," in note and "up to 64 KiB" in note for note in run.results["notes"])
    assert server.open_sessions() == 0


def test_malformed_bodies_opt_out_and_oversized_opt_in(tmp_path: Path, server_factory) -> None:
    server = server_factory(idle_timeout=120)
    checks = ("--check", "property.malformed.rejected", "--check", "property.jsonrpc.error-codes")
    run = run_harness(tmp_path / "out", "--url", server.url, *checks, "--no-property-malformed")
    assert run.verdicts == {"property.malformed.rejected": "not-testable", "property.jsonrpc.error-codes": "pass"}
    assert "skipped on request" in reason(run, "property.malformed.rejected")
    run = run_harness(tmp_path / "big", "--url", server.url, *checks, "--property-oversized", "--seed", "3")
    assert run.code == 0, run.stdout + run.stderr
    malformed = next(c for c in run.results["checks"] if c["id"] == "property.malformed.rejected")
    assert "bodies up to 16 MiB" in malformed["message"]
    assert server.open_sessions() == 0


def test_tool_arguments_are_not_testable_when_every_call_was_cancelled(tmp_path: Path, server_factory) -> None:
    server = server_factory()
    run = run_harness(
        tmp_path, "--url", server.url, "--check", "property.tools.arguments", "--property-call-timeout", "0.001"
    )
    assert run.verdicts == {"property.tools.arguments": "not-testable"}, run.stdout
    assert "every generated call went unanswered and was cancelled" in run.results["checks"][0]["reason"]
