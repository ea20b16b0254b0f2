"""What the property checks share: the hypothesis set-up under a budget, the rate cap, the reproduction of a
failure, which tools get generated arguments and from what strategy, and the malformed and error-code cases.

The checks themselves (a session state machine, tool arguments, malformed input, error codes) are in
`conformance/test_properties.py`. Every example opens its own sessions and closes them when it ends, so examples
are independent and a shrunk case replays on its own; the last example's exchanges are what the wire log and the
reproduction show.
"""

from __future__ import annotations

import base64
import json
import shlex
import threading
import time
import types
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import hypothesis
import jsonschema
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.errors import Flaky, HypothesisException
from hypothesis.internal.conjecture import utils as conjecture
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test
from hypothesis_jsonschema import _from_schema, from_schema

from mcp_harness import core, instances, schema, versions
from mcp_harness.discovery import may_call
from mcp_harness.driver import Client, Conversation
from mcp_harness.report import public_url
from mcp_harness.wire import Redactor

if TYPE_CHECKING:
    from mcp_harness.plugin import Harness
    from mcp_harness.profile import Target

Json = Any
SESSION_HEADER = "mcp-session-id"
RELEASED = versions.names()
INLINE_BODY = 2000  # bytes: a longer (or binary) body is rebuilt by a python one-liner in the reproduction
SHOWN = 300  # characters of an answer shown in the reproduction
SHRINK_FACTOR = 2.0  # after a failure, shrinking may take this many times the generation budget


# --- hypothesis-jsonschema 0.23.1 on Hypothesis 6.170 -------------------------------------------------------------


class _LegacyMany(conjecture.many):
    """hypothesis-jsonschema 0.23.1 drives `many` with `.more()`; Hypothesis 6.170 (both pinned) made it an
    iterator used inside `with`. This adapter gives it the old call, so object schemas generate at all."""

    _elements: Iterator[None] | None = None

    def more(self) -> bool:
        if self._elements is None:
            self.__enter__()
            self._elements = iter(self)
        if next(self._elements, StopIteration) is StopIteration:
            self.__exit__(None)
            return False
        return True


# Only hypothesis-jsonschema's view of the module changes; Hypothesis itself is untouched.
_from_schema.cu = types.SimpleNamespace(**{**vars(conjecture), "many": _LegacyMany})


# --- failures, budget, rate cap -----------------------------------------------------------------------------------


class PropertyFailure(AssertionError):
    """A property does not hold; carries the exchanges of the example it failed in."""

    def __init__(self, message: str, journal: list[core.Exchange]) -> None:
        super().__init__(message)
        self.journal = journal


class Pacer:
    """Called before each HTTP request of a property check: keeps to the rate cap and journals the exchange."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()
        self.journal: list[core.Exchange] = []
        self.requests = 0

    def __call__(self, exchange: core.Exchange) -> None:
        with self.lock:
            now = time.monotonic()
            wait = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
            self.journal.append(exchange)
            self.requests += 1
        if wait > 0:
            time.sleep(wait)


def _final_replay() -> bool:
    """Whether hypothesis is replaying the shrunk failing case to report it (that run must be real). Reads the
    build context's `is_final`, which Hypothesis (pinned exactly) sets for that replay."""
    try:
        return bool(current_build_context().is_final)
    except HypothesisException:
        return False


