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
    [tools.call]                   # the tool of the load tool_call scenario
    name = "echo"
    arguments = { text = "hello" }
    [load]                         # load runs (make load): see LOAD_KEYS
    scenarios = { tool_call = 3, elicitation = 1 }
    think_time = 0.5
    [properties]                   # the property checks: see PROPERTIES_KEYS
    tools = ["echo", "search"]     # tools given generated arguments (default: every tool the harness may call)
    malformed = false              # no malformed requests (default: sent to every target, bodies up to 64 KiB)
    oversized = true               # also bodies of 1, 4 and 16 MiB (default: off)
    rate = 20                      # at most 20 requests per second from the property checks
    call_timeout = 10              # a generated tool call not answered by then is cancelled (default 5 s)
    [auth]                         # credentials that change during a run: see AUTH_KEYS
    token_command = "vault read -field=token secret/mcp-staging"
    [agentcore]                    # an Amazon Bedrock AgentCore Runtime front: see AGENTCORE_KEYS
    region = "us-west-2"
    runtime_arn = "arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/my_server-AbCdEf1234"
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp_harness import agentcore, core, policy
from mcp_harness.auth import Auth, AuthError, SigV4, TokenSource
from mcp_harness.core import LATEST_VERSION, STATEFUL_VERSIONS, STATELESS_VERSION

