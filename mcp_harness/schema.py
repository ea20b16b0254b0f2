"""Validation of server messages against the pinned MCP `schema.json` of the negotiated version.

The schemas ship as package data (`mcp_harness/schemas/<version>/schema.json`): draft-07 up to
2025-06-18, JSON Schema 2020-12 from 2025-11-25. A message is validated as precisely as its context
allows: a response against the result type of the request it answers, a server request or notification
against the definition whose `method` constant matches.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.protocols import Validator

from mcp_harness import versions

VERSIONS = tuple(r.name for r in versions.REVISIONS if r.has_schema)


@cache
def load_schema(version: str) -> dict[str, Any]:
    if version not in VERSIONS:
        raise ValueError(f"no schema for protocol version {version!r}; known: {', '.join(VERSIONS)}")
    text = resources.files("mcp_harness").joinpath("schemas", version, "schema.json").read_text("utf-8")
    return json.loads(text)


def _definitions(version: str) -> tuple[str, dict[str, Any]]:
    root = load_schema(version)
    key = "$defs" if "$defs" in root else "definitions"
    return key, root[key]


@cache
def _validator(version: str, name: str) -> Validator:
    key, defs = _definitions(version)
    if name not in defs:
        raise KeyError(f"{version} schema has no definition {name!r}")
    cls = Draft202012Validator if key == "$defs" else Draft7Validator
    return cls({"$ref": f"#/{key}/{name}", key: defs})


@cache
def _by_method(version: str) -> dict[str, str]:
    """method name → definition name, for every request and notification the schema defines."""
    _, defs = _definitions(version)
    found: dict[str, str] = {}
    for name, definition in defs.items():
        const = definition.get("properties", {}).get("method", {}).get("const")
        if isinstance(const, str) and (name.endswith("Request") or name.endswith("Notification")):
            found[const] = name
    return found


def result_definition(version: str, method: str) -> str:
    """The definition a successful result of `method` must satisfy (`Result` when the schema is silent)."""
    _, defs = _definitions(version)
    request = _by_method(version).get(method, "")
    candidate = request.removesuffix("Request") + "Result"
    if method == "ping" or candidate == "Result":
        return "EmptyResult" if method == "ping" else "Result"
    return candidate if candidate in defs else "Result"


def _errors(version: str, name: str, instance: Any) -> list[str]:
    out = []
    for error in sorted(_validator(version, name).iter_errors(instance), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        out.append(f"{name} at {where}: {error.message[:300]}")
    return out[:5]


def validate_response(version: str, message: dict[str, Any], method: str | None) -> list[str]:
    """Errors of a JSON-RPC response (result or error) to a request of `method`; empty when valid."""
    _, defs = _definitions(version)
    if "error" in message:
        envelope = "JSONRPCErrorResponse" if "JSONRPCErrorResponse" in defs else "JSONRPCError"
        return _errors(version, envelope, message)
    envelope = "JSONRPCResultResponse" if "JSONRPCResultResponse" in defs else "JSONRPCResponse"
    problems = _errors(version, envelope, message)
    if not problems and method is not None:
        result = message.get("result")
        kind = result.get("resultType") if isinstance(result, dict) else None
        # 2026-07-28: an interim answer (MRTR) is an InputRequiredResult whatever the method.
        name = "InputRequiredResult" if kind == "input_required" and "InputRequiredResult" in defs else None
        problems = _errors(version, name or result_definition(version, method), result)
    return problems


def validate_as(version: str, name: str, instance: Any) -> list[str]:
    """Errors of `instance` against the definition `name` of the version's schema; empty when valid."""
    return _errors(version, name, instance)


def validate_server_message(version: str, message: dict[str, Any]) -> list[str]:
    """Errors of a request or notification the server sent; empty when valid."""
    method = message.get("method")
    name = _by_method(version).get(method) if isinstance(method, str) else None
    is_request = "id" in message
    if name is None or name.endswith("Request") != is_request:
        # Unknown method (or a request/notification mismatch): the envelope is all we can check.
        return _errors(version, "JSONRPCRequest" if is_request else "JSONRPCNotification", message)
    return _errors(version, name, message)


def methods(version: str) -> frozenset[str]:
    """Every request and notification method the version's schema defines."""
    return frozenset(_by_method(version))


def _resolved(version: str, node: Any) -> dict[str, Any]:
    """`node` with a `$ref` to a definition followed (the property checks read params schemas through it)."""
    _, defs = _definitions(version)
    for _ in range(10):  # refs to refs, bounded
        if not isinstance(node, dict) or "$ref" not in node:
            break
        node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
    return node if isinstance(node, dict) else {}


def params_spec(version: str, method: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """(required properties, property → its schema, refs followed) of a request method's params."""
    _, defs = _definitions(version)
    request = defs[_by_method(version)[method]]
    params = _resolved(version, request.get("properties", {}).get("params"))
    properties = {name: _resolved(version, spec) for name, spec in params.get("properties", {}).items()}
    return list(params.get("required", [])), properties


def params_valid(version: str, method: str, params: Any) -> bool:
    """Whether a request of `method` with these params is valid against the version's schema."""
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return not _errors(version, _by_method(version)[method], message)