class Runner:
    """Runs one property check's hypothesis tests against the target, within its budget.

    Generation stops after `seconds` (later examples pass without sending anything), and after the first failure
    shrinking gets SHRINK_FACTOR times as long; the final replay of the shrunk case always runs.
    """

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.settings = h.target.properties
        self.pacer = Pacer(self.settings.rate)
        self.started = self.began = time.monotonic()  # `started`: of the budget (budget_from_now moves it)
        self.deadline = self.started + self.settings.seconds
        self.failed_at: float | None = None
        self.failure: PropertyFailure | None = None  # the last one seen: reported if replays disagree
        self.examples = 0
        self.clients: list[Client] = []
        self.notes: list[str] = []  # what could not be generated or tested: an info record when all else passes
        self.ended_sessions = 0  # examples after which the server had ended the session (404 to the next request)
        self.kinds: Counter[str] = Counter()  # tool-argument cases sent, by kind (valid, hard, invalid)
        self.cancelled: list[str] = []  # generated calls cancelled at the per-call deadline (tool and arguments)
        self.aliases: dict[str, str] = {}  # session id → shell variable, for sessions opened outside the examples
        self.shared: dict[str, Conversation] = {}  # label → a session kept across examples

    def live(self) -> bool:
        if _final_replay():
            return True
        now = time.monotonic()
        if self.failed_at is not None:
            return now < self.failed_at + SHRINK_FACTOR * self.settings.seconds
        return now < self.deadline

    def begin(self, bounded: bool = True) -> bool:
        """Start an example: forget the last one's sessions; False when it must not send anything (past the
        budget, unless not `bounded`: a fixed case)."""
        self._drop_clients()
        self.pacer.journal.clear()
        if bounded and not self.live():
            return False
        self.examples += 1
        return True

    def share(self, parts: int) -> None:
        """Give the next of `parts` remaining parts of the check (one tool each) its share of the time left."""
        now = time.monotonic()
        self.deadline = now + max(0.0, self.started + self.settings.seconds - now) / parts

    def client(self) -> Client:
        c = self.h.client(before_send=self.pacer)
        self.clients.append(c)
        return c

    def end(self) -> None:
        """Close the example's sessions (DELETE); their records stay for the wire log until the next example."""
        for c in self.clients:
            c.close()

    def _drop_clients(self) -> None:
        for c in self.clients:
            self.h.release(c)  # its violations are kept for attribution; its sessions leave the wire log
        self.clients.clear()

    def fail(self, message: str) -> NoReturn:
        if self.failed_at is None:
            self.failed_at = time.monotonic()
        self.failure = PropertyFailure(message, list(self.pacer.journal))
        raise self.failure

    def fixed_only(self) -> hypothesis.settings:
        """Settings that run only a test's explicit examples: fixed cases, each sent whatever the budget."""
        return self.hypothesis_settings(phases=(Phase.explicit,))

    def shared_session(self, label: str) -> Conversation:
        """A session kept across examples (fixed cases: fewer requests under the rate cap), opened again once the
        server ended it; `close_shared` ends it. The reproduction names it as a session to set."""
        conv = self.shared.get(label)
        if conv is None or conv.core.gone:
            conv = self.h.client(before_send=self.pacer).session(label=label)
            conv.initialize()
            self.shared[label] = conv
            self.aliases[conv.core.session_id or ""] = f"S_{len(self.aliases) + 1}"
        return conv

    def close_shared(self) -> None:
        for conv in self.shared.values():
            conv.close()
        self.shared.clear()

    def budget_from_now(self) -> None:
        """The generated examples' budget starts now (after the fixed cases, which it does not cover)."""
        self.started = time.monotonic()
        self.deadline = self.started + self.settings.seconds

    def hypothesis_settings(self, examples: int | None = None, **extra: Any) -> hypothesis.settings:
        return hypothesis.settings(
            max_examples=examples or self.settings.examples,
            deadline=None,
            database=None,  # reproducible from the seed alone; nothing written into the user's directory
            print_blob=False,
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
            derandomize=False,  # the seed decides (Hypothesis's own CI profile would derandomise otherwise)
            verbosity=Verbosity.normal,  # attaches the shrunk case to the exception
            # The loaded profile's phases (a profile may drop explicit examples), never explain: it replays a lot.
            **{"phases": tuple(p for p in hypothesis.settings.default.phases if p is not Phase.explain), **extra},
        )

    def given(self, test: Callable[..., None]) -> None:
        """Run a @given test under the run's seed; a property failure fails the check."""
        self._judged(hypothesis.seed(self.settings.seed)(test))

    def machine(self, machine: type[RuleBasedStateMachine], steps: int) -> None:
        """Run a state machine under the run's seed; a property failure fails the check."""
        seeded = hypothesis.seed(self.settings.seed)(machine)
        settings = self.hypothesis_settings(stateful_step_count=steps)
        self._judged(lambda: run_state_machine_as_test(seeded, settings=settings))

    def _judged(self, test: Callable[[], None]) -> None:
        try:
            test()
        except PropertyFailure as e:
            self.h.fail(self.report(e))
        except Flaky:
            # Replays disagreed: the failure hangs on time (an idle timeout) or on what the server kept from earlier
            # examples. It was seen all the same; report the last one, unshrunk.
            if self.failure is None:
                raise
            self.h.fail(self.report(self.failure, "not shrunk: replays differ, as it depends on time or server state"))

    def report(self, failure: PropertyFailure, remark: str = "") -> str:
        """The failure, the shrunk case, a command that replays it, and its exchanges as curl commands."""
        notes = [n.removeprefix("Failing test case: ") for n in getattr(failure, "__notes__", [])]
        notes = [n for n in notes if n != "<state machine>"]
        lines = [str(failure) + (f" ({remark})" if remark else "")]
        if notes:
            lines += ["shrunk case:", *(f"    {line}" for n in notes for line in n.splitlines())]
        lines.append(f"replay: {self.command()}")
        lines.append("the exchange, as curl commands:")
        lines.append(
            reproduction(failure.journal, self.h.state.config.url, self.h.state.config.redactor(), self.aliases)
        )
        return "\n".join(lines)

    def command(self) -> str:
        """The command line that reruns this check with the same seed and budget."""
        option = self.h.config.option if self.h.config else None
        args = ["mcp-harness", "conformance"]
        if self.h.state.server is None:
            args += ["--url", public_url(self.h.state.config.url)]
        flags = ("profile", "spec_version", "idle_timeout", "property_budget", "property_rate", "property_call_timeout")
        for flag in flags:
            value = getattr(option, flag, None)
            if value is not None:
                args += [f"--{flag.replace('_', '-')}", str(value)]
        if not self.settings.malformed:
            args.append("--no-property-malformed")
        if self.settings.oversized:
            args.append("--property-oversized")
        args += ["--check", self.h.requirement.id, "--seed", str(self.settings.seed)]
        return shlex.join(args) + (" (and your --header options)" if self.h.state.config.headers else "")

    def summary(self, what: str) -> str:
        spent = time.monotonic() - self.began
        text = f"{self.examples} {what} ({self.pacer.requests} requests, {spent:.1f}s, seed {self.settings.seed})"
        if self.cancelled:
            shown = "; ".join(self.cancelled[:3]) + (" …" if len(self.cancelled) > 3 else "")
            text += (
                f"; {len(self.cancelled)} call(s) not answered within {self.settings.call_timeout:g}s, cancelled "
                f"with notifications/cancelled (not a failure): {shown}"
            )
        return text