# key → (type description, help). Tables are described by their own entries.
PROFILE_KEYS: dict[str, str] = {
    "url": "string: the MCP endpoint, http:// or https://",
    "spec_version": f"string: test one era only: a session revision, requested at initialize "
    f"({', '.join(STATEFUL_VERSIONS)}), or {STATELESS_VERSION} (stateless); default: every era the server serves",
    "stateful": "boolean: the target must issue session ids (a missing id then fails)",
    "idle_timeout": "number > 0: the target's session idle timeout in seconds; enables the expiry checks",
    "timeout": "number > 0: seconds to wait for each read (default 10)",
    "exchange_timeout": "number > 0: seconds one whole exchange may take, however many bytes keep coming "
    f"(default {policy.DEFAULT_EXCHANGE_TIMEOUT:g})",
    "max_message_size": "integer > 0: bytes one SSE event or JSON body may have before the exchange is cut off "
    f"(default {policy.DEFAULT_MAX_MESSAGE})",
    "ca_bundle": "string: path of a CA bundle (PEM) for TLS verification",
    "insecure": "boolean: skip TLS verification (staging only)",
    "headers": "table of string values sent with every request; ${ENV_VAR} is replaced from the environment",
    "tools.progress": "table {name, arguments?}: a tool that reports progress when given a progressToken",
    "tools.elicitation": "table {name, arguments?}: a tool that sends an elicitation/create request",
    "tools.sampling": "table {name, arguments?}: a tool that sends a sampling/createMessage request",
    "tools.slow": "table {name, arguments?}: a tool that runs for a few seconds (cancellation, resumability)",
    "tools.call": "table {name, arguments}: the tool the load tool_call scenario calls (default: echo)",
    "tools.logging": "table {name, arguments?}: a tool that logs (notifications/message) when the request asks for "
    "logs (default: test_tool_with_logging)",
    "tools.listen": "table {name, arguments?}: a tool whose call publishes notifications/tools/list_changed to "
    f"subscriptions/listen streams ({STATELESS_VERSION}; default: test_tools_list_changed)",
    # without arguments, a [tools.*] tool's are built from its inputSchema (required properties, valid values)
    "discover": "table {enabled}: enabled = false stops the harness calling tools to find their roles",
    "load": "table: load-run settings, see the load.* keys",
    "properties": "table: property-check settings, see the properties.* keys",
    "auth": "table: a token read from the environment or a command (again after a 401), SigV4; see auth.*",
    "agentcore": "table: the target is behind Amazon Bedrock AgentCore Runtime; see agentcore.*",
    "mrtr": f"table: how {STATELESS_VERSION} input requests (MRTR) are answered; see mrtr.*",
    "side_channel": 'string "URL#FIELD": a URL answering GET with a JSON object whose FIELD counts the calls the '
    "server cancelled (the reference server: <origin>/sessions#cancelled); lets the harness see a cancellation by "
    "disconnect",
}
# [mrtr] key → help. README mirrors this table.
MRTR_KEYS: dict[str, str] = {
    "elicitation": 'string: how an elicitation input is answered: "accept" (content filling the requested schema), '
    '"decline" or "cancel" (default accept)',
    "sampling_text": 'string: the text a sampling input is answered with (default "mcp-harness sampled text")',
    "sampling_model": 'string: the model named with it (default "mcp-harness-model")',
    "rounds": "whole number >= 1: retries of one MRTR call at most, before the harness gives up (default 4)",
}
# [auth] key → help. README mirrors this table.
AUTH_KEYS: dict[str, str] = {
    "token_env": "string: environment variable holding the token (read again after an HTTP 401)",
    "token_command": "string: shell command printing the token (run again after an HTTP 401, then the request is "
    "sent once more)",
    "header": "string: the header the token goes in (default Authorization)",
    "scheme": 'string: what precedes the token (default "Bearer"; "" sends the token alone)',
    "sigv4": "table {region, service}: sign every request with AWS SigV4 (service default bedrock-agentcore; "
    "needs the sigv4 extra, botocore)",
}
# [agentcore] key → help. README mirrors this table.
AGENTCORE_KEYS: dict[str, str] = {
    "region": "string: the AWS region of the runtime (required); ${ENV_VAR} is replaced from the environment",
    "runtime_arn": "string: the agent runtime's ARN (required; ${ENV_VAR} allowed); the URL carries it escaped",
    "qualifier": "string: the endpoint name (default DEFAULT)",
    "endpoint": "string: the data-plane base URL (default https://bedrock-agentcore.<region>.amazonaws.com)",
    "max_retries": f"whole number >= 0: retries of a -32005 answer, with a doubling delay (default "
    f"{agentcore.DEFAULT_RETRIES})",
    "idle_timeout": f"seconds: the runtime's idle timeout (default {agentcore.DEFAULT_IDLE_TIMEOUT:g}); for load "
    "and capacity planning; the expiry checks still need the top-level idle_timeout",
    "max_lifetime": f"seconds: the runtime session's maximum lifetime (default {agentcore.MAX_LIFETIME:g}, 8 h)",
}
# [properties] key → help. README mirrors this table.
PROPERTIES_KEYS: dict[str, str] = {
    "tools": "list of tool names that get generated arguments, destructive or not (default: the tools the harness may "
    "call: those the profile names, those with an official fixture name, those annotated readOnlyHint: true)",
    "malformed": "boolean: send malformed requests (bodies up to 64 KiB) to the target (default true; false opts out)",
    "oversized": "boolean: also send bodies of 1, 4 and 16 MiB (default false)",
    "rate": "number > 0: at most this many requests per second from the property checks (default 100)",
    "call_timeout": "seconds > 0: a generated tool call not answered by then is cancelled, recorded, not failed "
    "(default 5)",
}
DEFAULT_PROPERTY_EXAMPLES = 25  # per property check (per tool for tool arguments)
DEFAULT_PROPERTY_SECONDS = 4.0  # per property check, for generating; as long again for shrinking a failure
DEFAULT_PROPERTY_RATE = 100.0  # requests per second
DEFAULT_CALL_TIMEOUT = 5.0  # seconds a generated tool call may take before it is cancelled
TOOL_ROLES = ("progress", "elicitation", "sampling", "slow", "call", "listen", "logging")
# The official conformance fixture names, with the arguments given (None: built from the tool's inputSchema) and
# hints merged into built ones where they stay valid: `slow` is the progress tool made to take ~1.6 s.
DEFAULT_TOOLS: dict[str, tuple[str, dict[str, Any] | None, dict[str, Any]]] = {
    "progress": ("test_tool_with_progress", None, {}),
    "elicitation": ("test_elicitation", None, {}),
    "sampling": ("test_sampling", None, {}),
    "slow": ("test_tool_with_progress", None, {"steps": 8, "delay": 0.2}),
    "call": ("echo", {"text": "hello"}, {}),
    "listen": ("test_tools_list_changed", None, {}),
    "logging": ("test_tool_with_logging", None, {}),
}
# [load] key → (kind, default, environment variable that overrides it, help). README mirrors this table.
LOAD_KEYS: dict[str, tuple[str, Any, str, str]] = {
    "scenarios": ("weights", None, "SCENARIO", "table scenario → weight, e.g. { tool_call = 3, elicitation = 1 }"),
    "think_time": ("seconds0", 0.0, "MCP_THINK_TIME", "seconds a user waits between sessions (default 0)"),
    "validate": ("fraction", 0.1, "MCP_VALIDATE", "fraction of sessions schema-validated (default 0.1)"),
    "ping_interval": ("seconds", 30.0, "MCP_PING_INTERVAL", "hold: seconds between a session's pings (default 30)"),
    "hold": ("seconds", 60.0, "MCP_HOLD", "hold: seconds each session stays open (default 60)"),
    "idle": ("seconds", 3.0, "MCP_IDLE", "idle_call: seconds idle before the call; exceed the idle timeout"),
    "churn_abandon": ("fraction", 0.1, "MCP_CHURN_ABANDON", "churn: fraction of sessions abandoned (default 0.1)"),
    "max_error_rate": ("fraction", None, "MCP_MAX_ERROR_RATE", "stop when more than this fraction failed in 10 s"),
    "max_sessions": ("count", None, "MCP_MAX_SESSIONS", "cap on sessions open at once, below the target's quota"),
    "shape": ("shape", None, "SHAPE", "steady, ramp, spike, churn or soak (default: plain users/rate/duration)"),
    "users": ("count", 20, "SHAPE_USERS", "concurrent users, each holding one session at a time (default 20)"),
    "rate": ("rate", None, "SHAPE_RATE", "users started per second (default: all within a second)"),
    "duration": ("seconds", 30.0, "SHAPE_DURATION", "length of the run, seconds or 30s / 5m / 1h (default 30s)"),
    "drain": ("seconds0", 0.0, "SHAPE_DRAIN", "shaped runs: final seconds in which users stop and DELETE"),
    "steps": ("count", 5, "SHAPE_STEPS", "ramp: number of equal steps up to users (default 5)"),
    "step_time": ("seconds", 30.0, "SHAPE_STEP_TIME", "ramp: seconds each step is held (default 30)"),
    "base_users": ("count0", None, "SHAPE_BASE_USERS", "spike: users outside the spike (default users / 5)"),
    "spike_at": ("seconds0", 20.0, "SHAPE_SPIKE_AT", "spike: when the spike starts (default 20 s)"),
    "spike_for": ("seconds", 10.0, "SHAPE_SPIKE_FOR", "spike: how long it lasts (default 10 s)"),
    "min_users": ("count0", 0, "SHAPE_MIN_USERS", "churn: users at the low point (default 0)"),
    "period": ("seconds", 10.0, "SHAPE_PERIOD", "churn: seconds from one high point to the next (default 10)"),
    "gap_every": ("seconds", None, "SHAPE_GAP_EVERY", "soak: seconds of traffic between idle gaps (default: none)"),
    "gap": ("seconds", 60.0, "SHAPE_GAP", "soak: seconds each idle gap lasts; exceed the idle timeout"),
}
SHAPE_NAMES = ("steady", "ramp", "spike", "churn", "soak", "capacity")
TIMESPAN = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ProfileError(ValueError):
    """A profile or option value the harness cannot use; the message names the key."""


