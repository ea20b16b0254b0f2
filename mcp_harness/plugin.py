"""The pytest plugin: options, the `h` fixture checks are written against, the hooks and the verdicts.

A check is a pytest test marked with `@check("<catalogue id>")`. It talks to the target through `h`
and ends in one verdict: it returns (pass, or info for an info record), calls `h.fail` (fail; warn for a
SHOULD unless --strict), `h.not_testable`, `h.info`, or raises anything else (error). A violation the core
recorded during one check that breaks another check's rule reaches that check's verdict (`attribution`). The
plugin keeps one `CheckResult` per check and every reporter — the console line, results.json, summary.md, JUnit,
Allure and the wire logs (`report`, `reporters`) — is built from that list.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

from mcp_harness import __version__, agentcore, attribution, catalogue, core, embedded, report, reporters
from mcp_harness.attribution import Sighting
from mcp_harness.catalogue import Requirement
from mcp_harness.discovery import InputTools, Roles, discover, find_input_tools
from mcp_harness.driver import Client, ClientConfig, Conversation, HarnessError
from mcp_harness.instances import Unsatisfiable, modern_dialect, tool_arguments
from mcp_harness.profile import (
    ProfileError,
    Target,
    ToolSpec,
)
from mcp_harness.runconfig import (
    OPTIONS,
    Handover,
    Probe,
    ProbeError,
    build_target,
    client_config,
    list_checks,
    probe,
)
from mcp_harness.scenarios import list_tools
from mcp_harness.wire import scrub_files

F = TypeVar("F", bound=Callable[..., Any])
# Checks that need a session: server→client requests, cancellation and resumption are tied to one.
SESSION_AREAS = ("session", "expiry", "elicitation", "sampling", "cancellation", "resumability")
QUICK_TIMEOUT = 5.0  # seconds: the read timeout of checks that wait for something that should not come
STATE = pytest.StashKey["RunState"]()


def check(check_id: str, *, roles: bool = False) -> Callable[[F], F]:
    """Mark a test as the check for catalogue entry `check_id`; `roles`: it uses the round-trip tools (h.tool,
    h.optional_tool), so the roles are found before its own sessions open (the other checks open none for it)."""
    catalogue.get(check_id)  # fail at import time on a typo
    return pytest.mark.mcp_check(check_id, roles=roles)


class Verdict(AssertionError):
    """A check's own ending, not a crash. An AssertionError because Allure files those by the report's outcome
    (fail → failed, warn/info → passed) and any other exception as broken — which is what `error` means."""


class CheckFailed(Verdict):
    pass


class NotTestable(Verdict):
    pass


class InfoRecorded(Verdict):
    pass


class TimeLimitReached(Exception):
    """The run's --time-limit has passed: the check is not started."""


# --- run state and the `h` fixture --------------------------------------------------------------------