# --- reproduction -------------------------------------------------------------------------------------------------


def reproduction(
    journal: list[core.Exchange], url: str, redactor: Redactor, aliases: Mapping[str, str] | None = None
) -> str:
    """A shell script of curl commands sending exactly what the example sent, each followed by what came back.

    Session ids issued during the script are captured into variables; secrets become environment variables."""
    used = {v for ex in journal for k, v in ex.http.headers.items() if k.lower() == SESSION_HEADER}
    variables = {sid: name for sid, name in (aliases or {}).items() if sid in used}
    secrets: set[str] = set()
    lines = [f"URL=${{URL:-{shlex.quote(public_url(url))}}}"]
    lines += [f"# {name}: a session opened before this case (set it yourself)" for name in variables.values()]
    for ex in journal:
        lines += _curl(ex, variables, secrets, redactor)
    return "\n".join([*(f"# set {name} (a secret header of yours)" for name in sorted(secrets)), *lines])


def _curl(ex: core.Exchange, variables: dict[str, str], secrets: set[str], redactor: Redactor) -> list[str]:
    args = ["curl", "-sS", "-X", ex.http.method, '"$URL"']
    for name, value in ex.http.headers.items():
        if name.lower() == "user-agent":
            continue
        args += ["-H", _header(name, value, variables, secrets, redactor)]
    before, body = _body(ex.http.body, redactor)
    args += body
    issued = ex.headers.get(SESSION_HEADER) if ex.purpose == "initialize" else None
    if issued and issued not in variables:
        name = variables[issued] = f"S{sum(v.startswith('S') for v in variables.values()) + 1}"
        command = f"{name}=$({before}{' '.join(args)} -D - -o /dev/null | tr -d '\\r' | "
        command += "awk -F': ' 'tolower($1)==\"mcp-session-id\" {print $2}')"
    else:
        command = before + " ".join([*args, "-i"]) + (" --max-time 2" if ex.http.method == "GET" else "")
    return [command, f"#   ← {_answer(ex, redactor)}"]


