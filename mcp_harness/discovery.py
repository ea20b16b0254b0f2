"""Which of the server's tools play the round-trip roles, found by observation (DESIGN principle 7).

A role's tool is the one the profile names, else the one with the official fixture name; a role still without a
tool is looked for among the tools the harness may call — those the profile names, those with a fixture name,
those annotated `readOnlyHint: true`, never one annotated `destructiveHint: true` unless the profile names it —
by calling each once, with arguments built from its inputSchema, in a session whose client declares every
capability, and watching what it sends: `elicitation/create`, `sampling/createMessage`, progress for our token.
The report says, per role, the tool used and how it was found, and prints the `[tools.*]` snippet that pins them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from mcp_harness import core
from mcp_harness.driver import Client, HarnessError
from mcp_harness.instances import Unsatisfiable, tool_arguments
from mcp_harness.profile import DEFAULT_TOOLS, Target, ToolSpec
from mcp_harness.scenarios import list_tools, modern_tools

ROLES = ("progress", "elicitation", "sampling", "slow")  # the roles of the conformance checks
SIGNS = {"elicitation": "elicitation/create", "sampling": "sampling/createMessage"}  # role → the request it sends
MAX_CALLS = 20  # tools called at most while looking
SLOW_ENOUGH = 1.0  # seconds: a progress tool this slow can be cancelled and resumed mid-call
FIXTURE_NAMES = frozenset(name for name, _, _ in DEFAULT_TOOLS.values())


@dataclass
class Found:
    tool: ToolSpec
    how: str  # "profile", "fixture name" or "observed"


@dataclass
class Roles:
    found: dict[str, Found] = field(default_factory=dict)
    called: dict[str, str] = field(default_factory=dict)  # tool → what its call showed
    skipped: list[str] = field(default_factory=list)  # tools not called, and why
    note: str = ""  # why nothing was looked for (discovery off, the server lists no tools, …)
    failed: bool = False  # the server did not answer while the tools were listed and tried

    @property
    def observed(self) -> bool:
        """Whether any role's tool was found by calling it (then the snippet that pins it is worth printing)."""
        return any(f.how == "observed" for f in self.found.values())

    def missing(self, role: str) -> str:
        """Why `role` has no tool, for a not-testable reason."""
        if self.note:
            return self.note
        tried = ", ".join(f"{name} ({what})" for name, what in self.called.items()) or "none"
        sign = SIGNS.get(role, "progress notifications" if role == "progress" else "progress for over a second")
        return f"no tool the harness may call sent {sign} when called (called: {tried})"

    def lines(self) -> list[str]:
        """For the run's notes: every tool called, and per role the tool and how it was found."""
        out = [f"{role}: {f.tool.name} ({f.how})" for role, f in self.found.items()]
        if self.called:
            out.append("tools called to find roles: " + "; ".join(f"{n} → {w}" for n, w in self.called.items()))
        if self.skipped:
            out.append("not called: " + ", ".join(self.skipped))
        return out

    def snippet(self) -> str:
        """The [tools.*] tables that pin what was found, for a profile."""
        parts = []
        for role, f in self.found.items():
            args = "" if f.tool.arguments is None else f"arguments = {_toml_inline(f.tool.arguments)}\n"
            parts.append(f'[tools.{role}]\nname = "{f.tool.name}"\n{args}')
        return "\n".join(parts)


def _toml_inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # strings and numbers: JSON's spelling is TOML's (null has none: not expected here)


def may_call(tool: dict[str, Any], target: Target) -> str | None:
    """None if the harness may call `tool` to see what it does; else why not."""
    named = {t.name for role, t in target.tools.items() if role in target.tools_named}
    named |= set(target.properties.tools or ())
    hints = tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}
    if tool["name"] in named:
        return None  # the user asked for it, destructive or not
    if hints.get("destructiveHint") is True:
        return "destructiveHint"
    if tool["name"] in FIXTURE_NAMES or hints.get("readOnlyHint") is True:
        return None
    return "not annotated readOnlyHint"


def discover(client: Client, target: Target, modern: bool, enabled: bool = True) -> Roles:
    roles = Roles()
    conv = client.session(label="role discovery")  # the default handlers declare elicitation, sampling, roots
    conv.initialize()
    conv.open_stream().wait_open(client.config.timeout)  # a request sent on the GET stream is answered there too
    listed = list_tools(conv)
    for role in ROLES:
        spec = target.tools[role]
        if role in target.tools_named:
            roles.found[role] = Found(spec, "profile")
        elif spec.name in listed:
            roles.found[role] = Found(spec, "fixture name")
    wanted = [r for r in ROLES if r not in roles.found]
    if not wanted:
        return roles
    if not enabled:
        roles.note = "role discovery is off (--no-discover); name a tool in [tools.<role>]"
        return roles
    candidates = []
    for tool in listed.values():
        why = may_call(tool, target)
        if why:
            roles.skipped.append(f"{tool['name']} ({why})")
        else:
            candidates.append(tool)
    if not candidates:
        roles.note = "the server lists no tool the harness may call to find one" + (
            f" (not called: {', '.join(roles.skipped)})" if roles.skipped else ""
        )
        return roles
    for tool in candidates[:MAX_CALLS]:
        if not any(r not in roles.found for r in wanted):
            break
        _try(conv, tool, roles, wanted, modern)
    return roles


