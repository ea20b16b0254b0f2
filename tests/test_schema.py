"""Schema validation per version (draft-07 up to 2025-06-18, 2020-12 from 2025-11-25)."""

from __future__ import annotations

import pytest

from mcp_harness import schema

INIT = {"protocolVersion": "x", "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}}


@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18", "2025-11-25"])
def test_valid_and_invalid_initialize_results(version: str) -> None:
    ok = {"jsonrpc": "2.0", "id": 1, "result": INIT}
    assert schema.validate_response(version, ok, "initialize") == []
    bad = {"jsonrpc": "2.0", "id": 1, "result": {k: v for k, v in INIT.items() if k != "capabilities"}}
    assert any("capabilities" in p for p in schema.validate_response(version, bad, "initialize"))


def test_result_definitions() -> None:
    assert schema.result_definition("2025-11-25", "tools/call") == "CallToolResult"
    assert schema.result_definition("2025-11-25", "ping") == "EmptyResult"
    assert schema.result_definition("2025-11-25", "vendor/unknown") == "Result"


def test_error_response_and_notifications() -> None:
    err = {"jsonrpc": "2.0", "id": 1, "error": {"code": "bad", "message": "m"}}
    assert schema.validate_response("2025-11-25", err, "ping")
    note = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "t", "progress": 1}}
    assert schema.validate_server_message("2025-11-25", note) == []
    no_progress = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "t"}}
    assert schema.validate_server_message("2025-11-25", no_progress)


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="no schema"):
        schema.load_schema("1900-01-01")
