"""The whole suite and a load run through the emulated AgentCore front (fixtures/agentcore_front.py): the
runtime session header, -32005 retries, a token rotated mid-run, deviations reported as info."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

from conftest import run_harness
from test_auth import FRONT_ARN as ARN
from test_auth import KEY_ID, SECRET, sigv4_front
from test_load import run_locust

from mcp_harness import catalogue

TOKENS = ("agentcore-token-first-7c1e", "agentcore-token-second-93d0")


def front_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url.split("?")[0].rsplit("/", 1)[0] + "/front-stats", timeout=5) as r:
        return json.load(r)


def rotate_token(token_file: Path, token: str) -> None:
    """Replace the token at once (a rename), as a secret store would: never an empty file to read."""
    fresh = token_file.with_suffix(".new")
    fresh.write_text(token)
    fresh.replace(token_file)


def profile(tmp_path: Path, url: str, token_file: Path, *, idle_timeout: float | None = 2) -> Path:
    endpoint = url.split("/runtimes/")[0]
    path = tmp_path / "agentcore.toml"
    path.write_text(
        (f"idle_timeout = {idle_timeout}\n" if idle_timeout else "")
        + f"""
[auth]
token_command = "cat {token_file}"

[agentcore]
region = "us-west-2"
runtime_arn = "{ARN}"
endpoint = "{endpoint}"
max_retries = 4
"""
    )
    return path


def test_the_suite_passes_through_the_front_with_retries_counted_and_a_token_rotated(
    tmp_path: Path, server_factory
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKENS[0])
    front = server_factory(script="agentcore_front.py", extra_args=("--busy", "1", "--token-file", str(token_file)))
    out = tmp_path / "out"
    rotate = threading.Timer(6.0, rotate_token, (token_file, TOKENS[1]))  # mid-run: the old token is refused
    rotate.start()
    try:
        run = run_harness(out, "--profile", str(profile(tmp_path, front.url, token_file)))
    finally:
        rotate.cancel()
    assert run.code == 0, run.stdout + run.stderr
    doc = run.results
    assert doc["target"] == front.url  # built from region, ARN (escaped) and qualifier, on the test endpoint
    assert {c["id"] for c in doc["checks"]} == set(catalogue.BY_ID)
    assert not run.with_verdict("fail", "error", "warn")
    stats = front_stats(front.url)
    assert stats["busy_sent"] > 0 and doc["transport"]["front_retries"] == stats["busy_sent"]
    assert doc["transport"]["token_refreshes"] >= 1 and stats["unauthorized"] >= 1
    assert stats["rerouted"] == 0  # every session kept its runtime session id
    deviations = [c for c in doc["checks"] if "known deviation of the AgentCore front" in c["message"]]
    assert deviations and all(c["verdict"] == "info" and c["wire_log"] for c in deviations)
    assert any("AgentCore front: runtime" in n and "retries in this run" in n for n in doc["notes"])
    assert f"- transport: front_retries {stats['busy_sent']}, token_refreshes" in (out / "summary.md").read_text()
    assert front.open_sessions() == 0
    for path in [p for p in out.rglob("*") if p.is_file()]:
        text = path.read_text(errors="replace")
        assert not any(token in text for token in TOKENS), path


def test_without_the_profile_the_front_deviations_fail(tmp_path: Path, server_factory) -> None:
    """The same front addressed by its URL alone: what the profile reports as deviations are failures, so the
    info verdicts above are the profile's doing, not a check that cannot fail."""
    front = server_factory(script="agentcore_front.py")
    run = run_harness(tmp_path, "--url", front.url, "--check", "transport.session.*")
    assert run.code == 1
    assert run.with_verdict("fail")


def test_a_server_defect_behind_the_front_still_fails(tmp_path: Path, server_factory) -> None:
    """A deviation is excused only when the front carried an error: a server that keeps serving a deleted
    session (200 with a result, no error) fails through the front as it does without it."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKENS[0])
    front = server_factory(
        script="agentcore_front.py", mutant="delete-ignored", extra_args=("--token-file", str(token_file))
    )
    path = profile(tmp_path, front.url, token_file)
    run = run_harness(tmp_path / "out", "--profile", str(path), "--check", "transport.session.expired-404")
    assert run.code == 1
    assert run.verdicts == {"transport.session.expired-404": "fail"}


def test_load_through_the_front_retries_busy_answers_and_refused_tokens(tmp_path: Path, server_factory) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKENS[0])
    front = server_factory(script="agentcore_front.py", extra_args=("--busy", "1", "--token-file", str(token_file)))
    rotate = threading.Timer(2.0, rotate_token, (token_file, TOKENS[1]))
    rotate.start()
    try:
        result = run_locust(
            front.url,
            tmp_path,
            users=5,
            duration="4s",
            MCP_PROFILE=str(profile(tmp_path, front.url, token_file, idle_timeout=None)),
            SCENARIO="tool_call",
        )
    finally:
        rotate.cancel()
    summary = result["summary"]
    assert summary["failures"] == 0, summary["errors"]
    assert summary["counters"]["front_retries"] == front_stats(front.url)["busy_sent"] > 0
    assert "-32005 retried" in result["rows"]
    for path in [p for p in tmp_path.rglob("*") if p.is_file() and p.parent == tmp_path and "token" not in p.name]:
        assert not any(token in path.read_text(errors="replace") for token in TOKENS), path  # CSVs, summary
    assert summary["counters"]["token_refreshes"] >= 1  # the requests refused after the rotation, sent again
    assert front_stats(front.url)["rerouted"] == 0
    assert front.open_sessions() == 0


def test_load_with_sigv4_signatures_through_the_front(tmp_path: Path, server_factory) -> None:
    """The Locust driver signs every request (POSTs, replies to the server, DELETE) as the front checks them."""
    front = sigv4_front(server_factory, tmp_path)
    path = tmp_path / "sigv4.toml"
    path.write_text(
        f'[auth]\nsigv4 = {{ region = "us-west-2" }}\n[agentcore]\nregion = "us-west-2"\nruntime_arn = "{ARN}"\n'
        f'endpoint = "{front.url.split("/runtimes/")[0]}"\n'
    )
    aws = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
    result = run_locust(
        front.url,
        tmp_path,
        users=4,
        duration="3s",
        MCP_PROFILE=str(path),
        SCENARIO="tool_call,elicitation",
        AWS_EC2_METADATA_DISABLED="true",
        **aws,
    )
    summary = result["summary"]
    assert summary["failures"] == 0, summary["errors"]  # a wrong secret: thousands of 403s (checked by hand)
    assert summary["sessions_completed"] > 0 and front_stats(front.url)["unauthorized"] == 0
    assert front.open_sessions() == 0
