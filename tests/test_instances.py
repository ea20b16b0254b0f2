"""Arguments built from a tool's inputSchema, and elicitation answers: valid, deterministic, minimal."""

from __future__ import annotations

import json

import pytest

from mcp_harness import core, instances
from mcp_harness.instances import Unsatisfiable, form_content, instance, tool_arguments, validator

CONSTRAINED = {
    "type": "object",
    "properties": {
        "steps": {"type": "integer", "minimum": 6, "maximum": 12},
        "pace": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "mode": {"enum": ["fast", "slow"]},
        "email": {"type": "string", "format": "email"},
        "ticket": {"type": "string", "pattern": "^T-[0-9]{4}$"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "name": {"type": "string", "minLength": 20, "maxLength": 30},
        "optional": {"type": "string"},
    },
    "required": ["steps", "pace", "mode", "email", "ticket", "tags", "name"],
}


def test_required_properties_get_valid_values_and_optional_ones_are_left_out() -> None:
    value = instance(CONSTRAINED)
    assert validator(CONSTRAINED, True).is_valid(value), value
    assert set(value) == set(CONSTRAINED["required"])
    assert value["steps"] == 6 and value["mode"] == "fast" and value["email"] == "mcp-harness@example.com"


def test_the_same_schema_gives_the_same_bytes() -> None:
    first = json.dumps(instance(CONSTRAINED), sort_keys=True)
    instances._instance.cache_clear()
    instances._matching.cache_clear()
    assert json.dumps(instance(CONSTRAINED), sort_keys=True) == first


@pytest.mark.parametrize(
    "schema",
    [
        {
            "$defs": {"a": {"type": "object", "properties": {"s": {"type": "string"}}, "required": ["s"]}},
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/a"}},
            "required": ["a"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"u": {"type": "array", "items": {"enum": [1, 2, 3]}, "minItems": 2, "uniqueItems": True}},
            "required": ["u"],
        },
        {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 7, "minimum": 10}}, "required": ["n"]},
        {
            "type": "object",
            "properties": {"x": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
            "required": ["x"],
        },
        {"type": "object", "minProperties": 1, "properties": {"a": {"type": "boolean"}}},
    ],
)
def test_harder_schemas_are_satisfied(schema: dict) -> None:
    assert validator(schema, True).is_valid(instance(schema))


def test_an_unsatisfiable_schema_says_why() -> None:
    with pytest.raises(Unsatisfiable, match="bounds"):
        instance(
            {"type": "object", "properties": {"a": {"type": "integer", "minimum": 5, "maximum": 3}}, "required": ["a"]}
        )
    with pytest.raises(Unsatisfiable, match="inputSchema"):
        tool_arguments({"name": "t", "inputSchema": "nope"}, {})


def test_hints_are_merged_only_where_they_stay_valid() -> None:
    tool = {"name": "t", "inputSchema": {"type": "object", "properties": {"steps": {"type": "integer", "maximum": 5}}}}
    assert tool_arguments(tool, {"steps": 3}) == {"steps": 3}
    assert tool_arguments(tool, {"steps": 8}) == {}  # over the maximum: the hint is dropped


def test_an_accepted_elicitation_fills_the_form_with_valid_values() -> None:
    requested = {
        "type": "object",
        "properties": {
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer", "minimum": 18},
            "name": {"type": "string", "maxLength": 4},
            "colour": {"type": "string", "enum": ["red", "blue"]},
            "ok": {"type": "boolean", "default": True},
        },
        "required": ["email"],
    }
    content = form_content(requested)
    assert content == {"email": "mcp-harness@example.com", "age": 18, "name": "mcp-", "colour": "red", "ok": True}
    answer = core.elicitation_answer("accept")({"message": "m", "requestedSchema": requested})
    assert answer == {"action": "accept", "content": content}


def test_hard_arguments_are_valid_and_cover_the_hard_kinds() -> None:
    tool = {"name": "t", "inputSchema": CONSTRAINED}
    cases = instances.hard_arguments(tool)
    check = validator(CONSTRAINED, True)
    assert cases and all(check.is_valid(args) for _, args in cases)
    names = " | ".join(what for what, _ in cases)
    for kind in ("steps: minimum 6", "steps: maximum 12", "pace: just inside exclusiveMaximum 1", "30 characters"):
        assert kind in names, names
    texts = [args["optional"] for what, args in cases if what.startswith("optional:")]
    assert any("\x00" in t for t in texts) and any("\u2028" in t and "\U0001f600" in t for t in texts)
    assert [what for what, _ in cases] == [what for what, _ in instances.hard_arguments(tool)]  # deterministic


def test_invalid_arguments_break_the_schema_one_way_each() -> None:
    tool = {"name": "t", "inputSchema": CONSTRAINED}
    cases = instances.invalid_arguments(tool)
    check = validator(CONSTRAINED, True)
    assert cases and not any(check.is_valid(args) for _, args in cases)
    names = " | ".join(what for what, _ in cases)
    for kind in ("without required steps", "steps: 13 past maximum 12", "steps: an object for integer", "mode"):
        assert kind in names, names
    # A schema with nothing to break gives no case (extra properties are not invented).
    assert instances.invalid_arguments({"name": "n", "inputSchema": {"type": "object"}}) == []
