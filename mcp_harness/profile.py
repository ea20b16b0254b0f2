"""Target profiles (TOML) and the run settings they merge into.

Precedence: command line > profile > defaults; headers merge by name (case-insensitively). Every key
is documented in PROFILE_KEYS, which README.md mirrors; an unknown key or a bad value is a
`ProfileError` naming the key (the command line turns it into one line and exit status 2).

    url = "https://staging.example.com/mcp"
    spec_version = "2025-11-25"
    stateful = true
    idle_timeout = 30              # seconds; enables the expiry checks
    timeout = 10                   # seconds per read
    [headers]
    Authorization = "Bearer ${STAGING_TOKEN}"
    [tools.progress]
    name = "test_tool_with_progress"
    arguments = { steps = 3 }
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp_harness.core import LATEST_VERSION, STATEFUL_VERSIONS

# key → (type description, help). Tables are described by their own entries.
PROFILE_KEYS: dict[str, str] = {
    "url": "string: the MCP endpoint, http:// or https://",
    "spec_version": f"string: protocol version requested at initialize, one of {', '.join(STATEFUL_VERSIONS)}",
    "stateful": "boolean: the target must issue session ids (a missing id then fails)",
    "idle_timeout": "number > 0: the target's session idle timeout in seconds; enables the expiry checks",
    "timeout": "number > 0: seconds to wait for each read (default 10)",
    "ca_bundle": "string: path of a CA bundle (PEM) for TLS verification",
    "insecure": "boolean: skip TLS verification (staging only)",
    "headers": "table of string values sent with every request; ${ENV_VAR} is replaced from the environment",
    "tools.progress": "table {name, arguments}: a tool that reports progress when given a progressToken",
    "tools.elicitation": "table {name, arguments}: a tool that sends an elicitation/create request",
    "tools.sampling": "table {name, arguments}: a tool that sends a sampling/createMessage request",
    "tools.slow": "table {name, arguments}: a tool that runs for a few seconds (cancellation, resumability)",
}
TOOL_ROLES = ("progress", "elicitation", "sampling", "slow")
# The official conformance fixture names; `slow` is the progress tool made to take ~3 s on the reference server.
DEFAULT_TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "progress": ("test_tool_with_progress", {}),
    "elicitation": ("test_elicitation", {}),
    "sampling": ("test_sampling", {}),
    "slow": ("test_tool_with_progress", {"steps": 8, "delay": 0.2}),
}
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ProfileError(ValueError):
    """A profile or option value the harness cannot use; the message names the key."""


@dataclass
class ToolSpec:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class Target:
    """Everything the harness knows about the target, after merging command line, profile and defaults."""

    url: str | None = None
    spec_version: str = LATEST_VERSION
    stateful: bool | None = None
    idle_timeout: float | None = None
    timeout: float = 10.0
    ca_bundle: str | None = None
    insecure: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    tools: dict[str, ToolSpec] = field(
        default_factory=lambda: {role: ToolSpec(name, dict(args)) for role, (name, args) in DEFAULT_TOOLS.items()}
    )
    tools_from_profile: bool = False

    @property
    def declared_stateful(self) -> bool:
        return bool(self.stateful) or self.idle_timeout is not None


def interpolate(value: str, key: str) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise ProfileError(f"{key}: environment variable {name} is not set")
        return os.environ[name]

    return ENV_REF.sub(sub, value)


def check_url(url: str, key: str = "url") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProfileError(f"{key}: {url!r} is not an http:// or https:// URL")
    return url


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ProfileError(f"{key}: expected a number of seconds > 0, got {value!r}")
    return float(value)


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ProfileError(f"{key}: expected true or false, got {value!r}")
    return value


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProfileError(f"{key}: expected a non-empty string, got {value!r}")
    return value


def check_version(value: Any, key: str = "spec_version") -> str:
    if value not in STATEFUL_VERSIONS:
        raise ProfileError(
            f"{key}: {value!r} is not a stateful version this harness speaks ({', '.join(STATEFUL_VERSIONS)})"
        )
    return value


def parse_header(text: str, key: str = "--header") -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t\r\n"):
        raise ProfileError(f"{key}: expected 'Name: value', got a value without a valid header name")
    return name.strip(), value.strip()


def merge_headers(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """Headers merge by name, case-insensitively; `extra` wins."""
    merged = {k: v for k, v in base.items() if k.lower() not in {e.lower() for e in extra}}
    merged.update(extra)
    return merged


def _tool(value: Any, key: str) -> ToolSpec:
    if not isinstance(value, dict):
        raise ProfileError(f"{key}: expected a table with name and arguments")
    unknown = set(value) - {"name", "arguments"}
    if unknown:
        raise ProfileError(f"{key}.{sorted(unknown)[0]}: unknown key (expected name, arguments)")
    arguments = value.get("arguments", {})
    if not isinstance(arguments, dict):
        raise ProfileError(f"{key}.arguments: expected a table, got {arguments!r}")
    return ToolSpec(_string(value.get("name"), f"{key}.name"), arguments)


def load_profile(path: str | Path, target: Target | None = None) -> Target:
    """Read a TOML profile onto `target` (defaults when None)."""
    target = target or Target()
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"profile {path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ProfileError(f"profile {path}: not valid TOML ({e})") from None
    for key, value in data.items():
        if key == "url":
            target.url = check_url(interpolate(_string(value, key), key))
        elif key == "spec_version":
            target.spec_version = check_version(value)
        elif key == "stateful":
            target.stateful = _boolean(value, key)
        elif key == "idle_timeout":
            target.idle_timeout = _number(value, key)
        elif key == "timeout":
            target.timeout = _number(value, key)
        elif key == "ca_bundle":
            target.ca_bundle = _string(value, key)
        elif key == "insecure":
            target.insecure = _boolean(value, key)
        elif key == "headers":
            if not isinstance(value, dict):
                raise ProfileError("headers: expected a table of header names to string values")
            headers = {n: interpolate(_string(v, f"headers.{n}"), f"headers.{n}") for n, v in value.items()}
            target.headers = merge_headers(target.headers, headers)
        elif key == "tools":
            if not isinstance(value, dict):
                raise ProfileError("tools: expected tables such as [tools.progress] (" + ", ".join(TOOL_ROLES) + ")")
            for role, spec in value.items():
                if role not in TOOL_ROLES:
                    raise ProfileError(f"tools.{role}: unknown key (expected {', '.join(TOOL_ROLES)})")
                target.tools[role] = _tool(spec, f"tools.{role}")
            target.tools_from_profile = True
        else:
            raise ProfileError(f"{key}: unknown key in profile {path} (known: {', '.join(sorted(PROFILE_KEYS))})")
    return target
