"""Credentials that change during a run, the AgentCore front's client side, and their profile keys."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mcp_harness import agentcore
from mcp_harness.auth import Auth, AuthError, SigV4, TokenSource
from mcp_harness.driver import Client, ClientConfig
from mcp_harness.profile import ProfileError, load_profile, start_auth
from mcp_harness.wire import Redactor

ARN = "arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_server-AbCdEf1234"


def write_profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path


def test_token_from_the_environment_is_read_again_when_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", "first-token-0001")
    auth = Auth(token=TokenSource(env="MCP_TEST_TOKEN"))
    auth.start()
    sent = auth.headers("POST", "http://127.0.0.1/mcp", {}, b"{}")
    assert sent == {"Authorization": "Bearer first-token-0001"}
    assert not auth.refresh(sent)  # unchanged: no point sending again
    monkeypatch.setenv("MCP_TEST_TOKEN", "second-token-0002")
    assert auth.refresh(sent)
    assert auth.headers("POST", "http://127.0.0.1/mcp", {}, None) == {"Authorization": "Bearer second-token-0002"}
    assert auth.refresh(sent)  # a request sent with the old token by another thread: just send it again
    assert auth.refreshes == 2
    assert {"first-token-0001", "second-token-0002"} <= set(auth.secrets)


def test_token_command_with_header_and_scheme(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("from-a-command-0003\n")
    auth = Auth(token=TokenSource(command=f"cat {token}", header="X-Api-Token", scheme=""))
    auth.start()
    assert auth.headers("GET", "http://127.0.0.1/mcp", {}, None) == {"X-Api-Token": "from-a-command-0003"}


@pytest.mark.parametrize(
    ("source", "says"),
    [
        (
            TokenSource(env="MCP_UNSET_TOKEN"),
            "auth.token_env: environment variable MCP_UNSET_TOKEN is not set",
        ),
        (TokenSource(command="echo leaked-secret-99 >&2; exit 3"), "auth.token_command: exited with status 3"),
        (TokenSource(command="true"), "auth.token_command: printed no token"),
    ],
)
def test_token_errors_name_the_key_and_quote_no_output(source: TokenSource, says: str) -> None:
    with pytest.raises(AuthError) as e:
        Auth(token=source).start()
    assert str(e.value) == says


def test_redactor_scrubs_tokens_read_during_the_run() -> None:
    auth = Auth(token=TokenSource(env="X"))
    redactor = Redactor(["Authorization"], [], live=auth.secrets)
    auth.secrets += ["late-token-000004", "Bearer late-token-000004"]
    assert redactor.scrub("echoed late-token-000004 back") == "echoed <redacted> back"


def test_profile_auth_and_agentcore_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", "profile-token-0005")
    profile = write_profile(
        tmp_path,
        f"""
