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
    check_side_channel,
    check_url,
    interpolate,
    load_profile,
    merge_headers,
    parse_header,
    pick_version,
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
    protocol_version: str | None  # the legacy era's negotiated version; 2026-07-28 when that is all the server speaks
    session_id_issued: bool
    server_info: dict[str, Any]
    capabilities: dict[str, Any]
    note: str | None = None
    legacy: bool = True  # initialize was served: the session revisions' checks can run
    discovered: dict[str, Any] | None = None  # the server/discover result, when it lists 2026-07-28
    not_modern: str = ""  # how server/discover was answered when the modern era is not there (or not looked for)

    @property
    def modern(self) -> bool:
        return self.discovered is not None

    @property
    def era(self) -> str:
        return "dual-era" if self.legacy and self.modern else "modern-only" if self.modern else "legacy"


def probe(config: ClientConfig, era: str | None = None) -> Probe:
    """Which eras the target serves: one initialize (then DELETE) and one `server/discover`, each with no side effect
    beyond what it needs. Legacy-only, modern-only (2026-07-28, stateless) and dual-era targets are told apart here;
    `era` ("legacy" / "modern", from --spec-version) says which one the run must have (both are probed anyway:
    whether the server also serves the other era decides which rules bind it).
    """
    where = report.public_url(config.url)
    with Client(dataclasses.replace(config, client_name="mcp-harness-probe")) as client:  # countable as the probe
        conv = client.session(label="probe")
        served, refused = _initialize(conv, where)  # tried whatever the era: a dual-era server is told apart
        discovered, not_modern = _discover(conv, where, required=not served)
        if era == "modern" and discovered is None:
            raise ProbeError(f"--spec-version {core.STATELESS_VERSION}: {not_modern}")
        if not served and discovered is None:
            raise ProbeError(f"{refused} (try --spec-version)" if "refused" in refused else refused)
        if era == "legacy" and not served:
            raise ProbeError(f"{refused}; the server speaks only {core.STATELESS_VERSION}: drop --spec-version")
        info = conv.core.server_info if served else _server_info(discovered)
        capabilities = conv.core.server_capabilities if served else core.as_object(discovered.get("capabilities"))
        version = conv.core.protocol_version if served else core.STATELESS_VERSION
        found = Probe(version, served and conv.core.session_id is not None, info, capabilities)
        found.legacy, found.discovered, found.not_modern = served, discovered, not_modern
        found.note = _era_note(found, refused, era)
        return found


def _initialize(conv: Conversation, where: str) -> tuple[bool, str]:
    """(initialize was served, else how it was refused); unreachable, refused credentials or a version this harness
    does not speak end the run (ProbeError)."""
    try:
        ex = conv.send(conv.core.initialize())
    except HarnessError as e:
        raise ProbeError(f"cannot reach {where}: {e}") from None
    if ex.status in (401, 403):
        raise ProbeError(f"authentication refused at initialize: HTTP {ex.status} from {where}")
    response = conv.core.responses.get(ex.request_id)
    carried = conv.core.answer(ex)
    if response is None and carried:
        return False, f"initialize was refused: HTTP {ex.status} {_quoted(carried['error'])}"
    if response is None:
        return False, f"initialize got HTTP {ex.status} and no JSON-RPC response from {where}"
    if "error" in response:
        return False, f"initialize was refused: {_quoted(response['error'])}"
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
    return True, ""


def _quoted(value: object) -> str:
    """A server's JSON as one report line quotes it: at most SHOWN_ERROR characters."""
    text = json.dumps(value)
    return text if len(text) <= SHOWN_ERROR else text[:SHOWN_ERROR] + f"… ({len(text)} characters)"


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _server_info(result: dict[str, Any]) -> dict[str, Any]:
    return core.as_object(core.as_object(result.get("_meta")).get(core.META + "serverInfo"))


def _discover(conv: Conversation, where: str, required: bool) -> tuple[dict[str, Any] | None, str]:
    """(the server/discover result when it lists 2026-07-28, else how it was answered). `required`: no other era
    answered, so an unreachable target ends the run here."""
    try:
        ex = conv.send(conv.core.discover())
    except HarnessError as e:
        if required:
            raise ProbeError(f"cannot reach {where}: {e}") from None
        return None, f"server/discover got no answer ({e})"
    response = conv.core.answer(ex) or None
    result = (response or {}).get("result")
    if isinstance(result, dict) and core.STATELESS_VERSION in _list(result.get("supportedVersions")):
        return result, ""
    if response is None:
        return None, f"server/discover got HTTP {ex.status} and no JSON-RPC response"
    if "error" in response:
        return None, f"server/discover was answered HTTP {ex.status} {_quoted(response['error'])}"
    listed = _quoted(core.as_object(result).get("supportedVersions"))
    return None, f"server/discover lists no {core.STATELESS_VERSION} (supportedVersions {listed})"


def _era_note(p: Probe, refused: str, era: str | None) -> str:
    """What the summary says about the eras: which were found, which are tested, and why."""
    picked = f"; --spec-version picks the {era} era" if era and p.era == "dual-era" else ""
    if p.era == "dual-era":
        return (
            f"dual-era: the server answered initialize ({p.protocol_version}) and server/discover "
            f"({core.STATELESS_VERSION}) on one URL{picked or '; both eras are tested'}"
        )
    if p.era == "modern-only":
        why = f"{refused}, and " if refused else ""
        return (
            f"modern only: {why}server/discover answered {core.STATELESS_VERSION} (stateless); the session "
            "revisions' checks are not-testable"
        )
    return f"legacy only ({p.protocol_version}): {p.not_modern}; the {core.STATELESS_VERSION} checks are not-testable"


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
        {
            "metavar": "VERSION",
            "help": f"test one era only: a session revision, requested at initialize "
            f"({', '.join(core.STATEFUL_VERSIONS)}), or {core.STATELESS_VERSION} (stateless); default: every era the "
            "server serves",
        },
    ),
    (
        ("--side-channel",),
        {
            "metavar": "URL#FIELD",
            "help": "a URL whose JSON FIELD counts the calls the server cancelled (the embedded server's is used by "
            f"default): lets the harness see a cancellation by disconnect ({core.STATELESS_VERSION})",
        },
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
        pick_version(target, option.spec_version, "--spec-version")
    if option.side_channel:
        target.side_channel = check_side_channel(option.side_channel, "--side-channel")
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
        era = "modern" if req.modern else "legacy"
        rows.append(f"{req.id:<48} {levels:<10} {req.kind:<6} {era:<6} {req.title}")
    return "\n".join(rows)