@dataclass
class ToolSpec:
    name: str
    arguments: dict[str, Any] | None = None  # None: not given, built from the tool's inputSchema when it is called
    hints: dict[str, Any] = field(default_factory=dict)  # merged into built arguments where they stay valid

    def fallback_arguments(self) -> dict[str, Any]:
        """The arguments where no inputSchema is at hand (load runs): the given ones, else the hints."""
        return dict(self.hints) if self.arguments is None else self.arguments


@dataclass
class Target:
    """Everything the harness knows about the target, after merging command line, profile and defaults."""

    url: str | None = None
    spec_version: str = LATEST_VERSION
    era: str | None = None  # "legacy" or "modern" when a spec version picks one; None: every era the server serves
    stateful: bool | None = None
    idle_timeout: float | None = None
    timeout: float = 10.0
    limits: policy.Limits = field(default_factory=policy.Limits)  # each exchange's deadline and size caps
    ca_bundle: str | None = None
    insecure: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    tools: dict[str, ToolSpec] = field(
        default_factory=lambda: {
            role: ToolSpec(name, None if args is None else dict(args), dict(hints))
            for role, (name, args, hints) in DEFAULT_TOOLS.items()
        }
    )
    tools_named: set[str] = field(default_factory=set)  # the roles whose tool the profile names
    discover: bool = True  # look for role tools by calling the tools the harness may call
    load: LoadSettings = field(default_factory=lambda: LoadSettings())
    properties: PropertySettings = field(default_factory=lambda: PropertySettings())
    auth: Auth | None = None
    front: agentcore.Front | None = None
    mrtr: MrtrSettings = field(default_factory=lambda: MrtrSettings())
    side_channel: tuple[str, str] | None = None  # (URL, field) counting the calls the server cancelled

    @property
    def declared_stateful(self) -> bool:
        return bool(self.stateful) or self.idle_timeout is not None


