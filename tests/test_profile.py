"""Target profiles and option precedence."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from mcp_harness.profile import LOAD_KEYS, ProfileError, load_profile, merge_headers, parse_header
from mcp_harness.runconfig import OPTIONS, build_target


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "target.toml"
    p.write_text(text)
    return p


def options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    for flags, kwargs in OPTIONS:
        parser.add_argument(*flags, **kwargs)
    return parser.parse_args(argv)


def test_full_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_FOR_TEST", "s3cret-value")
    t = load_profile(
        write(
            tmp_path,
            """
url = "https://staging.example.com/mcp"
spec_version = "2025-06-18"
stateful = true
idle_timeout = 900
timeout = 5.5
[headers]
Authorization = "Bearer ${TOKEN_FOR_TEST}"
[tools.progress]
name = "slow_tool"
arguments = { steps = 4 }
""",
        )
    )
    assert t.url == "https://staging.example.com/mcp"
    assert t.spec_version == "2025-06-18" and t.stateful is True and t.idle_timeout == 900.0 and t.timeout == 5.5
    assert t.headers == {"Authorization": "Bearer s3cret-value"}
    assert t.tools["progress"].name == "slow_tool" and t.tools["progress"].arguments == {"steps": 4}
    assert t.tools["elicitation"].name == "test_elicitation"  # untouched roles keep the fixture names


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('urll = "http://x"', "urll"),
        ('url = "ftp://x/mcp"', "url"),
        ("idle_timeout = -1", "idle_timeout"),
        ('idle_timeout = "30"', "idle_timeout"),
        ('stateful = "yes"', "stateful"),
        ('spec_version = "2024-11-05"', "spec_version"),
        ("[tools.progress]\nname = 'x'\nargs = {}", "tools.progress.args"),
        ("[tools.bogus]\nname = 'x'", "tools.bogus"),
        ('[headers]\nX-Key = "${SURELY_UNSET_VARIABLE_42}"', "SURELY_UNSET_VARIABLE_42"),
        ("url = ", "not valid TOML"),
        ("[load]\nusers = 0", "load.users"),
        ("[load]\nthink_time = -1", "load.think_time"),
        ("[load]\nvalidate = 1.5", "load.validate"),
        ('[load]\nduration = "forever"', "load.duration"),
        ('[load]\nshape = "wave"', "load.shape"),
        ("[load]\nscenarios = { tool_call = 0 }", "load.scenarios"),
        ("[load]\nuserz = 3", "load.userz"),
        ("load = 3", "load"),
    ],
)
def test_bad_profiles_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ProfileError, match=named.replace(".", r"\.")):
        load_profile(write(tmp_path, text))


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such file"):
        load_profile(tmp_path / "nope.toml")


def test_command_line_wins_over_profile_and_headers_merge(tmp_path: Path) -> None:
    p = write(tmp_path, 'url = "http://127.0.0.1:1/mcp"\nidle_timeout = 30\n[headers]\nX-A = "1"\nx-b = "2"\n')
    t = build_target(
        options("--profile", str(p), "--url", "http://127.0.0.1:2/mcp", "--header", "X-B: 3", "--header", "X-C: 4")
    )
    assert t.url == "http://127.0.0.1:2/mcp"
    assert t.idle_timeout == 30.0
    assert t.headers == {"X-A": "1", "X-B": "3", "X-C": "4"}


def test_header_parsing() -> None:
    assert parse_header("Authorization: Bearer a:b") == ("Authorization", "Bearer a:b")
    with pytest.raises(ProfileError):
        parse_header("no colon here")
    assert merge_headers({"a": "1"}, {"A": "2"}) == {"A": "2"}


def test_load_table_and_call_tool(tmp_path: Path) -> None:
    t = load_profile(
        write(
            tmp_path,
            """
[tools.call]
name = "search"
arguments = { query = "x" }
[load]
scenarios = { tool_call = 3, elicitation = 1 }
think_time = 0.5
duration = "2m"
shape = "ramp"
step_time = 10
max_sessions = 4000
""",
        )
    )
    assert t.tools["call"].name == "search" and t.tools["call"].arguments == {"query": "x"}
    load = t.load
    assert load.get("scenarios", {}) == {"tool_call": 3, "elicitation": 1}
    assert load.get("think_time", {}) == 0.5 and load.get("duration", {}) == 120.0 and load.get("step_time", {}) == 10
    assert load.get("ping_interval", {}) == 30.0  # a default
    assert load.given("users", {}) is None and load.get("users", {}) == 20
    # each key's environment variable wins over the profile
    env = {"SCENARIO": "hold:2,churn", "MCP_THINK_TIME": "1m", "SHAPE": "soak", "MCP_MAX_SESSIONS": "10"}
    assert load.get("scenarios", env) == {"hold": 2, "churn": 1}
    assert load.get("think_time", env) == 60.0 and load.get("shape", env) == "soak"
    assert load.get("max_sessions", env) == 10
    with pytest.raises(ProfileError, match="SHAPE_USERS"):
        load.get("users", {"SHAPE_USERS": "many"})


def test_every_load_key_has_a_variable_and_help() -> None:
    variables = [variable for _, _, variable, _ in LOAD_KEYS.values()]
    assert len(set(variables)) == len(variables)
    assert all(help_text for *_, help_text in LOAD_KEYS.values())


def test_mrtr_answers_come_from_the_profile(tmp_path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[mrtr]\nelicitation = "decline"\nsampling_text = "hi"\nrounds = 2\n')
    mrtr = load_profile(path).mrtr
    handlers = mrtr.handlers()
    assert mrtr.rounds == 2
    assert handlers["elicitation/create"]({"requestedSchema": {}}) == {"action": "decline"}
    assert handlers["sampling/createMessage"]({})["content"]["text"] == "hi"
    path.write_text('[mrtr]\nelicitation = "maybe"\n')
    with pytest.raises(ProfileError, match=r"mrtr\.elicitation: expected accept, decline or cancel"):
        load_profile(path)
    path.write_text("[mrtr]\nrounds = 0\n")
    with pytest.raises(ProfileError, match=r"mrtr\.rounds: expected a whole number >= 1"):
        load_profile(path)
