"""One deterministic, schema-valid instance of a JSON Schema: the arguments of a tool call whose arguments the
profile does not give (from the tool's `inputSchema`) and the content of an accepted elicitation (from its
`requestedSchema`).

Required properties get a plain valid value — the schema's `default`, `const` or first `enum` value, a value of a
known `format`, the smallest number within the bounds, a string of the allowed length, the simplest string a
`pattern` matches — and optional ones are left out. Whatever that walk cannot satisfy (`uniqueItems`, a `oneOf`
whose first branch overlaps another)
is handed to hypothesis (`from_regex`, or hypothesis-jsonschema for the whole schema), whose simplest example is
deterministic (derandomised, shrunk). The result is
always checked against the whole schema in its own dialect; the same schema gives the same bytes on every run.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import jsonschema

from mcp_harness import versions

Json = Any
FILLER = "mcp-harness"  # the text of a string with no other constraint
FORMATS: dict[str, str] = {  # one valid value per JSON Schema format (2020-12 § 7.3)
    "email": "mcp-harness@example.com",
    "idn-email": "mcp-harness@example.com",
    "uri": "https://example.com/mcp-harness",
    "iri": "https://example.com/mcp-harness",
    "uri-reference": "https://example.com/mcp-harness",
    "iri-reference": "https://example.com/mcp-harness",
    "uri-template": "https://example.com/{id}",
    "url": "https://example.com/mcp-harness",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "date": "2025-01-01",
    "time": "12:00:00Z",
    "date-time": "2025-01-01T12:00:00Z",
    "duration": "P1D",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "regex": "mcp-harness",
    "json-pointer": "/mcp-harness",
    "relative-json-pointer": "0",
}
MAX_DEPTH = 12  # nested schemas deeper than this (or a $ref cycle) are left to hypothesis-jsonschema


class Unsatisfiable(ValueError):
    """No valid instance could be built; the message says why."""


def modern_dialect(version: str | None) -> bool:
    """Whether embedded schemas default to 2020-12 in this protocol version (from 2025-11-25; draft-07 before)."""
    return version is not None and versions.revision(version).modern_schema


def validator(schema: Json, modern: bool) -> jsonschema.protocols.Validator:
    """The validator of the schema's own dialect: its `$schema`, else 2020-12 (`modern`) or draft-07."""
    default = jsonschema.Draft202012Validator if modern else jsonschema.Draft7Validator
    return jsonschema.validators.validator_for(schema, default=default)(schema)


def instance(schema: Json, modern: bool = True) -> Json:
    """A valid instance of `schema` (raises Unsatisfiable). `modern`: the 2020-12 default dialect (2025-11-25 on)."""
    return json.loads(_instance(json.dumps(schema, sort_keys=True), modern))


@functools.lru_cache(maxsize=256)
def _instance(text: str, modern: bool) -> str:  # cached by the schema's text: elicitation answers repeat under load
    schema = json.loads(text)
    if not isinstance(schema, (dict, bool)):
        raise Unsatisfiable(f"not a JSON Schema: {text[:80]}")
    try:
        check = validator(schema, modern)
        check.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise Unsatisfiable(f"not a valid JSON Schema ({e.message[:120]})") from None
    try:
        value = _walk(schema, schema, 0)
    except _GiveUp:
        value = _GiveUp
    if value is _GiveUp or not check.is_valid(value):
        value = _simplest(schema, check)
    return json.dumps(value, sort_keys=True)


class _GiveUp(Exception):
    """The plain walk cannot satisfy this node."""