def _header(name: str, value: str, variables: Mapping[str, str], secrets: set[str], redactor: Redactor) -> str:
    if name.lower() == SESSION_HEADER and value in variables:
        return f'"{name}: ${variables[value]}"'
    if name.lower() in redactor.names:
        secret = "HDR_" + "".join(c if c.isalnum() else "_" for c in name.upper())
        secrets.add(secret)
        return f'"{name}: ${secret}"'
    return shlex.quote(f"{name}: {redactor.scrub(value)}")


def _body(body: bytes | None, redactor: Redactor) -> tuple[str, list[str]]:
    """(what to pipe in front of curl, curl's body arguments)."""
    if not body:
        return "", []
    try:
        text = redactor.scrub(body.decode("utf-8"))
    except UnicodeDecodeError:
        text = None
    if text is not None and len(body) <= INLINE_BODY and text.isprintable():
        return "", ["--data-binary", shlex.quote(text)]
    packed = base64.b64encode(zlib.compress(body if text is None else text.encode(), 9)).decode()
    script = f"import sys,zlib,base64; sys.stdout.buffer.write(zlib.decompress(base64.b64decode('{packed}')))"
    return f"python3 -c {shlex.quote(script)} | ", ["--data-binary", "@-"]


def _answer(ex: core.Exchange, redactor: Redactor) -> str:
    if ex.status is None:
        return "no answer (the connection failed or timed out)"
    shown = " ".join(json.dumps(m, ensure_ascii=False) for m in ex.messages) or bytes(ex.body).decode(
        "utf-8", "replace"
    )
    shown = redactor.scrub(shown)
    shown = shown if len(shown) <= SHOWN else shown[:SHOWN] + "…"
    return f"HTTP {ex.status} {ex.content_type or '(no content type)'} {shown}".rstrip()


# --- tools and their arguments ------------------------------------------------------------------------------------

# 2019-09 / 2020-12 keywords hypothesis-jsonschema (draft-04 to draft-07) does not know: it would ignore them.
UNSUPPORTED = frozenset(
    {
        "prefixItems",
        "dependentRequired",
        "dependentSchemas",
        "unevaluatedProperties",
        "unevaluatedItems",
        "minContains",
        "maxContains",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$anchor",
        "contentSchema",
    }
)
NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


def generated_tools(tools: Mapping[str, Json], target: Target) -> tuple[list[Json], list[str]]:
    """The tools that get generated arguments — those `[properties] tools` lists (destructive or not), else every
    tool the harness may call (discovery.may_call) — and a word on the ones that do not."""
    allowed = target.properties.tools
    if allowed is not None:
        chosen = [tool for name, tool in tools.items() if name in allowed]
        missing = [n for n in allowed if n not in tools]
        return chosen, [f"{name} (listed in [properties] tools, not offered by the server)" for name in missing]
    chosen, skipped = [], []
    for name, tool in tools.items():
        why = may_call(tool, target)
        if why:
            skipped.append(f"{name} ({why})")
        else:
            chosen.append(tool)
    return chosen, skipped


Case = tuple[str, str, Json]  # (kind: valid | hard | invalid, what the case is, the arguments)


@dataclass
class Arguments:
    """How a tool's arguments are generated: random valid ones from `strategy`, the fixed hard-but-valid and
    invalid cases; `note` says what could not be honoured (an info record)."""

    tool: str
    strategy: st.SearchStrategy[Json] | None
    note: str | None = None
    fixed: list[Case] = field(default_factory=list)

    def cases(self) -> st.SearchStrategy[Case] | None:
        """Random valid cases (the fixed ones go in as explicit examples)."""
        if self.strategy is None:
            return None
        return self.strategy.map(lambda args: ("valid", "", args))


