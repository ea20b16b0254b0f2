"""Interop with the official Python SDK client (no Node needed): the reference server serves its legacy mode."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_harness import embedded

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))  # interop/ is a folder of scripts
from sdk_client import run_sdk_client, run_sdk_polling


@pytest.fixture(scope="module")
def reference() -> Iterator[embedded.EmbeddedServer]:
    server = embedded.start(idle_timeout=None)
    try:
        yield server
    finally:
        server.stop()


def test_sdk_client_initializes_with_a_session_and_calls_echo(reference: embedded.EmbeddedServer) -> None:
    assert run_sdk_client(reference.url) == "interop"
    assert reference.open_sessions() == 0  # the SDK DELETEd its session on exit


def test_sdk_client_resumes_a_stream_the_server_closed(reference: embedded.EmbeddedServer) -> None:
    assert run_sdk_polling(reference.url) == "Reconnection test completed"