@dataclass
class LoadSettings:
    """The profile's [load] table, parsed; `get` applies the environment override and the default."""

    values: dict[str, Any] = field(default_factory=dict)

    def given(self, name: str, environ: Mapping[str, str] = os.environ) -> Any:
        """The value from the environment variable, else from the profile, else None."""
        variable = LOAD_KEYS[name][2]
        if environ.get(variable):
            return load_value(name, environ[variable], variable)
        return self.values.get(name)

    def get(self, name: str, environ: Mapping[str, str] = os.environ) -> Any:
        """The value from the environment variable, else from the profile, else the default."""
        value = self.given(name, environ)
        return LOAD_KEYS[name][1] if value is None else value


@dataclass
class PropertySettings:
    """The property checks' settings: [properties] of the profile, then --property-* / --seed."""

    tools: list[str] | None = None  # None: the tools the harness may call (discovery.may_call)
    malformed: bool = True  # malformed requests, bodies up to 64 KiB (False: opted out)
    oversized: bool = False  # also bodies of 1, 4 and 16 MiB
    rate: float = DEFAULT_PROPERTY_RATE
    examples: int = DEFAULT_PROPERTY_EXAMPLES
    seconds: float = DEFAULT_PROPERTY_SECONDS
    seed: int | None = None  # None: random, or 0 when CI is set (resolved when the run starts)
    call_timeout: float = DEFAULT_CALL_TIMEOUT  # a generated tool call unanswered by then is cancelled


def property_budget(text: str, key: str = "--property-budget") -> tuple[int, float]:
    """EXAMPLES[:SECONDS] → (examples, seconds); seconds default to 0.16 per example, at least the default."""
    examples, _, secs = text.strip().partition(":")
    try:
        count = int(examples)
        limit = float(secs) if secs else max(DEFAULT_PROPERTY_SECONDS, 0.16 * count)
    except ValueError:
        raise ProfileError(f"{key}: expected EXAMPLES[:SECONDS] such as 25:4 or 500:120, got {text!r}") from None
    if count < 1 or not limit > 0:
        raise ProfileError(f"{key}: expected at least 1 example and seconds > 0, got {text!r}")
    return count, limit


