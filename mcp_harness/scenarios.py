"""Session scripts written once: the conformance checks assert on what they observe, the load generator
(later) times them. Each is a plain function over a `Conversation`."""

from __future__ import annotations

import json
from typing import Any

from mcp_harness import core
from mcp_harness.driver import Conversation
from mcp_harness.profile import ToolSpec


def list_tools(conv: Conversation) -> dict[str, dict[str, Any]]:
    """name → tool definition, following pagination (bounded)."""
    tools: dict[str, dict[str, Any]] = {}
    cursor = None
    for _ in range(20):
        result = conv.call("tools/list", {"cursor": cursor} if cursor else None)
        tools.update({t["name"]: t for t in result.get("tools", []) if isinstance(t, dict) and "name" in t})
        cursor = result.get("nextCursor")
        if not cursor:
            break
    return tools


def call_tool(conv: Conversation, tool: ToolSpec, *, progress: bool = False) -> core.Exchange:
    return conv.request("tools/call", {"name": tool.name, "arguments": tool.arguments}, progress=progress)


def result_text(result: dict[str, Any]) -> str:
    """The text content of a CallToolResult, joined."""
    parts = [c.get("text", "") for c in result.get("content", []) if isinstance(c, dict) and c.get("type") == "text"]
    return "\n".join(parts) if parts else json.dumps(result)[:200]


def raw_post(conv: Conversation, message: dict[str, Any], **header_changes: str | None) -> core.Exchange:
    """POST `message` with the session's usual headers, changed as given (None removes a header)."""
    headers = conv.core.headers()
    for name, value in header_changes.items():
        name = name.replace("_", "-")
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        if value is not None:
            headers[name] = value
    return conv.raw("POST", headers, message)


def harmless_request(conv: Conversation, method: str = "tools/list") -> dict[str, Any]:
    """A harmless request message with a fresh id (tools/list: every tool server answers it)."""
    return {"jsonrpc": "2.0", "id": conv.core.next_id(), "method": method}


def server_requests(conv: Conversation, method: str) -> list[tuple[core.Exchange, dict[str, Any]]]:
    """Every server→client request of `method` the session received, with the exchange it came on."""
    return [(ex, m) for ex, m in conv.messages() if m.get("method") == method and "id" in m]


def notifications(conv: Conversation, method: str) -> list[tuple[core.Exchange, dict[str, Any]]]:
    return [(ex, m) for ex, m in conv.messages() if m.get("method") == method and "id" not in m]