def _walk(node: Json, root: Json, depth: int) -> Json:
    if depth > MAX_DEPTH:
        raise _GiveUp
    if node is True or node == {}:
        return FILLER
    if node is False or not isinstance(node, dict):
        raise _GiveUp
    if "$ref" in node:
        return _walk(_resolve(node["$ref"], root), root, depth + 1)
    for key in ("default", "const"):
        if key in node:
            return node[key]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return node["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(node.get(key), list) and node[key]:
            branch = node[key][0]
            extra = {k: v for k, v in node.items() if k != key}
            return _walk({**extra, **branch} if isinstance(branch, dict) else branch, root, depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = _implied_type(node)
    if kind == "object":
        return _object(node, root, depth)
    if kind == "array":
        return _array(node, root, depth)
    if kind in ("integer", "number"):
        return _number(node, kind == "integer")
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _string(node)


def _implied_type(node: dict[str, Any]) -> str:
    if {"properties", "required", "additionalProperties"} & node.keys():
        return "object"
    if {"items", "prefixItems", "minItems"} & node.keys():
        return "array"
    if {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"} & node.keys():
        return "number"
    return "string"


def _resolve(ref: Any, root: Json) -> Json:
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise _GiveUp  # a remote reference: not fetched
    node = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise _GiveUp
        node = node[part]
    return node


def _object(node: dict[str, Any], root: Json, depth: int) -> dict[str, Any]:
    props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
    required = [r for r in node.get("required", []) if isinstance(r, str)]
    value = {name: _walk(props.get(name, True), root, depth + 1) for name in required}
    for name, sub in props.items():  # optional properties only as far as minProperties asks
        if len(value) >= node.get("minProperties", 0):
            break
        value.setdefault(name, _walk(sub, root, depth + 1))
    return value


def _array(node: dict[str, Any], root: Json, depth: int) -> list[Any]:
    prefix = node.get("prefixItems") if isinstance(node.get("prefixItems"), list) else []
    count = max(node.get("minItems", 0), node.get("minContains", 1) if "contains" in node else 0)
    items = [_walk(sub, root, depth + 1) for sub in prefix[:count]]
    rest = node.get("contains") if "contains" in node else node.get("items", True)
    items += [_walk(rest, root, depth + 1) for _ in range(count - len(items))]
    if node.get("uniqueItems") and len({json.dumps(i, sort_keys=True) for i in items}) < len(items):
        raise _GiveUp
    return items


def _number(node: dict[str, Any], integer: bool) -> int | float:
    low, high = node.get("minimum"), node.get("maximum")
    if isinstance(node.get("exclusiveMinimum"), (int, float)) and not isinstance(node["exclusiveMinimum"], bool):
        low = node["exclusiveMinimum"] + (1 if integer else 0.5)
    if isinstance(node.get("exclusiveMaximum"), (int, float)) and not isinstance(node["exclusiveMaximum"], bool):
        high = node["exclusiveMaximum"] - (1 if integer else 0.5)
    value: float = low if low is not None else 1 if high is None or high >= 1 else high
    step = node.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0:
        value = math.ceil(value / step) * step
    if integer:
        value = math.ceil(value)
    if high is not None and value > high:
        if low is not None and low > high:
            raise Unsatisfiable(f"its bounds leave no {'integer' if integer else 'number'} ({low} > {high})")
        raise _GiveUp
    return int(value) if integer or float(value).is_integer() else value


def _string(node: dict[str, Any]) -> str:
    low, high = node.get("minLength", 0), node.get("maxLength")
    if isinstance(node.get("pattern"), str):
        return _matching(node["pattern"], low, high)
    text = FORMATS.get(node.get("format", ""), FILLER)
    if high is not None and len(text) > high:
        text = text[:high] if node.get("format") not in FORMATS else _give_up()
    return text + "x" * max(0, low - len(text))


def _give_up() -> str:
    raise _GiveUp


@functools.lru_cache(maxsize=256)
def _matching(pattern: str, low: int, high: int | None) -> str:
    """The simplest string `pattern` matches (anywhere, as JSON Schema's pattern does) within the length bounds."""
    from hypothesis import strategies as st

    try:
        strings = st.from_regex(pattern).filter(lambda t: low <= len(t) <= (high if high is not None else len(t)))
    except Exception:  # a pattern Python's re cannot compile: the full schema goes to hypothesis-jsonschema
        raise _GiveUp from None
    return _find(strings)


def _find(strategy: Any) -> Any:
    """The simplest example of `strategy`, deterministic (derandomised and shrunk); raises _GiveUp if none."""
    import hypothesis
    from hypothesis import HealthCheck, Phase

    settings = hypothesis.settings(
        database=None,
        derandomize=True,
        max_examples=200,
        phases=(Phase.generate, Phase.shrink),
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    try:
        return hypothesis.find(strategy, lambda _: True, settings=settings)
    except Exception:  # NoSuchExample, Unsatisfiable, or a generator's own error on this schema
        raise _GiveUp from None


def _simplest(schema: Json, check: jsonschema.protocols.Validator) -> Json:
    """hypothesis-jsonschema's simplest valid instance, found deterministically (only schemas the plain walk cannot
    satisfy pay for it)."""
    from mcp_harness.properties import strategy_for

    strategy, why = strategy_for(schema, check)
    if strategy is None:
        raise Unsatisfiable(f"hypothesis-jsonschema cannot generate from it ({why})")
    try:
        return _find(strategy)
    except _GiveUp:
        raise Unsatisfiable("neither a plain walk nor hypothesis-jsonschema found a valid instance") from None


def tool_arguments(tool: Json, hints: dict[str, Any], modern: bool = True) -> dict[str, Any]:
    """Arguments for a tool call built from the tool's inputSchema; `hints` (the known arguments of an official
    fixture, e.g. a slower progress tool) are merged in only if the result stays valid."""
    schema = tool.get("inputSchema") if isinstance(tool, dict) else None
    if not isinstance(schema, dict):
        raise Unsatisfiable(f"its inputSchema is not a JSON Schema object ({schema!r:.60})")
    args = instance(schema, modern)
    if not isinstance(args, dict):
        raise Unsatisfiable(f"its inputSchema admits no object ({json.dumps(args)[:60]})")
    merged = {**args, **hints}
    return merged if hints and validator(schema, modern).is_valid(merged) else args


def form_content(requested: Json) -> dict[str, Any]:
    """The content of an accepted form elicitation: every property of `requestedSchema` filled with a valid value
    (a user who answers the whole form), or, if that breaks the schema, what `instance` builds for it."""
    if not isinstance(requested, dict):
        return {}
    props = requested.get("properties") if isinstance(requested.get("properties"), dict) else {}
    try:
        content = {name: instance(prop) for name, prop in props.items()}
        if validator(requested, True).is_valid(content):
            return content
        built = instance(requested)
    except (Unsatisfiable, jsonschema.SchemaError):
        return {}  # nothing valid can be sent: the server's own answer to that is then what the check sees
    return built if isinstance(built, dict) else {}


# --- hard and invalid arguments (property.tools.arguments) ------------------------------------------------------

HARD_STRINGS = (  # valid strings that break naive servers: (what, value)
    ("NUL and control characters", "a\x00b\x01\x1f\x7f\r\n\t"),
    (
        "characters outside the BMP, U+2028/U+2029, combining marks, right-to-left text, a byte order mark",
        "\U0001f600\U0001d11e line\u2028para\u2029 e\u0301\u0308 \u202e\u05e9\u05dc\u05d5\u05dd "
        "\u0645\u0631\u062d\u0628\u0627\u202c \ufeff",
    ),
    ("the empty string", ""),
)
MAX_HARD_LENGTH = 2**16  # characters: a maxLength beyond this is not filled
MAX_CASES = 24  # per tool and kind


def _props(schema: Json) -> dict[str, Any]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    return props if isinstance(props, dict) else {}


def _kind(node: Json) -> str | None:
    kind = node.get("type") if isinstance(node, dict) else None
    return kind if isinstance(kind, str) else None


def _bounds(node: dict[str, Any]) -> list[tuple[str, Any]]:
    found = []
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        value = node.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append((key, value))
    return found


def _hard_values(node: dict[str, Any]) -> list[tuple[str, Any]]:
    """(what, value) of the property's type that are valid yet hard for servers; the caller keeps the valid ones."""
    kind = _kind(node)
    if kind == "string":
        values = list(HARD_STRINGS)
        high = node.get("maxLength")
        if isinstance(high, int) and 0 < high <= MAX_HARD_LENGTH:
            values.append((f"{high} characters, maxLength", "x" * high))
            values.append((f"{high} characters outside the BMP, maxLength", "\U0001f600" * high))
        return values
    if kind in ("integer", "number"):
        values = [(f"{key} {value}", value) for key, value in _bounds(node) if key in ("minimum", "maximum")]
        for key, value in _bounds(node):
            if key.startswith("exclusive"):
                step = 1 if kind == "integer" else abs(value) * 1e-9 or 1e-9
                inside = value + step if key == "exclusiveMinimum" else value - step
                values.append((f"just inside {key} {value}", math.ceil(inside) if kind == "integer" else inside))
        if kind == "integer":
            return [*values, ("zero", 0), ("2^53", 2**53), ("-2^53", -(2**53))]
        return [*values, ("zero", 0.0), ("1e308", 1e308), ("5e-324", 5e-324)]
    if kind == "array":
        return [("an empty array", [])]
    if kind == "object":
        return [("an empty object", {})]
    return []


def hard_arguments(tool: Json, modern: bool = True) -> list[tuple[str, dict[str, Any]]]:
    """Valid arguments that are hard for servers, one property at a time on top of `tool_arguments`: control
    characters, NUL, characters outside the BMP, U+2028/U+2029, combining marks, right-to-left text, strings at
    maxLength, numbers at the bounds, empty arrays and objects. Only those valid against the inputSchema."""
    schema = tool.get("inputSchema")
    base = tool_arguments(tool, {}, modern)
    check = validator(schema, modern)
    cases: list[tuple[str, dict[str, Any]]] = []
    for name, node in _props(schema).items():
        for what, value in _hard_values(node) if isinstance(node, dict) else []:
            args = {**base, name: value}
            if check.is_valid(args) and len(cases) < MAX_CASES:
                cases.append((f"{name}: {what}", args))
    return cases


WRONG_TYPES: dict[str, tuple[Any, ...]] = {  # values of JSON types no lenient parser turns into the declared one
    "string": ({"not": "a string"}, ["not a string"]),
    "integer": ({"not": "an integer"}, [1]),
    "number": ({"not": "a number"}, [1.5]),
    "boolean": ({"not": "a boolean"}, [True]),
    "object": ("not an object", [{}]),
    "array": ("not an array", {"not": "an array"}),
}


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, in words ("an object", "a number", …)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    names = {dict: "an object", list: "an array", str: "a string", type(None): "null"}
    return names.get(type(value), repr(type(value)))


def _breaches(node: dict[str, Any]) -> list[tuple[str, Any]]:
    """(what, value) that break the property's own schema: a wrong JSON type, past a bound, outside an enum."""
    kind = _kind(node)
    found = [(f"{json_type(v)} for {kind}", v) for v in WRONG_TYPES.get(kind or "", ())]
    for key, value in _bounds(node):
        step = 1 if kind == "integer" or isinstance(value, int) else max(abs(value), 1.0)
        past = value - step if "inimum" in key else value + step
        found.append((f"{past} past {key} {value}", past))
        if key.startswith("exclusive"):
            found.append((f"{value}, at {key}", value))
    if isinstance(node.get("maxLength"), int) and node["maxLength"] < MAX_HARD_LENGTH:
        found.append((f"{node['maxLength'] + 1} characters past maxLength", "x" * (node["maxLength"] + 1)))
    if isinstance(node.get("minLength"), int) and node["minLength"] > 0:
        found.append((f"{node['minLength'] - 1} characters under minLength", "x" * (node["minLength"] - 1)))
    if isinstance(node.get("enum"), list) and node["enum"]:
        found.append(("a value outside its enum", "mcp-harness-not-in-enum"))
    return found


def invalid_arguments(tool: Json, modern: bool = True) -> list[tuple[str, dict[str, Any]]]:
    """Arguments that break the inputSchema one way at a time on top of `tool_arguments`: a required property
    left out, a wrong JSON type, a value past a bound or outside an enum. Only those the schema indeed rejects."""
    schema = tool.get("inputSchema")
    base = tool_arguments(tool, {}, modern)
    check = validator(schema, modern)
    required = [r for r in schema.get("required", []) if isinstance(r, str) and r in base]
    cases = [(f"without required {name}", {k: v for k, v in base.items() if k != name}) for name in required]
    for name, node in _props(schema).items():
        for what, value in _breaches(node) if isinstance(node, dict) else []:
            cases.append((f"{name}: {what}", {**base, name: value}))
    return [(what, args) for what, args in cases if not check.is_valid(args)][:MAX_CASES]