@dataclass
class MrtrSettings:
    """How the harness answers the input a 2026-07-28 server asks for ([mrtr] of the profile)."""

    elicitation: str = "accept"
    sampling_text: str = "mcp-harness sampled text"
    sampling_model: str = "mcp-harness-model"
    rounds: int = 4

    def handlers(self) -> dict[str, Any]:
        """The answers, as the session core's handlers (the ones a 2025-11-25 session's server requests get)."""
        return {
            **core.DEFAULT_HANDLERS,
            "elicitation/create": core.elicitation_answer(self.elicitation),
            "sampling/createMessage": core.sampling_answer(self.sampling_text, self.sampling_model),
        }


def check_side_channel(value: Any, key: str = "side_channel") -> tuple[str, str]:
    """ "URL#FIELD" → (URL, FIELD); the URL as check_url wants it (http or https, a host)."""
    text = _string(value, key)
    url, sep, name = text.rpartition("#")
    if not sep or not url or not name:
        raise ProfileError(f"{key}: expected URL#FIELD (the JSON field counting cancelled calls), got {text!r}")
    return check_url(interpolate(url, key), key), name


def _mrtr_table(value: Any) -> MrtrSettings:
    table = _table(value, "mrtr", MRTR_KEYS)
    settings = MrtrSettings()
    if "elicitation" in table:
        if table["elicitation"] not in ("accept", "decline", "cancel"):
            raise ProfileError(f"mrtr.elicitation: expected accept, decline or cancel, got {table['elicitation']!r}")
        settings.elicitation = table["elicitation"]
    if "sampling_text" in table:
        settings.sampling_text = _string(table["sampling_text"], "mrtr.sampling_text")
    if "sampling_model" in table:
        settings.sampling_model = _string(table["sampling_model"], "mrtr.sampling_model")
    if "rounds" in table:
        rounds = table["rounds"]
        if not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 1:
            raise ProfileError(f"mrtr.rounds: expected a whole number >= 1, got {rounds!r}")
        settings.rounds = rounds
    return settings


def _properties_table(value: Any) -> PropertySettings:
    if not isinstance(value, dict):
        raise ProfileError(f"properties: expected a table ({', '.join(PROPERTIES_KEYS)})")
    settings = PropertySettings()
    for name, item in value.items():
        key = f"properties.{name}"
        if name == "tools":
            if not isinstance(item, list) or not all(isinstance(t, str) and t for t in item):
                raise ProfileError(f"{key}: expected a list of tool names, got {item!r}")
            settings.tools = list(item)
        elif name == "malformed":
            settings.malformed = _boolean(item, key)
        elif name == "oversized":
            settings.oversized = _boolean(item, key)
        elif name == "rate":
            settings.rate = _positive(item, key)
        elif name == "call_timeout":
            settings.call_timeout = _positive(item, key)
        else:
            raise ProfileError(f"{key}: unknown key (known: {', '.join(PROPERTIES_KEYS)})")
    return settings


def seconds(value: Any, key: str) -> float:
    """A number of seconds, or Locust's timespan format (30s, 5m, 1h30m) for strings."""
    if isinstance(value, str):
        m = TIMESPAN.fullmatch(value.strip())
        if m is None or not value.strip():
            raise ProfileError(f"{key}: expected seconds or a timespan such as 30s, 5m or 1h, got {value!r}")
        h, mins, secs = (float(g or 0) for g in m.groups())
        return h * 3600 + mins * 60 + secs
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"{key}: expected seconds or a timespan such as 30s, got {value!r}")
    return float(value)


def _weights(value: Any, key: str) -> dict[str, int]:
    """{name: weight} from a TOML table, or from 'name[:weight],…' (the SCENARIO variable)."""
    if isinstance(value, str):
        value = dict(
            (name.strip(), int(w) if w.strip().isdigit() else w or 1)
            for name, _, w in (item.partition(":") for item in value.split(",") if item.strip())
        )
    if not isinstance(value, dict) or not value:
        raise ProfileError(f"{key}: expected scenario weights such as {{ tool_call = 3, elicitation = 1 }}")
    for name, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise ProfileError(f"{key}: the weight of {name!r} must be a whole number >= 1, got {weight!r}")
    return dict(value)


