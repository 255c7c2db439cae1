"""The trigger-policy language as data: facts, operators, JSON Schema and the guide's defaults.

Kept apart from ``policies.py`` so the admin UI and API docs can show the vocabulary without
importing the evaluator.
"""

from __future__ import annotations

from typing import Any

# Fact name -> kind. The kind decides which operators and values make sense.
FACTS: dict[str, str] = {
    "customer_sentiment": "number",
    "agent_sentiment": "number",
    "t_handle_ms": "number",
    "t_hold_ms": "number",
    "qa_score": "number",
    "flags_within": "number",
    "channel": "string",
    "queue_id": "string",
    "wrapup_code": "string",
    "transferred": "bool",
    "failed_critical": "bool",
    "failed_kill": "bool",
    "agent_praised": "bool",  # the customer praised the agent (extension.text.domain.recognition)
    "transcript": "text",
}

# Allowed value ranges for comparisons, so a typo like 60 for 0.6 is caught on save.
FACT_RANGES: dict[str, tuple[float, float]] = {
    "customer_sentiment": (-1.0, 1.0),
    "agent_sentiment": (-1.0, 1.0),
    "qa_score": (0.0, 100.0),
    "t_handle_ms": (0.0, float("inf")),
    "t_hold_ms": (0.0, float("inf")),
    "flags_within": (0.0, float("inf")),
}

PRESENCE_OPS = {"exists", "missing"}
ORDER_OPS = {"lt", "lte", "gt", "gte"}
EQUALITY_OPS = {"eq", "ne"}
MEMBER_OPS = {"in", "not_in"}
PHRASE_OPS = {"phrase_present", "phrase_missing"}

OPS_BY_KIND: dict[str, set[str]] = {
    "number": ORDER_OPS | EQUALITY_OPS | MEMBER_OPS | PRESENCE_OPS,
    "string": EQUALITY_OPS | MEMBER_OPS | PRESENCE_OPS,
    "bool": EQUALITY_OPS | PRESENCE_OPS,
    "text": PHRASE_OPS | PRESENCE_OPS,
}
ALL_OPS = sorted(set().union(*OPS_BY_KIND.values()))

ACTIONS = ["flag", "recognize", "alert"]
RECOGNITION_TYPES = ["ThankYou", "Congratulations", "HighPerformance", "CompanyValues"]
MAX_WINDOW_DAYS = 90

_NODE = {"$ref": "#/$defs/condition"}


def _branch(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": [key], "properties": {key: schema}, "additionalProperties": False}


_LEAF = {
    "required": ["fact", "op"],
    "properties": {
        "fact": {"enum": sorted(FACTS)},
        "op": {"enum": ALL_OPS},
        "value": {},
        "days": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_DAYS},
    },
    "additionalProperties": False,
}

# if/then chains (rather than oneOf) keep error paths precise: "/rules/0/when/all/1/op".
_CONDITION = {
    "type": "object",
    "if": {"required": ["all"]},
    "then": _branch("all", {"type": "array", "minItems": 1, "items": _NODE}),
    "else": {
        "if": {"required": ["any"]},
        "then": _branch("any", {"type": "array", "minItems": 1, "items": _NODE}),
        "else": {
            "if": {"required": ["not"]},
            "then": _branch("not", _NODE),
            "else": _LEAF,
        },
    },
}

_RULE = {
    "type": "object",
    "required": ["id", "action", "when"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
        "action": {"enum": ACTIONS},
        "when": _NODE,
        "description": {"type": "string", "maxLength": 500},
    },
    "additionalProperties": False,
}

_COACHING = {
    "type": "object",
    "properties": {
        "min_flags": {"type": "integer", "minimum": 1},
        "window_days": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_DAYS},
        "max_per_agent_per_week": {"type": "integer", "minimum": 0},
        "horizon_days": {"type": "integer", "minimum": 1, "maximum": 30},
        "length_minutes": {"type": "integer", "minimum": 15, "maximum": 60, "multipleOf": 15},
        "peak_quantile": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "calendar_unavailable": {"enum": ["book_unchecked", "task"]},
    },
    "additionalProperties": False,
}

POLICY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["rules"],
    "properties": {
        "version": {"type": "integer", "minimum": 1},
        "rules": {"type": "array", "items": _RULE},
        "coaching": _COACHING,
        "recognition": {
            "type": "object",
            "properties": {"type": {"enum": RECOGNITION_TYPES}},
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
    "$defs": {"condition": _CONDITION},
}

DEFAULT_COACHING: dict[str, Any] = {
    "min_flags": 2,
    "window_days": 7,
    "max_per_agent_per_week": 1,
    "horizon_days": 5,
    "length_minutes": 30,
    "peak_quantile": 0.8,
    # supervisor calendar unreadable after retries: book anyway, marked "calendar not checked"
    # (book_unchecked), or hand the supervisor a task to schedule by hand (task)
    "calendar_unavailable": "book_unchecked",
}

DEFAULT_POLICY: dict[str, Any] = {
    "version": 1,
    "rules": [
        {
            "id": "negative-interaction",
            "action": "flag",
            "description": "Upset customer and a negative agent: a coaching signal.",
            "when": {
                "all": [
                    {"fact": "customer_sentiment", "op": "lt", "value": -0.6},
                    {"fact": "agent_sentiment", "op": "lt", "value": -0.3},
                ]
            },
        },
        {
            "id": "delighted-customer",
            "action": "recognize",
            # with a transcript, delight must be *because of the agent* (praise aimed at them:
            # joy about a new phone or a baby is not the agent's doing); without one (the host
            # sends only its sentiment score), the guide's threshold
            "description": "A customer delighted by the agent: thank the agent.",
            "when": {"any": [
                {"fact": "agent_praised", "op": "eq", "value": True},
                {"all": [{"fact": "customer_sentiment", "op": "gt", "value": 0.8},
                         {"fact": "transcript", "op": "missing"}]},
            ]},
        },
    ],
    "coaching": dict(DEFAULT_COACHING),
    "recognition": {"type": "ThankYou"},
}
