"""Run configuration, apart from pytest: the command-line options, the target they build with the profile, the
connection settings, the probe that finds out whether the harness can run at all, and the list of checks.

The CLI imports this module alone (no pytest, allure, hypothesis, locust or gevent); the pytest plugin reads the same
options and builds the same target from them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Any

from mcp_harness import catalogue, core, instances, policy, report
from mcp_harness.driver import Client, ClientConfig, Conversation, HarnessError
from mcp_harness.profile import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_PROPERTY_EXAMPLES,
    DEFAULT_PROPERTY_RATE,
    DEFAULT_PROPERTY_SECONDS,
    ProfileError,
    Target,
    check_url,
    check_version,
    interpolate,
    load_profile,
    merge_headers,
    parse_header,
    property_budget,
    start_auth,
)

DEFAULT_OUT = "reports/conformance"
SHOWN_ERROR = 300  # characters of a refusal quoted in the one-line error


# --- the probe: can the harness run at all? ----------------------------------------------------------


class ProbeError(Exception):
    """The harness cannot run against this target; the message is the one line users see."""


@dataclass
class Probe:
    protocol_version: str | None
    session_id_issued: bool
    server_info: dict[str, Any]
    capabilities: dict[str, Any]
    note: str | None = None


def probe(config: ClientConfig) -> Probe:
    """One initialize (then DELETE): reachability, authentication, negotiated version, session id.

    A server that refuses initialize but answers `server/discover` speaks the stateless 2026-07-28
    revision: it is reported as such (every session check is then not-testable), not failed.
    """
    where = report.public_url(config.url)
    with Client(dataclasses.replace(config, client_name="mcp-harness-probe")) as client:  # countable as the probe
        conv = client.session(label="probe")
        try:
            ex = conv.send(conv.core.initialize())
        except HarnessError as e:
            raise ProbeError(f"cannot reach {where}: {e}") from None
        if ex.status in (401, 403):
            raise ProbeError(f"authentication refused at initialize: HTTP {ex.status} from {where}")
        response = conv.core.responses.get(ex.request_id)
        if response is None or "error" in response:
            stateless = _discover(conv)
            if stateless is not None:
                return stateless
            if response is None:
                raise ProbeError(f"initialize got HTTP {ex.status} and no JSON-RPC response from {where}")
            refused = json.dumps(response["error"])
            if len(refused) > SHOWN_ERROR:
                refused = refused[:SHOWN_ERROR] + f"… ({len(refused)} characters)"
            raise ProbeError(f"initialize was refused: {refused} (try --spec-version)")
        version = conv.core.protocol_version
        if version not in core.STATEFUL_VERSIONS:
            sent = (conv.core.initialize_result or {}).get("protocolVersion")
            what = "no protocolVersion" if sent is None else f"protocol version {sent!r}"
            if sent is not None and not isinstance(sent, str):
                what += f" ({instances.json_type(sent)}, not a string)"
            raise ProbeError(f"the server negotiated {what}, which this harness does not speak")
        if conv.core.session_id is not None:
            try:
                conv.notify("notifications/initialized")
            except HarnessError as e:
                raise ProbeError(f"the server stopped answering after initialize: {e}") from None
        return Probe(version, conv.core.session_id is not None, conv.core.server_info, conv.core.server_capabilities)


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _discover(conv: Conversation) -> Probe | None:
    try:
        ex = conv.send(conv.core.discover())
    except HarnessError:
        return None
    result = (conv.core.responses.get(ex.request_id) or {}).get("result")
    if not isinstance(result, dict) or core.STATELESS_VERSION not in _list(result.get("supportedVersions")):
        return None
    info = core.as_object(core.as_object(result.get("_meta")).get("io.modelcontextprotocol/serverInfo"))
    note = f"the server refused initialize and answered server/discover: it speaks {core.STATELESS_VERSION} (stateless)"
    return Probe(core.STATELESS_VERSION, False, info, core.as_object(result.get("capabilities")), note)


class Handover:
    """What the CLI found before it started pytest, handed to the plugin (as a plugin object) so that the target is
    probed once per run: behind a front such as AgentCore every probe is a microVM session."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe


# --- options and the target they build ---------------------------------------------------------------

OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--url",), {"help": "the MCP endpoint; without it the embedded reference server is started"}),
    (("--profile",), {"metavar": "FILE", "help": "target profile (TOML)"}),
    (
        ("--header",),
        {"action": "append", "default": [], "metavar": "'NAME: VALUE'", "help": "sent with every request; repeatable"},
    ),
    (
        ("--spec-version",),
        {"metavar": "VERSION", "help": f"requested at initialize ({', '.join(core.STATEFUL_VERSIONS)})"},
    ),
    (
        ("--idle-timeout",),
        {"type": float, "metavar": "SECONDS", "help": "the target's session idle timeout (enables the expiry check)"},
    ),
    (("--timeout",), {"type": float, "metavar": "SECONDS", "help": "seconds to wait for each read (default 10)"}),
    (
        ("--exchange-timeout",),
        {
            "type": float,
            "metavar": "SECONDS",
            "help": "seconds one whole exchange may take, however many bytes keep coming "
            f"(default {policy.DEFAULT_EXCHANGE_TIMEOUT:g})",
        },
    ),
    (
        ("--max-message-size",),
        {
            "type": int,
            "metavar": "BYTES",
            "help": f"bytes one SSE event or JSON body may have; past it the exchange is cut off "
            f"(default {policy.DEFAULT_MAX_MESSAGE})",
        },
    ),
    (("--ca-bundle",), {"metavar": "FILE", "help": "CA bundle (PEM) for TLS verification"}),
    (("--insecure",), {"action": "store_true", "default": False, "help": "skip TLS verification"}),
    (("--strict",), {"action": "store_true", "default": False, "help": "record SHOULD-level violations as fail"}),
    (("--out",), {"default": DEFAULT_OUT, "metavar": "DIR", "help": f"where reports go (default {DEFAULT_OUT})"}),
    (
        ("--check",),
        {"action": "append", "default": [], "metavar": "ID", "help": "run only this check id or glob; repeatable"},
    ),
    (("--list-checks",), {"action": "store_true", "default": False, "help": "list the checks and exit"}),
    (
        ("--no-discover",),
        {
            "action": "store_true",
            "default": False,
            "help": "do not call tools to find which elicit, sample or report progress (profile, fixture names only)",
        },
    ),
    (
        ("--time-limit",),
        {
            "type": float,
            "metavar": "SECONDS",
            "help": "a bound on the whole run: checks not started by then get the error verdict, reads end with it",
        },
    ),
    (
        ("--property-budget",),
        {
            "metavar": "EXAMPLES[:SECONDS]",
            "help": f"examples and seconds per property check (default {DEFAULT_PROPERTY_EXAMPLES}:"
            f"{DEFAULT_PROPERTY_SECONDS:g}; e.g. 500:120 nightly); a failure may shrink as long again",
        },
    ),
    (
        ("--seed",),
        {"type": int, "metavar": "N", "help": "seed of the property checks (default random; 0 when CI is set)"},
    ),
    (
        ("--property-malformed",),
        {
            "action": "store_true",
            "default": None,
            "help": "send malformed requests (the default; overrides [properties] malformed = false)",
        },
    ),
    (
        ("--no-property-malformed",),
        {
            "action": "store_false",
            "dest": "property_malformed",
            "default": None,
            "help": "send no malformed requests (unknown methods and broken params are still sent)",
        },
    ),
    (
        ("--property-oversized",),
        {
            "action": "store_true",
            "default": False,
            "help": "among the malformed requests, also bodies of 1, 4 and 16 MiB",
        },
    ),
    (
        ("--property-call-timeout",),
        {
            "type": float,
            "metavar": "SECONDS",
            "help": f"a generated tool call not answered by then is cancelled with notifications/cancelled and "
            f"recorded, not failed (default {DEFAULT_CALL_TIMEOUT:g})",
        },
    ),
    (
        ("--property-rate",),
        {
            "type": float,
            "metavar": "PER_SECOND",
            "help": f"cap on the property checks' requests per second (default {DEFAULT_PROPERTY_RATE:g})",
        },
    ),
]


def build_target(option: Any) -> Target:
    """Merge defaults ← profile ← command line (raises ProfileError)."""
    target = load_profile(option.profile) if option.profile else Target()
    if option.url:
        target.url = check_url(option.url, "--url")
    if option.spec_version:
        target.spec_version = check_version(option.spec_version, "--spec-version")
    if option.idle_timeout is not None:
        if option.idle_timeout <= 0:
            raise ProfileError("--idle-timeout: expected a number of seconds > 0")
        target.idle_timeout = option.idle_timeout
    if option.timeout is not None:
        if option.timeout <= 0:
            raise ProfileError("--timeout: expected a number of seconds > 0")
        target.timeout = option.timeout
    if option.exchange_timeout is not None:
        if not option.exchange_timeout > 0:
            raise ProfileError("--exchange-timeout: expected a number of seconds > 0")
        target.limits = dataclasses.replace(target.limits, exchange_timeout=option.exchange_timeout)
    if option.max_message_size is not None:
        if option.max_message_size <= 0:
            raise ProfileError("--max-message-size: expected a number of bytes > 0")
        target.limits = policy.limits_with_message_size(target.limits, option.max_message_size)
    if option.ca_bundle:
        target.ca_bundle = option.ca_bundle
    if option.insecure:
        target.insecure = True
    _property_options(target, option)
    given = [(h, "--header") for h in option.header]
    # The Makefile hands HEADER over in the environment so that make never echoes its value.
    if os.environ.get("MCP_HARNESS_HEADER"):
        given.append((os.environ["MCP_HARNESS_HEADER"], "HEADER"))
    for text, key in given:  # '${TOKEN}' in single quotes keeps the secret out of the process list
        name, value = parse_header(text, key)
        target.headers = merge_headers(target.headers, {name: interpolate(value, key)})
    if option.no_discover:
        target.discover = False
    start_auth(target)
    return target


def _property_options(target: Target, option: Any) -> None:
    props = target.properties
    if option.property_budget:
        props.examples, props.seconds = property_budget(option.property_budget)
    if option.seed is not None:
        props.seed = option.seed
    if option.property_malformed is not None:
        props.malformed = option.property_malformed
    if option.property_oversized:
        props.oversized = True
    if option.property_call_timeout is not None:
        if not option.property_call_timeout > 0:
            raise ProfileError("--property-call-timeout: expected a number of seconds > 0")
        props.call_timeout = option.property_call_timeout
    if option.property_rate is not None:
        if not option.property_rate > 0:
            raise ProfileError("--property-rate: expected a number of requests per second > 0")
        props.rate = option.property_rate


def client_config(target: Target, run_id: str) -> ClientConfig:
    """The connection settings of a merged target."""
    return ClientConfig(
        url=target.url or "",
        headers=target.headers,
        timeout=target.timeout,
        limits=target.limits,
        ca_bundle=target.ca_bundle,
        insecure=target.insecure,
        requested_version=target.spec_version,
        run_id=run_id,
        auth=target.auth,
        front=target.front,
    )


def list_checks() -> str:
    rows = []
    for req in catalogue.CATALOGUE:
        levels = "/".join(dict.fromkeys(r.level for r in req.rows))
        rows.append(f"{req.id:<42} {levels:<10} {req.kind:<6} {req.title}")
    return "\n".join(rows)
