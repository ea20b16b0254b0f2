"""The yardstick for benchmarks/session_cost.py: a bare FastHttpUser doing exactly the HTTP exchanges of the
tool_call scenario (initialize → notifications/initialized → tools/call echo → DELETE) with minimal parsing
and no MCP logic. It is the limit the harness's Locust user is measured against; not a load tool.
"""

from __future__ import annotations

import itertools
import json
import os

from locust import FastHttpUser, constant, events, task

from mcp_harness import load_stats

ACCEPT = "application/json, text/event-stream"
VERSION = "2025-11-25"
_ids = itertools.count(1)


def _body(message: dict[str, object]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


INITIALIZE = {
    "protocolVersion": VERSION,
    "capabilities": {},
    "clientInfo": {"name": "mcp-harness-bare", "version": "0"},
}
INITIALIZED = _body({"jsonrpc": "2.0", "method": "notifications/initialized"})


class BareUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0
    concurrency = 4
    session_id: str | None = None

    @task
    def session(self) -> None:
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        init = _body({"jsonrpc": "2.0", "id": next(_ids), "method": "initialize", "params": INITIALIZE})
        r = self.client.post("", data=init, headers=headers, name="initialize")
        self.session_id = r.headers.get("mcp-session-id") if r.headers else None
        if not self.session_id or b'"result"' not in (r.content or b""):
            return
        headers |= {"MCP-Session-Id": self.session_id, "MCP-Protocol-Version": VERSION}
        self.client.post("", data=INITIALIZED, headers=headers, name="notifications/initialized")
        params = {"name": "echo", "arguments": {"text": "hello"}}
        call = _body({"jsonrpc": "2.0", "id": next(_ids), "method": "tools/call", "params": params})
        r = self.client.post("", data=call, headers=headers, name="tools/call echo")
        if b'"result"' in (r.content or b""):
            load_stats.COUNTERS.sessions_completed += 1
        self._delete(headers)

    def _delete(self, headers: dict[str, str]) -> None:
        self.session_id = None  # first: a user stopped during the DELETE must not send it again
        self.client.delete("", headers=headers, name="DELETE")

    def on_stop(self) -> None:
        if self.session_id:
            self._delete({"MCP-Session-Id": self.session_id, "MCP-Protocol-Version": VERSION})


load_stats.install_summary(events, os.environ.get("MCP_SUMMARY"))