[auth]
token_env = "MCP_TEST_TOKEN"
[agentcore]
region = "eu-central-1"
runtime_arn = "{ARN}"
qualifier = "staging"
max_retries = 2
""",
    )
    target = load_profile(profile)
    start_auth(target)
    assert target.url == (
        "https://bedrock-agentcore.eu-central-1.amazonaws.com/runtimes/"
        "arn%3Aaws%3Abedrock-agentcore%3Aus-west-2%3A123456789012%3Aruntime%2Fmy_server-AbCdEf1234"
        "/invocations?qualifier=staging"
    )
    assert target.front is not None and target.front.max_retries == 2
    assert (target.front.idle_timeout, target.front.max_lifetime) == (900, 8 * 3600)
    assert target.auth is not None and target.auth.token is not None and target.auth.token.token == "profile-token-0005"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[auth]\ntoken_env = "A"\ntoken_command = "b"', "auth: give token_env or token_command, not both"),
        ("[auth]\nscheme = 'Token'", "auth: header and scheme need token_env or token_command"),
        ("[auth]\nbogus = 1", "auth.bogus: unknown key"),
        ("[auth]\nsigv4 = { service = 'x' }", "auth.sigv4.region: expected a non-empty string"),
        (f'[agentcore]\nruntime_arn = "{ARN}"', "agentcore.region: expected a non-empty string"),
        ('[agentcore]\nregion = "us-west-2"\nruntime_arn = "my-runtime"', "agentcore.runtime_arn: expected an ARN"),
        (f'[agentcore]\nregion = "r"\nruntime_arn = "{ARN}"\nmax_retries = -1', "agentcore.max_retries"),
        (f'url = "http://127.0.0.1:1/mcp"\n[agentcore]\nregion = "r"\nruntime_arn = "{ARN}"', "url or [agentcore]"),
    ],
)
def test_bad_auth_and_agentcore_keys_are_one_line(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(says)):
        load_profile(write_profile(tmp_path, text))


def test_front_retry_delay_is_bounded_and_counted() -> None:
    front = agentcore.Front(region="r", runtime_arn=ARN, max_retries=3)
    busy = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"Session operation in progress"}}'
    delays = [front.retry_delay(n, "application/json", 200, busy) for n in range(4)]
    assert delays == [0.2, 0.4, 0.8, None]
    assert front.retries == 3
    other = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"Session not found"}}'
    assert front.retry_delay(0, "application/json", 200, other) is None
    assert front.retry_delay(0, "text/event-stream", 200, busy) is None
    assert len(agentcore.runtime_session_id()) >= 33


# --- SigV4: signed by our glue, verified by the emulated AgentCore front (botocore recomputes it) -----------

KEY_ID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FRONT_ARN = "arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/harness_reference-AbCdEf1234"  # its default


def sigv4_front(server_factory: Any, tmp_path: Path) -> Any:
    credentials = tmp_path / "front-credentials"
    credentials.write_text(f"{KEY_ID}:{SECRET}")
    return server_factory(script="agentcore_front.py", extra_args=("--sigv4-credentials", str(credentials)))


def aws_environment(monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask a metadata endpoint


def test_sigv4_signatures_verify_at_the_front(
    tmp_path: Path, server_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    front = sigv4_front(server_factory, tmp_path)
    endpoint = front.url.split("/runtimes/")[0]
    where = agentcore.Front(region="us-west-2", runtime_arn=FRONT_ARN, endpoint=endpoint)
    assert where.url == front.url  # the escaped runtime URL, signed as sent
    aws_environment(monkeypatch, SECRET)
    auth = Auth(sigv4=SigV4(region="us-west-2"))
    auth.start()
    with Client(ClientConfig(url=where.url, auth=auth, front=where, timeout=5)) as client:
        conv = client.session(label="sigv4")
        conv.initialize()
        assert "echo" in {t["name"] for t in conv.call("tools/list")["tools"]}
        stream = conv.open_stream()  # a GET, signed too
        assert stream.wait_open(5) and conv.core.exchanges[-1].status == 200
    assert SECRET not in conv.wire.render() and "Authorization: <redacted>" in conv.wire.render()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key-the-front-knows")  # the front can say no
    wrong = Auth(sigv4=SigV4(region="us-west-2"))
    wrong.start()
    with Client(ClientConfig(url=where.url, auth=wrong, front=where, timeout=5)) as client:
        other = client.session(label="wrong key")
        assert other.send(other.core.initialize()).status == 403


def test_sigv4_without_credentials_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AuthError, match="botocore found no AWS credentials"):
        Auth(sigv4=SigV4(region="us-east-1")).start()


def test_example_agentcore_profile_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AGENTCORE_RUNTIME_ARN", ARN.replace("us-west-2", "eu-west-1"))
    example = Path(__file__).resolve().parents[1] / "examples" / "profiles" / "agentcore.toml"
    target = load_profile(example)
    assert target.url is not None and target.url.startswith(
        "https://bedrock-agentcore.eu-west-1.amazonaws.com/runtimes/"
    )
    assert target.auth is not None and target.auth.token is not None and target.auth.token.command == "./get-token.sh"
    assert target.front is not None and target.front.max_retries == 5