def load_value(name: str, value: Any, key: str) -> Any:
    """One [load] value (or its environment variable's string), checked against its kind."""
    kind = LOAD_KEYS[name][0]
    if kind == "weights":
        return _weights(value, key)
    if kind == "shape":
        if value not in SHAPE_NAMES:
            raise ProfileError(f"{key}: {value!r} is not a shape ({', '.join(SHAPE_NAMES)})")
        return value
    if isinstance(value, str) and kind in ("count", "count0", "fraction", "rate"):
        try:
            value = float(value) if kind in ("fraction", "rate") else int(value)
        except ValueError:
            raise ProfileError(f"{key}: expected a number, got {value!r}") from None
    if kind in ("seconds", "seconds0"):
        number = seconds(value, key)
        if number < 0 or (number == 0 and kind == "seconds"):
            raise ProfileError(f"{key}: expected seconds {'> 0' if kind == 'seconds' else '>= 0'}, got {value!r}")
        return number
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"{key}: expected a number, got {value!r}")
    if kind in ("count", "count0") and (not isinstance(value, int) or value < (1 if kind == "count" else 0)):
        raise ProfileError(f"{key}: expected a whole number {'>= 1' if kind == 'count' else '>= 0'}, got {value!r}")
    if kind == "fraction" and not 0 <= value <= 1:
        raise ProfileError(f"{key}: expected a fraction between 0 and 1, got {value!r}")
    if kind == "rate" and value <= 0:
        raise ProfileError(f"{key}: expected a number > 0, got {value!r}")
    return value


def _load_table(value: Any) -> LoadSettings:
    if not isinstance(value, dict):
        raise ProfileError("load: expected a table of load settings")
    settings = LoadSettings()
    for name, item in value.items():
        if name not in LOAD_KEYS:
            raise ProfileError(f"load.{name}: unknown key (known: {', '.join(LOAD_KEYS)})")
        settings.values[name] = load_value(name, item, f"load.{name}")
    return settings


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