def _try(conv: Any, tool: dict[str, Any], roles: Roles, wanted: list[str], modern: bool) -> None:
    name = tool["name"]
    try:
        arguments = tool_arguments(tool, {}, modern)
    except Unsatisfiable as e:
        roles.called[name] = f"not called: {e}"
        return
    seen = len(conv.core.timeline)  # what arrives from now on, on any of the session's streams
    started = time.monotonic()
    try:
        ex = conv.request("tools/call", {"name": name, "arguments": arguments}, progress=True)
    except HarnessError as e:
        roles.called[name] = f"no answer ({e})"
        return
    took = time.monotonic() - started
    token = ex.message["params"]["_meta"]["progressToken"]
    new = [m for kind, _, m in conv.core.timeline[seen:] if kind == "received" and isinstance(m, dict)]
    sent = {m.get("method") for m in new if "method" in m}
    progress = sum(1 for m in new if core.as_object(m.get("params")).get("progressToken") == token)
    response = conv.core.responses.get(ex.request_id) or {}
    failed = core.as_object(response.get("result")).get("isError")
    outcome = "error" if "error" in response else "isError" if failed else "ok"
    shown = [s for s in SIGNS.values() if s in sent] + ([f"{progress} progress"] if progress else [])
    roles.called[name] = f"{outcome}, {took:.1f}s" + (f", sent {', '.join(shown)}" if shown else "")
    spec = ToolSpec(name, None)  # arguments built again where the role is used: the same bytes
    for role, method in SIGNS.items():
        if role in wanted and role not in roles.found and method in sent:
            roles.found[role] = Found(spec, "observed")
    if progress and "progress" in wanted and "progress" not in roles.found:
        roles.found["progress"] = Found(spec, "observed")
    if progress and took >= SLOW_ENOUGH and "slow" in wanted and "slow" not in roles.found:
        roles.found["slow"] = Found(spec, "observed")


# --- 2026-07-28: which tools ask for input through MRTR --------------------------------------------------------

# What an inputRequests entry asks for, by its method (basic/patterns/mrtr § InputRequests).
INPUT_KINDS = {"elicitation/create": "elicitation", "sampling/createMessage": "sampling", "roots/list": "roots"}
MRTR_FIXTURES = frozenset({"test_mrtr_elicitation", "test_mrtr_sampling"})  # the reference server's resolver tools
WANTED = ("elicitation", "sampling")  # the kinds the checks use: looking stops once both have a tool


@dataclass
class InputTools:
    """Per input kind (elicitation, sampling, roots) the tool whose modern call asked for it, and its arguments;
    "input": the first tool answered input_required at all."""

    found: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    called: dict[str, str] = field(default_factory=dict)  # tool → what its first call showed
    skipped: list[str] = field(default_factory=list)  # tools not called, and why
    note: str = ""  # why nothing was looked for
    failed: bool = False  # the server did not answer while the tools were listed and tried

    def missing(self, kind: str) -> str:
        if self.note:
            return self.note
        tried = ", ".join(f"{name} ({what})" for name, what in self.called.items()) or "none"
        what = "any input" if kind == "input" else f"{kind} input"
        text = f"no tool the harness may call asked for {what} (input_required) when called (called: {tried})"
        if self.skipped:
            text += f"; not called: {', '.join(self.skipped)} — a tool named in [tools.elicitation] or "
            text += "[tools.sampling] may be called"
        return text


def find_input_tools(conv: Any, target: Target, enabled: bool = True) -> InputTools:
    """Call (first leg only: no retry, so nothing runs past its question) the tools the harness may call, fixture
    names first, with every capability declared, and note which kind of input each asks for."""
    found = InputTools()
    tools, ex = modern_tools(conv)
    listed = list(tools.values())
    if not listed:
        found.note = f"tools/list (modern) listed no tools (HTTP {ex.status})"
        return found
    if not enabled:
        found.note = "role discovery is off (--no-discover)"
    named = {t.name for role, t in target.tools.items() if role in target.tools_named}
    ordered = sorted(listed, key=lambda t: (t["name"] not in named, t["name"] not in MRTR_FIXTURES))
    candidates = []
    for tool in ordered:
        why = may_call(tool, target) or (None if enabled or tool["name"] in MRTR_FIXTURES | named else "discovery off")
        if why:
            found.skipped.append(f"{tool['name']} ({why})")
        else:
            candidates.append(tool)
    for tool in candidates[:MAX_CALLS]:
        if all(kind in found.found for kind in WANTED):
            break
        try:
            arguments = tool_arguments(tool, {}, True)
        except Unsatisfiable as e:
            found.called[tool["name"]] = f"not called: {e}"
            continue
        call = conv.modern("tools/call", {"name": tool["name"], "arguments": arguments})
        result = core.as_object(core.as_object(conv.core.responses.get(call.request_id)).get("result"))
        asked = {
            INPUT_KINDS.get(core.as_object(r).get("method"), "?")
            for r in core.as_object(result.get("inputRequests")).values()
        }
        found.called[tool["name"]] = f"{result.get('resultType', f'HTTP {call.status}')}" + (
            f", asked for {', '.join(sorted(asked))}" if asked else ""
        )
        for kind in asked & set(INPUT_KINDS.values()):
            found.found.setdefault(kind, (tool["name"], arguments))
        if result.get("resultType") == core.INPUT_REQUIRED:  # whatever it asked (or failed to say it asked)
            found.found.setdefault("input", (tool["name"], arguments))
    if found.found:
        found.note = ""
    return found