@dataclass
class RunState:
    target: Target
    config: ClientConfig
    strict: bool
    out: Path
    selected: list[str]
    started: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    probe: Probe | None = None
    server: embedded.EmbeddedServer | None = None
    results: list[report.CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: dict[str, report.CheckResult] = field(default_factory=dict)  # results waiting for their console line
    time_limit: float | None = None  # seconds for the whole run (--time-limit)
    generated: dict[str, str] = field(default_factory=dict)  # role → its tool and the arguments built (JSON)
    roles: Roles | None = None  # which tool plays which role (discover_roles)
    sightings: list[Sighting] = field(default_factory=list)  # violations of checks that have not taken them yet
    input_tools: InputTools | None = None  # which tool asks for which input through MRTR (2026-07-28)

    def find_input_tools(self) -> InputTools:
        """The tools that ask for input on a modern call: looked for once, when a check first needs one."""
        if self.input_tools is None:
            try:
                with Client(self.config) as client:
                    conv = client.session(label="input tool discovery")
                    self.input_tools = find_input_tools(conv, self.target, self.target.discover)
            except HarnessError as e:
                self.input_tools = InputTools(note=f"the tools could not be listed and tried: {e}", failed=True)
        return self.input_tools

    def discover_roles(self) -> Roles:
        """Which tool plays each round-trip role: looked for once, when a check first needs one."""
        if self.roles is None:
            modern = modern_dialect(self.probe.protocol_version if self.probe else None)
            try:
                with Client(self.config) as client:
                    self.roles = discover(client, self.target, modern, self.target.discover)
            except HarnessError as e:
                self.roles = Roles(
                    note=f"the tools could not be listed and tried to find their roles: {e}", failed=True
                )
        return self.roles

    def time_left(self) -> float | None:
        return None if self.time_limit is None else self.time_limit - (time.monotonic() - self.started)


class Harness:
    """What a check sees: the target, the negotiated version, sessions to open, and verdict calls."""

    def __init__(self, state: RunState, requirement: Requirement, config: pytest.Config | None = None) -> None:
        self.state = state
        self.config = config
        self.requirement = requirement
        self.target = state.target
        self.probe = state.probe
        legacy = (state.probe and state.probe.legacy and state.probe.protocol_version) or state.target.spec_version
        self.version = core.STATELESS_VERSION if requirement.modern else legacy  # the revision it is judged by
        self.clients: list[Client] = []
        self.released: list[tuple[str, list[core.Violation]]] = []  # (session label, violations) of released clients
        self.kept_wire: list[str] = []  # wire logs of released sessions that recorded a violation
        self.message = ""

    @property
    def level(self) -> str:
        row = self.requirement.row(self.version)
        return row.level if row else self.requirement.rows[-1].level

    def client(self, **overrides: Any) -> Client:
        """A new connection pool (sessions opened through it are DELETEd when the check ends)."""
        config = ClientConfig(**{**self.state.config.__dict__, **overrides})
        left = self.state.time_left()
        if left is not None:  # reads and whole exchanges end with the run's time limit (but get at least a second)
            config.timeout = min(config.timeout, max(1.0, left))
            config.limits = replace(config.limits, exchange_timeout=min(config.limits.exchange_timeout, max(1.0, left)))
        c = Client(config)
        self.clients.append(c)
        return c

    def quick_client(self, seconds: float = QUICK_TIMEOUT) -> Client:
        """A client whose reads give up sooner: for waits whose silence is itself the answer."""
        return self.client(timeout=min(seconds, self.target.timeout))

    def session(
        self, *, initialize: bool = True, client: Client | None = None, listen: bool = False, **kwargs: Any
    ) -> Conversation:
        """A session (initialized unless told otherwise). `listen`: with its GET stream open, so that a server
        request sent there rather than on the call's stream (a SHOULD that transport.sse.related-messages judges)
        is answered and the round trip completes."""
        client = client or (self.clients[0] if self.clients else self.client())
        conv = client.session(**kwargs)
        if initialize:
            conv.initialize()
            if listen:
                conv.open_stream().wait_open(self.target.timeout)
        return conv

    def say(self, text: str) -> None:
        """A line on the terminal now (e.g. how long a check is going to wait)."""
        plugins = self.config.pluginmanager if self.config else None
        reporter = plugins.get_plugin("terminalreporter") if plugins else None
        capture = plugins.get_plugin("capturemanager") if plugins else None
        if reporter is not None:
            with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                reporter.write_line(f"  … {text}")

    def tool(self, role: str, conv: Conversation | None = None) -> ToolSpec:
        """The tool for `role`, with its arguments: the profile's, else built from its inputSchema (said in the wire
        log and the run's notes). Not-testable when the server does not list it or its schema cannot be satisfied."""
        roles = self.state.discover_roles()
        if roles.failed:
            raise HarnessError(roles.note)  # the server went away: the check could not complete
        found = roles.found.get(role)
        if found is None:
            self.not_testable(f"no tool for {role}: {roles.missing(role)}; name one in [tools.{role}]")
        spec = found.tool
        conv = conv or self.session()
        listed = list_tools(conv)
        if spec.name not in listed:
            self.not_testable(f"the server lists no tool {spec.name!r} for {role} ({found.how})")
        if spec.arguments is not None:
            return spec
        try:
            arguments = tool_arguments(listed[spec.name], spec.hints, modern_dialect(self.version))
        except Unsatisfiable as e:
            self.not_testable(f"no valid arguments for the {role} tool {spec.name!r} could be built: {e}")
        text = json.dumps(arguments, ensure_ascii=False, sort_keys=True)
        conv.wire.note(f"arguments for {spec.name} built from its inputSchema: {text}")
        self.state.generated.setdefault(role, f"{spec.name} {text}")
        return ToolSpec(spec.name, arguments)

    def input_tool(self, kind: str) -> tuple[str, dict[str, Any]]:
        """(name, arguments) of a tool whose modern call asks for `kind` input (elicitation, sampling, roots), or
        not-testable with what was tried."""
        tools = self.state.find_input_tools()
        if tools.failed:
            raise HarnessError(tools.note)  # the server went away: the check could not complete
        if kind not in tools.found:
            self.not_testable(f"no tool for {kind} through MRTR: {tools.missing(kind)}")
        return tools.found[kind]

    def optional_tool(self, role: str, conv: Conversation | None = None) -> ToolSpec | None:
        """The tool for `role` as `tool` finds it, or None where that check would be not-testable."""
        try:
            return self.tool(role, conv)
        except NotTestable:
            return None

    def observe(self, message: str) -> None:
        """What was observed; shown with a pass."""
        self.message = message

    def fail(self, reason: str) -> NoReturn:
        raise CheckFailed(reason)

    def require(self, condition: bool, reason: str) -> None:
        if not condition:
            self.fail(reason)

    def not_testable(self, reason: str) -> NoReturn:
        raise NotTestable(reason)

    def info(self, message: str) -> NoReturn:
        raise InfoRecorded(message)

    def release(self, client: Client) -> None:
        """Close `client` and leave its sessions out of the wire log (a property check's finished example); what
        the core recorded against the server there is kept, to be attributed when the check ends."""
        client.close()
        if client in self.clients:
            self.clients.remove(client)
        self.released += [(conv.wire.label, conv.core.violations) for conv in client.conversations]
        # The evidence stays: a released session that recorded a violation keeps its wire log (the first few).
        seen = [conv.wire.render() for conv in client.conversations if conv.core.violations]
        self.kept_wire += seen[: max(0, attribution.SHOWN - len(self.kept_wire))]

    def recorded(self) -> list[tuple[str, core.Violation]]:
        """Every violation the check's sessions recorded, with the session's label."""
        live = [(conv.wire.label, conv.core.violations) for c in self.clients for conv in c.conversations]
        return [(label, v) for label, found in [*self.released, *live] for v in found]

    def wire(self) -> str:
        live = [conv.wire.render() for c in self.clients for conv in c.conversations]
        return "\n\n".join([*self.kept_wire, *live])

    def close(self) -> None:
        for c in self.clients:
            c.close()


def _applicability(state: RunState, req: Requirement) -> str | None:
    """Why a check cannot run against this target, or None."""
    p = state.probe
    era = state.target.era
    if req.modern:
        if p is not None and not p.modern:
            return f"applies to {core.STATELESS_VERSION}; {p.not_modern}"
        if era == "legacy":
            return f"applies to {core.STATELESS_VERSION}; --spec-version picks the legacy era"
        if req.binds == "modern-only" and p is not None and p.legacy:
            return f"binds servers that serve only modern versions; this one also serves initialize ({p.era})"
        if req.binds == "dual-era" and p is not None and not p.legacy:
            return "applies to dual-era servers; this one serves no initialize (modern-only)"
        return None
    if era == "modern":
        return f"a session revision's check; --spec-version {core.STATELESS_VERSION} picks the modern era"
    if p is not None and not p.legacy:
        return (
            f"a session revision's check (it runs after initialize); the server serves only {core.STATELESS_VERSION}, "
            "whose checks are stateless.*"
        )
    version = p.protocol_version if p else None
    if version not in req.versions:
        return f"applies to {', '.join(req.versions)}; the server negotiated {version}"
    if req.area in SESSION_AREAS and req.id != "transport.session.assign-at-init" and p and not p.session_id_issued:
        if state.target.declared_stateful:
            return "the server issued no session id although the target is declared stateful"
        return "the server issued no session id (stateless): session checks do not apply"
    return None


@pytest.fixture
def h(request: pytest.FixtureRequest) -> Iterator[Harness]:
    state = request.config.stash[STATE]
    marker = request.node.get_closest_marker("mcp_check")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses fixture h but has no @check(...) marker")
    harness = Harness(state, catalogue.get(marker.args[0]), request.config)
    request.node.mcp_harness = harness
    reporters.label_allure(harness.requirement, harness.version or "", harness.level)
    left = state.time_left()
    if left is not None and left <= 0:
        raise TimeLimitReached(f"not run: the run's time limit of {state.time_limit:g}s was reached")
    why = _applicability(state, harness.requirement)
    if why:
        raise NotTestable(why)
    if marker.kwargs.get("roles") and state.probe and state.probe.legacy and state.probe.session_id_issued:
        state.discover_roles()  # once, before the check's own sessions open (a failure is kept for tool())
    try:
        yield harness
    finally:
        harness.close()


# --- options and configuration -------------------------------------------------------------------------


# One table of options, shared by the pytest plugin and the `mcp-harness conformance` command.


# pytest has a --strict of its own (strict markers and config): the plugin reads that one.
PYTEST_OWNS = {"--strict"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcp-harness", "MCP conformance target")
    for flags, kwargs in OPTIONS:
        if flags[0] not in PYTEST_OWNS:
            group.addoption(*flags, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mcp_check(id): the conformance check for catalogue entry id")
    config.addinivalue_line("markers", "property: a property-based check (generated input; -m 'not property')")
    if config.option.list_checks or not hasattr(config.option, "url"):
        return
    try:
        target = build_target(config.option)
    except ProfileError as e:
        raise pytest.UsageError(str(e)) from None
    run_id = os.environ.get("MCP_HARNESS_RUN_ID") or uuid.uuid4().hex[:12]
    if target.properties.seed is None:  # one seed for the run, printed with any property failure
        target.properties.seed = 0 if os.environ.get("CI") else random.randrange(2**32)
    selected = [s for arg in config.option.check for s in arg.split(",") if s.strip()]
    time_limit = config.option.time_limit
    if time_limit is not None and not time_limit > 0:
        raise pytest.UsageError("--time-limit: expected a number of seconds > 0")
    state = RunState(
        target,
        client_config(target, run_id),
        bool(config.option.strict),
        Path(config.option.out),
        selected,
        time_limit=time_limit,
    )
    config.stash[STATE] = state
    config.pluginmanager.register(reporters.ConsoleReporter(config, state.lines), "mcp-harness-console")


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.option.list_checks:
        print(list_checks())
        return 0
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None:
        return
    if not state.target.url:
        if state.target.idle_timeout is None:
            state.target.idle_timeout = embedded.DEFAULT_IDLE_TIMEOUT
        state.server = embedded.start(idle_timeout=state.target.idle_timeout)
        state.target.url = state.config.url = state.server.url
        if state.target.side_channel is None:  # its counters: what it cancelled
            state.target.side_channel = (state.server.url.removesuffix("/mcp") + "/sessions", "cancelled")
        state.notes.append(f"embedded reference server, idle timeout {state.target.idle_timeout:g}s")
    handed = next((p for p in session.config.pluginmanager.get_plugins() if isinstance(p, Handover)), None)
    try:
        state.probe = handed.probe if handed is not None else probe(state.config, state.target.era)  # once per run
    except ProbeError as e:
        _stop_server(state)
        pytest.exit(str(e), returncode=2)
    if state.probe.note:
        state.notes.append(state.probe.note)
    if state.probe.legacy and state.probe.protocol_version != state.target.spec_version:
        state.notes.append(
            f"requested {state.target.spec_version}, the server counter-offered {state.probe.protocol_version}"
        )
    if state.probe.legacy and not state.probe.session_id_issued:
        state.notes.append("the server issued no session id (stateless)")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    seen: dict[str, str] = {}
    for item in items:
        marker = item.get_closest_marker("mcp_check")
        if marker is None:
            continue
        check_id = marker.args[0]
        if check_id in seen:
            raise pytest.UsageError(f"two checks claim {check_id}: {seen[check_id]} and {item.nodeid}")
        seen[check_id] = item.nodeid
    if state.selected:
        unknown = [s for s in state.selected if not fnmatch.filter(seen, s)]
        if unknown:
            raise pytest.UsageError(f"--check {unknown[0]}: no such check (see --list-checks)")
        keep = [i for i in items if any(fnmatch.fnmatch(_check_id(i) or "", s) for s in state.selected)]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
    if any(i.get_closest_marker("property") for i in items):
        state.notes.append(_property_note(state.target))


def _property_note(target: Target) -> str:
    p = target.properties
    malformed = "off on request" if not p.malformed else "up to 1, 4 and 16 MiB" if p.oversized else "up to 64 KiB"
    return (
        f"property checks: seed {p.seed}, up to {p.examples} examples / {p.seconds:g}s each, "
        f"≤ {p.rate:g} requests/s, malformed input {malformed}"
    )


def _check_id(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("mcp_check")
    return marker.args[0] if marker else None


# --- verdicts -------------------------------------------------------------------------------------------


def _verdict(state: RunState, harness: Harness | None, req: Requirement, excinfo: Any) -> tuple[str, str | None]:
    level = harness.level if harness else req.rows[-1].level
    if excinfo is None:
        return ("info" if req.kind == "info" else "pass"), None
    exc = excinfo.value
    if isinstance(exc, CheckFailed):
        why = _front_deviation(state, harness, req)
        if why:
            return "info", f"{why}; the check saw: {exc}"
        return attribution.failing(level, state.strict), str(exc)
    if isinstance(exc, NotTestable):
        return "not-testable", str(exc)
    if isinstance(exc, InfoRecorded):
        return "info", str(exc)
    text = str(exc) if isinstance(exc, (HarnessError, TimeLimitReached)) else f"{type(exc).__name__}: {exc}"
    return "error", text


def _front_deviation(state: RunState, harness: Harness | None, req: Requirement) -> str | None:
    """A failure that is the AgentCore front's known deviation, not the server's: the reason, or None."""
    if state.target.front is None or harness is None:
        return None
    exchanges = [ex for c in harness.clients for conv in c.conversations for ex in conv.core.exchanges]
    return agentcore.deviation(req.id, exchanges)


# trylast: the innermost wrapper, so that Allure's (outer) wrapper reads the outcome set here.
@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    state = item.config.stash.get(STATE, None)
    check_id = _check_id(item)
    if state is None or check_id is None:
        return
    harness: Harness | None = getattr(item, "mcp_harness", None)
    if rep.when == "teardown":
        if harness is not None:  # its sessions are closed now: nothing more can arrive on them
            _collect_sightings(state, check_id, harness)
        return
    if rep.when == "setup" and call.excinfo is None:
        return  # the verdict comes from the call phase
    req = catalogue.get(check_id)
    verdict, reason = _verdict(state, harness, req, call.excinfo)
    version = harness.version if harness else (state.probe.protocol_version if state.probe else "")
    row = req.row(version or "") or req.rows[-1]
    message = req.title + (f": {harness.message}" if harness and harness.message else "")
    if verdict == "info" and reason:
        message, reason = f"{req.title}: {reason}", None
    scrub = state.config.redactor().scrub
    result = report.CheckResult(
        id=check_id,
        level=row.level,
        verdict=verdict,
        spec=req.spec_ref(version or row.versions[-1]),
        requirement=row.quote,
        message=scrub(message),
        reason=scrub(reason) if reason else None,
        duration_s=round(call.duration, 3),
        era="modern" if req.modern else "legacy",
    )
    deviated = verdict == "info" and call.excinfo is not None and isinstance(call.excinfo.value, CheckFailed)
    if (verdict in ("fail", "warn", "error") or deviated) and harness is not None:
        result.wire_log = reporters.write_wire(state.out, check_id, scrub(harness.wire()))
        if result.wire_log:
            reporters.attach_wire(state.out, result.wire_log)
    if _applicability(state, req) is None:  # what earlier checks saw of this check's rule
        attribution.amend(result, _take_sightings(state, check_id), state.strict)
    reporters.name_allure(check_id, result.verdict)
    reporters.name_junit(item, check_id)
    state.results.append(result)
    state.lines[item.nodeid] = result
    _map_outcome(item, rep, result)


def _map_outcome(item: pytest.Item, rep: pytest.TestReport, result: report.CheckResult) -> None:
    """The verdict as pytest's outcome (JUnit, exit status): fail/error fail, not-testable skips."""
    if result.verdict in report.FAILING:
        rep.outcome = "failed"
        rep.longrepr = f"{result.verdict}: {result.reason}\nrequirement ({result.spec}): {result.requirement}" + (
            f"\nwire log: {result.wire_log}" if result.wire_log else ""
        )
    elif result.verdict == "not-testable":
        rep.outcome = "skipped"
        rep.longrepr = (str(item.path), item.location[1] or 0, f"not-testable: {result.reason}")
    else:
        rep.outcome = "passed"
        rep.longrepr = None


# --- violations seen during one check that break another check's rule (see attribution) -----------------------


def _collect_sightings(state: RunState, check_id: str, harness: Harness) -> None:
    found = attribution.foreign(harness.requirement, harness.recorded())
    if not found:
        return
    scrub = state.config.redactor().scrub
    own = next((r for r in reversed(state.results) if r.id == check_id), None)
    wire = own.wire_log if own and own.wire_log else reporters.write_wire(state.out, check_id, scrub(harness.wire()))
    for label, v in found:
        sighting = Sighting(v.rule, scrub(v.detail), check_id, label, wire)
        # Behind the AgentCore front, what follows from its JSON-RPC error inside HTTP 200 (e.g. its id null) is its
        # known deviation, whichever rule it touches.
        carried = state.target.front is not None and agentcore.carried_error([v.exchange])
        why = agentcore.DEVIATION if carried else None
        if why or v.rule not in catalogue.BY_ID:
            state.notes.append(attribution.note(v.rule, [sighting], why or "no such check in the catalogue"))
        else:
            state.sightings.append(sighting)


def _take_sightings(state: RunState, check_id: str) -> list[Sighting]:
    taken = [s for s in state.sightings if s.check == check_id]
    state.sightings = [s for s in state.sightings if s.check != check_id]
    return taken


def _settle_sightings(session: pytest.Session, state: RunState) -> None:
    """Sightings no check took when it ran: those of checks that had already reported amend their verdicts (and
    the run's exit status); those of checks without a verdict here, or not applying to the target, become notes."""
    results = {r.id: r for r in state.results}
    for check_id in dict.fromkeys(s.check for s in state.sightings):
        sightings = _take_sightings(state, check_id)
        result = results.get(check_id)
        why = _applicability(state, catalogue.get(check_id)) if result else "not selected in this run"
        if why:
            state.notes.append(attribution.note(check_id, sightings, why))
            continue
        attribution.amend(result, sightings, state.strict)
        reporters.amend_reported(session.config, result)
        if result.verdict in report.FAILING and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    if config.stash.get(STATE, None) is None:
        return None
    if report.when != "call" and report.passed:
        return "", "", ""
    return report.outcome, "", ""  # no progress letters: the plugin prints one line per check


def _stop_server(state: RunState) -> None:
    if state.server is not None:
        state.server.stop()


# tryfirst: before the JUnit plugin writes its file, so that a verdict amended here is in it.
@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or state.probe is None:
        return
    try:
        if state.server is not None and state.server.alive():
            open_now = state.server.open_sessions()
            if open_now:
                state.notes.append(f"{open_now} session(s) still open on the reference server after the run")
    except OSError as e:
        state.notes.append(f"could not ask the reference server for its open sessions: {e}")
    finally:
        _stop_server(state)
    transport = _transport_counters(state)
    if state.target.front is not None:
        state.notes.append(state.target.front.note())
    if state.input_tools is not None:
        tools = state.input_tools
        found = "; ".join(f"{kind}: {name}" for kind, (name, _) in tools.found.items()) or tools.note or "none"
        called = "; ".join(f"{n} → {w}" for n, w in tools.called.items())
        skipped = f"; not called: {', '.join(tools.skipped)}" if tools.skipped else ""
        state.notes.append(f"MRTR input tools — {found} (tools called to find them: {called or 'none'}{skipped})")
    if state.roles is not None:
        state.notes += [f"roles — {line}" for line in state.roles.lines()]
        if state.roles.observed:
            state.out.mkdir(parents=True, exist_ok=True)
            (state.out / "roles.toml").write_text(state.roles.snippet(), "utf-8")
            state.notes.append(f"roles found by observation; to pin them, add {state.out}/roles.toml to a profile")
    if state.generated:
        built = "; ".join(f"{role}: {call}" for role, call in sorted(state.generated.items()))
        state.notes.append(f"tool arguments built from each tool's inputSchema (the profile gave none): {built}")
    late = [r for r in state.results if r.reason and r.reason.startswith("not run: the run's time limit")]
    if late:
        state.notes.append(f"the time limit of {state.time_limit:g}s was reached: {len(late)} check(s) not run")
    _settle_sightings(session, state)
    run = report.RunInfo(
        harness={"name": "mcp-harness", "version": __version__, "run_id": state.config.run_id},
        target=state.target.url or "",
        requested_version=state.target.spec_version,
        protocol_version=state.probe.protocol_version,
        strict=state.strict,
        started_at=state.started_at,
        duration_s=time.monotonic() - state.started,
        notes=state.notes,
        transport=transport,
        eras=state.probe.era,
    )
    report.write_results(state.out, run, state.results)
    report.write_summary(state.out, run, state.results)
    reporters.allure_environment(session.config, run)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        if state.roles is not None and state.roles.observed:
            reporter.write_line("roles found by observation; a profile pins them with:")
            for line in state.roles.snippet().splitlines():
                reporter.write_line(f"  {line}" if line else "")
        reporter.write_line(f"mcp-harness: {report.tally(state.results)}  (reports in {state.out}/)")


def _transport_counters(state: RunState) -> dict[str, int]:
    """What happened below the checks: -32005 retries at a front, tokens read again after a 401."""
    counters = {}
    if state.target.front is not None:
        counters["front_retries"] = state.target.front.retries
    if state.target.auth is not None and state.target.auth.token is not None:
        counters["token_refreshes"] = state.target.auth.refreshes
    return counters


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last, after every reporter has written (JUnit, Allure, ours): no secret stays in any file of the run —
    a server may echo a token into a message that reaches an exception, captured output or an attachment."""
    state = config.stash.get(STATE, None)
    if state is None or not state.out.is_dir():
        return
    allure_dir = getattr(config.option, "allure_report_dir", None)
    redactor = state.config.redactor()
    for folder in (state.out, *([Path(allure_dir)] if allure_dir else [])):
        scrub_files(folder, redactor)
