"""The httpx driver against the reference server: a stream the server closes is resumed transparently."""

from __future__ import annotations

from mcp_harness.driver import Client, ClientConfig
from mcp_harness.scenarios import result_text


def test_call_survives_the_server_closing_its_stream(server_factory) -> None:
    server = server_factory()
    with Client(ClientConfig(url=server.url, timeout=5)) as client:
        conv = client.session()
        conv.initialize()
        result = conv.call("tools/call", {"name": "test_reconnection", "arguments": {}})
        resumed = [ex for ex in conv.core.exchanges if ex.resumes is not None]
        assert resumed and resumed[0].http.headers["Last-Event-ID"]
        assert result_text(result)
    assert server.open_sessions() == 0