def _keywords(node: Json, names: bool = False) -> Iterator[str]:
    """Every keyword used in a schema (not the property names of `properties` and the like)."""
    if isinstance(node, list):
        for item in node:
            yield from _keywords(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if not names:
                yield key
            yield from _keywords(value, names=not names and key in NAME_MAPS)


def _without(node: Json, drop: frozenset[str], names: bool = False) -> Json:
    if isinstance(node, list):
        return [_without(item, drop) for item in node]
    if isinstance(node, dict):
        return {
            k: _without(v, drop, names=not names and k in NAME_MAPS) for k, v in node.items() if names or k not in drop
        }
    return node


def schema_validator(tool_schema: Json, version: str) -> jsonschema.protocols.Validator:
    """The validator of the schema's dialect: its `$schema`, else 2020-12 from 2025-11-25 (draft-07 before)."""
    return instances.validator(tool_schema, instances.modern_dialect(version))


def _usable(strategy: st.SearchStrategy[Json]) -> str | None:
    """None when the strategy generates a value; else why it cannot (its error, or nothing valid)."""

    @hypothesis.settings(
        database=None, max_examples=3, phases=(Phase.generate,), deadline=None, suppress_health_check=list(HealthCheck)
    )
    @hypothesis.given(strategy)
    def probe(value: Json) -> None:
        pass

    try:
        probe()
    except Exception as e:  # any error of the generator means it cannot handle this schema
        return f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
    return None


def arguments(tool: Json, version: str) -> Arguments:
    """Arguments from the tool's inputSchema with hypothesis-jsonschema, kept only when valid against the schema in
    its own dialect; keywords it does not know are named and left out of generation (the filter still applies)."""
    name, given = tool["name"], tool.get("inputSchema")
    if not isinstance(given, dict):
        return Arguments(name, None, f"{name}: its inputSchema is not a JSON Schema object ({given!r:.60})")
    try:
        valid = schema_validator(given, version)
        valid.check_schema(given)
    except jsonschema.SchemaError as e:
        return Arguments(name, None, f"{name}: its inputSchema is not a valid schema ({e.message[:120]})")
    strategy, why = strategy_for(given, valid)
    if strategy is None:
        return Arguments(name, None, f"{name}: no valid arguments could be generated ({why})")
    note = f"{name}: hypothesis-jsonschema {why}; generated without it, keeping only valid arguments" if why else None
    modern = instances.modern_dialect(version)
    try:
        fixed = [("hard", *c) for c in instances.hard_arguments(tool, modern)]
        fixed += [("invalid", *c) for c in instances.invalid_arguments(tool, modern)]
    except instances.Unsatisfiable as e:
        fixed, note = [], "; ".join(filter(None, [note, f"{name}: no hard or invalid cases ({e})"]))
    return Arguments(name, strategy, note, fixed)


def strategy_for(given: Json, valid: jsonschema.protocols.Validator) -> tuple[st.SearchStrategy[Json] | None, str]:
    """A strategy of instances valid against `given` and what it could not honour ('' when nothing): keywords
    hypothesis-jsonschema does not know are left out of generation, then (for an object schema) any object is
    tried; the filter keeps only valid instances. (None, why) when neither generates anything."""
    unknown = sorted(UNSUPPORTED.intersection(_keywords(given)))
    attempts = [_without(given, frozenset(unknown)) if unknown else given]
    if isinstance(given, dict) and given.get("type") == "object":
        attempts.append({"type": "object"})
    problems = []
    for attempt in attempts:
        strategy = from_schema(attempt).filter(valid.is_valid)
        problem = _usable(strategy)
        if problem is None:
            return strategy, f"does not handle {', '.join(unknown)}" if unknown else (problems[0] if problems else "")
        problems.append(problem)
    return None, problems[0]


# --- malformed input ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Malformed:
    """One malformed request: its body and the header changes (None removes a header)."""

    kind: str  # json | shape | batch | oversized | content-type | accept | version-header | session-header
    what: str
    body: bytes
    headers: tuple[tuple[str, str | None], ...] = ()
    strict: bool = True  # JSON-RPC 2.0 itself rejects the body: serving it is a failure
    request: bool = False  # the body is a valid request and only a header is off: serving it is fine

    def __repr__(self) -> str:  # the shrunk case is printed with it: keep megabytes out
        body = repr(self.body) if len(self.body) <= 200 else f"<{len(self.body)} bytes>"
        return f"Malformed({self.kind!r}, {self.what!r}, body={body}, headers={self.headers!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # what hypothesis's pretty-printer calls
        printer.text(repr(self))


PING_ID = 7  # the id of the valid request malformed cases start from
PING = {"jsonrpc": "2.0", "id": PING_ID, "method": "ping"}
BAD_UTF8 = (b"\xff", b"\xc3\x28", b"\xf8\x88\x80\x80\x80")  # a byte never in UTF-8, a broken sequence, a 5-byte form
OVERSIZED = (2**20, 2**22 + 1, 2**24)  # bytes of padding: 1 MiB, just over 4 MiB, 16 MiB (--property-oversized)
MAX_BODY = 2**16  # bytes: no other malformed body is longer
VISIBLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


def _dumps(value: Json) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _parses(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _invalid_json() -> st.SearchStrategy[Malformed]:
    valid = _dumps(PING)
    return st.one_of(
        st.integers(0, len(valid) - 1).map(lambda n: Malformed("json", f"truncated after {n} bytes", valid[:n])),
        st.tuples(st.integers(0, len(valid)), st.sampled_from(BAD_UTF8)).map(
            lambda c: Malformed("json", f"invalid UTF-8 {c[1]!r} at {c[0]}", valid[: c[0]] + c[1] + valid[c[0] :])
        ),
        st.binary(min_size=1, max_size=64)
        .filter(lambda b: not _parses(b))
        .map(lambda b: Malformed("json", "bytes that are not JSON", b)),
    )


def _jsonrpc_invalid(field_name: str, value: Json) -> bool | None:
    """Whether JSON-RPC 2.0 itself rejects `value` in `field_name` (True), MCP alone does (False), or it is valid."""
    if field_name == "jsonrpc":
        return None if value == "2.0" else True
    if field_name == "method":
        return None if isinstance(value, str) else True
    if field_name == "id":
        if isinstance(value, (bool, list, dict)):
            return True
        return False if value is None or isinstance(value, float) else None
    if isinstance(value, dict):  # params
        return None
    return not (value is None or isinstance(value, list))  # null or an array: MCP alone rules them out


def _shape(version: str) -> st.SearchStrategy[Malformed]:
    values = from_schema({})  # any JSON value

    def replaced(choice: tuple[str, Json]) -> Malformed:
        name, value = choice
        strict = _jsonrpc_invalid(name, value)
        return Malformed(
            "shape", f"{name} is {json.dumps(value)[:60]}", _dumps({**PING, name: value}), strict=bool(strict)
        )

    return st.one_of(
        st.tuples(st.sampled_from(("jsonrpc", "method", "id", "params")), values)
        .filter(lambda c: _jsonrpc_invalid(*c) is not None)
        .map(replaced),
        st.sampled_from(("jsonrpc", "method")).map(
            lambda n: Malformed("shape", f"no {n}", _dumps({k: v for k, v in PING.items() if k != n}))
        ),
    )


def _not_an_object(version: str) -> st.SearchStrategy[Malformed]:
    """A body that is JSON but no object: a batch (gone since 2025-06-18, but how a server refuses one is not
    specified: recorded, not judged) or a bare value."""
    batching = versions.revision(version).batching  # batches are ordinary input where the revision has them
    batch = st.nothing() if batching else st.lists(st.just(PING), min_size=1, max_size=3)
    bare = from_schema({}).filter(lambda v: not isinstance(v, dict) and not (isinstance(v, list) and v))
    return st.one_of(
        batch.map(lambda v: Malformed("batch", f"a batch of {len(v)} ping(s)", _dumps(v), strict=False)),
        bare.map(lambda v: Malformed("shape", f"a JSON {type(v).__name__}, no object", _dumps(v))),
    )


def _oversized() -> st.SearchStrategy[Malformed]:
    def padded(size: int) -> Malformed:
        body = _dumps({**PING, "params": {"mcp-harness-padding": "x" * size}})
        return Malformed("oversized", f"a ping of {len(body)} bytes", body, strict=False, request=True)

    return st.sampled_from(OVERSIZED).map(padded)


def _header_cases(version: str) -> st.SearchStrategy[Malformed]:
    token = st.text(VISIBLE, min_size=1, max_size=40)
    ping = _dumps(PING)

    def case(kind: str, name: str, request: bool) -> Callable[[str | None], Malformed]:
        return lambda v: Malformed(kind, f"{name}: {v!r}", ping, ((name, v),), strict=False, request=request)

    cases = [
        st.one_of(st.none(), st.sampled_from(("text/plain", "application/x-www-form-urlencoded")), token)
        .filter(lambda v: v is None or core.media_type(v) != core.JSON)
        .map(case("content-type", "Content-Type", True)),
        st.one_of(st.none(), st.sampled_from(("text/html", "application/xml")), token)
        .filter(lambda v: v is None or not {core.JSON, core.SSE, "*/*"} & {core.media_type(p) for p in v.split(",")})
        .map(case("accept", "Accept", True)),
        token.filter(lambda v: v not in RELEASED).map(case("session-header", "MCP-Session-Id", False)),
    ]
    if versions.revision(version).sends_version_header:  # else there is no such header to get wrong
        cases.append(
            token.filter(lambda v: v not in RELEASED).map(case("version-header", "MCP-Protocol-Version", False))
        )
    return st.one_of(cases)


def malformed_requests(version: str, oversized: bool = False) -> st.SearchStrategy[Malformed]:
    """Malformed requests, every body at most MAX_BODY bytes unless `oversized` adds the 1, 4 and 16 MiB ones."""
    cases = [_invalid_json(), _shape(version), _not_an_object(version), _header_cases(version)]
    return st.one_of(*cases, _oversized()) if oversized else st.one_of(cases)


def batch_answer(ex: core.Exchange) -> str:
    """What a server did with a batch body, in a few words (recorded, not judged)."""
    results = sum(1 for m in ex.messages if isinstance(m, dict) and "result" in m)
    errors = sum(1 for m in ex.messages if isinstance(m, dict) and "error" in m)
    return (
        f"HTTP {ex.status}" + (f", {results} result(s)" if results else "") + (f", {errors} error(s)" if errors else "")
    )


def judge_malformed(case: Malformed, ex: core.Exchange, version: str) -> str | None:
    """What is wrong with the answer to a malformed request, or None. (Session-header cases are for servers that
    issue session ids.)"""
    status = ex.status or 0
    messages = [m for m in ex.messages if isinstance(m, dict)]
    results = [m for m in messages if "result" in m]
    errors = [m for m in messages if "error" in m]
    problems = [p for m in errors for p in schema.validate_response(version, _without_null_id(m), None)]
    if case.kind == "version-header":
        return None if status == 400 else f"answered HTTP {status}, not 400"
    if status >= 500 or status < 200 or 300 <= status < 400:
        return f"answered HTTP {status}"
    if problems:
        return "its error response does not match the schema: " + "; ".join(problems[:2])
    if status >= 400:
        return None if status != 404 or case.kind == "session-header" else "answered 404 (session gone) to garbage"
    return _judge_accepted(case, ex, results, errors)


def _without_null_id(message: Json) -> Json:
    """JSON-RPC 2.0 answers an unreadable request with `"id": null`, which MCP's schemas (no id, or a string or
    integer) do not foresee: either will do, so a null id is validated as if it were a readable one."""
    return {**message, "id": 0} if "id" in message and message["id"] is None else message


def _judge_accepted(case: Malformed, ex: core.Exchange, results: list[Json], errors: list[Json]) -> str | None:
    if case.request:
        if not results and not errors:
            return f"answered HTTP {ex.status} without a JSON-RPC response"
        return None if ex.content_type in (core.JSON, core.SSE) else f"answered with Content-Type {ex.content_type!r}"
    if case.kind == "json":
        return None if errors else f"invalid JSON answered HTTP {ex.status} without a JSON-RPC error"
    if case.kind == "session-header" and results:
        return "a session id the server never issued was served (a result came)"
    if case.strict and results:
        return f"answered HTTP {ex.status} with a result: served as if valid"
    if ex.status == 202 and ex.body:
        return "answered 202 with a body"
    return None


# --- JSON-RPC error codes -----------------------------------------------------------------------------------------

METHOD_NOT_FOUND, INVALID_PARAMS = -32601, -32602
# A valid params object per method, to break one way at a time (tools/call's name is filled from tools/list).
BASE_PARAMS: dict[str, dict[str, Json]] = {
    "ping": {},
    "tools/list": {},
    "tools/call": {"name": "", "arguments": {}},
    "logging/setLevel": {"level": "info"},
}
NEEDS = {"tools/list": "tools", "tools/call": "tools", "logging/setLevel": "logging"}  # the capability each needs
WRONG_KINDS = {  # JSON types no lenient parser turns into the declared one
    "string": ("object", "array"),
    "integer": ("object", "array"),
    "number": ("object", "array"),
    "boolean": ("object", "array"),
    "object": ("string", "integer", "array"),
    "array": ("string", "object"),
}


@dataclass(frozen=True)
class Call:
    """A request that must get a JSON-RPC error with `expect` as its code."""

    method: str
    params: Json
    expect: int
    what: str = field(default="", compare=False)


def known_methods() -> frozenset[str]:
    names: set[str] = set()
    for version in schema.VERSIONS:
        names.update(schema.methods(version))
    return frozenset(names)


def _unknown_methods() -> st.SearchStrategy[Call]:
    known = known_methods()
    return (
        st.text(max_size=40)
        .filter(lambda m: m not in known)
        .map(lambda m: Call(m, None, METHOD_NOT_FOUND, f"unknown method {m!r}"))
    )


def _breakages(version: str, method: str) -> list[tuple[str, str, str]]:
    """(how, property, wrong JSON type or '') for each way to break the method's params: drop a required
    property, give a property a JSON type its schema rules out, or a string outside its enum."""
    required, props = schema.params_spec(version, method)
    found = [("drop", name, "") for name in required]
    for name, spec in sorted(props.items()):
        kinds = spec.get("type")
        if isinstance(kinds, str):
            found += [("retype", name, wrong) for wrong in WRONG_KINDS.get(kinds, ())]
        if isinstance(spec.get("enum"), list):
            found.append(("enum", name, "string"))
    return found


def _broken(method: str, base: dict[str, Json], breakage: tuple[str, str, str]) -> st.SearchStrategy[Call]:
    how, name, kind = breakage
    if how == "drop":
        params = {k: v for k, v in base.items() if k != name}
        return st.just(Call(method, params, INVALID_PARAMS, f"{method} without {name}"))
    values = from_schema({"type": kind}) if how == "retype" else st.text(VISIBLE, min_size=1, max_size=20)
    return values.map(lambda v: Call(method, {**base, name: v}, INVALID_PARAMS, f"{method} with {name}={v!r:.40}"))


def error_calls(version: str, capabilities: Mapping[str, Json], tool: str | None) -> st.SearchStrategy[Call]:
    """Unknown methods (→ -32601) and, for the methods the server offers, params that break their schema (→ -32602),
    each kept only if the version's schema indeed rejects them."""
    broken = []
    for method, base in BASE_PARAMS.items():
        if (NEEDS.get(method) and NEEDS[method] not in capabilities) or (method == "tools/call" and tool is None):
            continue
        base = {**base, "name": tool} if method == "tools/call" else base
        broken += [_broken(method, base, b) for b in _breakages(version, method)]
    invalid = st.one_of(broken).filter(lambda c: not schema.params_valid(version, c.method, c.params))
    return st.one_of(_unknown_methods(), invalid) if broken else _unknown_methods()


def judge_error(call: Call, ex: core.Exchange, request_id: int) -> str | None:
    status = ex.status or 0
    if status >= 500 or status == 404 or status < 200:
        return f"answered HTTP {status}"
    answers = [m for m in ex.messages if isinstance(m, dict) and ("result" in m or "error" in m)]
    if not answers:
        return f"answered HTTP {status} without a JSON-RPC response"
    answer = answers[0]
    if "error" not in answer:
        return f"answered with a result, not error {call.expect}: {json.dumps(answer)[:120]}"
    error = answer.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    shown_code = code if isinstance(code, int) and not isinstance(code, bool) else f"code {json.dumps(code)}"
    problems = [f"answered error {shown_code}, not {call.expect}"] if code != call.expect else []
    if answer.get("id") != request_id:
        shown = "null" if answer.get("id") is None else json.dumps(answer.get("id"))
        problems.append(f"the error carries id {shown}, not the request's {request_id}, which was readable")
    return "; ".join(problems) or None