def _size(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ProfileError(f"{key}: expected a number of bytes > 0, got {value!r}")
    return value


def _positive(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ProfileError(f"{key}: expected a number > 0, got {value!r}")
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
    if value not in (*STATEFUL_VERSIONS, STATELESS_VERSION):
        known = ", ".join((*STATEFUL_VERSIONS, STATELESS_VERSION))
        raise ProfileError(f"{key}: {value!r} is not a version this harness speaks ({known})")
    return value


def pick_version(target: Target, value: Any, key: str = "spec_version") -> None:
    """A spec version picks one era: 2026-07-28 the modern one, a session revision the legacy one (asked for at
    initialize); without one every era the server serves is tested."""
    version = check_version(value, key)
    target.era = "modern" if version == STATELESS_VERSION else "legacy"
    if target.era == "legacy":
        target.spec_version = version


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
    arguments = value.get("arguments")  # absent: built from the tool's inputSchema
    if arguments is not None and not isinstance(arguments, dict):
        raise ProfileError(f"{key}.arguments: expected a table, got {arguments!r}")
    return ToolSpec(_string(value.get("name"), f"{key}.name"), arguments)


def _table(value: Any, key: str, known: Mapping[str, str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProfileError(f"{key}: expected a table ({', '.join(known)})")
    for name in value:
        if name not in known:
            raise ProfileError(f"{key}.{name}: unknown key (known: {', '.join(known)})")
    return value


def _auth_table(value: Any) -> Auth:
    table = _table(value, "auth", AUTH_KEYS)
    if "token_env" in table and "token_command" in table:
        raise ProfileError("auth: give token_env or token_command, not both")
    auth = Auth()
    if "token_env" in table or "token_command" in table:
        scheme = table.get("scheme", "Bearer")
        if not isinstance(scheme, str):
            raise ProfileError(f"auth.scheme: expected a string, got {scheme!r}")
        auth.token = TokenSource(
            env=_string(table["token_env"], "auth.token_env") if "token_env" in table else None,
            command=_string(table["token_command"], "auth.token_command") if "token_command" in table else None,
            header=_string(table.get("header", "Authorization"), "auth.header"),
            scheme=scheme,
        )
    elif "header" in table or "scheme" in table:
        raise ProfileError("auth: header and scheme need token_env or token_command")
    if "sigv4" in table:
        sig = _table(table["sigv4"], "auth.sigv4", {"region": "", "service": ""})
        auth.sigv4 = SigV4(
            _string(sig.get("region"), "auth.sigv4.region"),
            _string(sig.get("service", "bedrock-agentcore"), "auth.sigv4.service"),
        )
    if auth.token is None and auth.sigv4 is None:
        raise ProfileError("auth: expected token_env, token_command or sigv4")
    return auth


def _agentcore_table(value: Any) -> agentcore.Front:
    table = _table(value, "agentcore", AGENTCORE_KEYS)

    def text(name: str, default: str | None = None) -> str:  # ${VAR} allowed: ARNs name accounts
        key = f"agentcore.{name}"
        return interpolate(_string(table.get(name, default), key), key)

    front = agentcore.Front(
        region=text("region"), runtime_arn=text("runtime_arn"), qualifier=text("qualifier", "DEFAULT")
    )
    if not front.runtime_arn.startswith("arn:"):
        raise ProfileError(
            f"agentcore.runtime_arn: expected an ARN (arn:aws:bedrock-agentcore:…), got {front.runtime_arn!r}"
        )
    if "endpoint" in table:
        front.endpoint = check_url(
            interpolate(_string(table["endpoint"], "agentcore.endpoint"), "agentcore.endpoint"), "agentcore.endpoint"
        )
    if "max_retries" in table:
        retries = table["max_retries"]
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ProfileError(f"agentcore.max_retries: expected a whole number >= 0, got {retries!r}")
        front.max_retries = retries
    if "idle_timeout" in table:
        front.idle_timeout = _number(table["idle_timeout"], "agentcore.idle_timeout")
    if "max_lifetime" in table:
        front.max_lifetime = _number(table["max_lifetime"], "agentcore.max_lifetime")
    return front


def start_auth(target: Target) -> None:
    """Read the first token / load the signing credentials: a ProfileError (one line, exit 2) if that fails."""
    if target.auth is not None:
        try:
            target.auth.start()
        except AuthError as e:
            raise ProfileError(str(e)) from None


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
            pick_version(target, value)
        elif key == "stateful":
            target.stateful = _boolean(value, key)
        elif key == "idle_timeout":
            target.idle_timeout = _number(value, key)
        elif key == "timeout":
            target.timeout = _number(value, key)
        elif key == "exchange_timeout":
            target.limits = dataclasses.replace(target.limits, exchange_timeout=_number(value, key))
        elif key == "max_message_size":
            target.limits = policy.limits_with_message_size(target.limits, _size(value, key))
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
                target.tools_named.add(role)
        elif key == "discover":
            table = _table(value, "discover", {"enabled": "boolean"})
            if "enabled" in table:
                target.discover = _boolean(table["enabled"], "discover.enabled")
        elif key == "load":
            target.load = _load_table(value)
        elif key == "properties":
            target.properties = _properties_table(value)
        elif key == "auth":
            target.auth = _auth_table(value)
        elif key == "agentcore":
            target.front = _agentcore_table(value)
        elif key == "mrtr":
            target.mrtr = _mrtr_table(value)
        elif key == "side_channel":
            target.side_channel = check_side_channel(value)
        else:
            raise ProfileError(f"{key}: unknown key in profile {path} (known: {', '.join(sorted(PROFILE_KEYS))})")
    if target.front is not None:
        if "url" in data:
            raise ProfileError(f"profile {path}: give url or [agentcore], not both (agentcore.endpoint moves the host)")
        target.url = target.front.url
    return target
