"""Trigger policies: per-tenant JSON rules that flag, recognize or alert on an interaction.

Policies are data so admins can change thresholds without a deploy; they are validated on save
(structure by JSON Schema, meaning by the checks below) and evaluated over a flat dict of facts.
A fact the caller could not provide makes a comparison false rather than an error, because
sentiment, QA scores and transcripts arrive at different times for the same interaction.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from extension.coaching.domain.policy_schema import (
    DEFAULT_COACHING,
    DEFAULT_POLICY,
    FACT_RANGES,
    FACTS,
    MEMBER_OPS,
    OPS_BY_KIND,
    ORDER_OPS,
    PHRASE_OPS,
    POLICY_SCHEMA,
    PRESENCE_OPS,
)

__all__ = [
    "DEFAULT_POLICY",
    "Outcome",
    "ValidationIssue",
    "coaching_settings",
    "evaluate",
    "history_windows",
    "validate_policy",
]

_VALIDATOR = Draft202012Validator(POLICY_SCHEMA)
_SYMBOLS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "eq": "==", "ne": "!="}


@dataclass(frozen=True)
class ValidationIssue:
    path: str  # JSON Pointer into the submitted document, e.g. "/rules/0/when/all/1/op"
    message: str


@dataclass(frozen=True)
class Outcome:
    rule_id: str
    action: str
    reasons: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- validation


def validate_policy(doc: Any) -> list[ValidationIssue]:
    """All problems in ``doc``; empty means it may be saved.

    Semantic checks run only on a structurally valid document so they can trust its shape.
    """
    structural = sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(map(str, e.path)))
    if structural:
        return [ValidationIssue(_pointer(e.absolute_path), e.message) for e in structural]
    issues = _duplicate_ids(doc["rules"])
    for index, rule in enumerate(doc["rules"]):
        for path, leaf in _leaves(rule["when"], f"/rules/{index}/when"):
            issues.extend(_check_leaf(leaf, path))
    return issues


def _pointer(parts: Any) -> str:
    return "".join(f"/{p}" for p in parts) or "/"


def _duplicate_ids(rules: list[dict[str, Any]]) -> list[ValidationIssue]:
    seen: set[str] = set()
    issues = []
    for index, rule in enumerate(rules):
        if rule["id"] in seen:
            message = f"duplicate rule id {rule['id']!r}"
            issues.append(ValidationIssue(f"/rules/{index}/id", message))
        seen.add(rule["id"])
    return issues


def _leaves(cond: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Walk a condition tree, yielding each leaf with its JSON Pointer."""
    for key in ("all", "any"):
        for i, child in enumerate(cond.get(key, ())):
            yield from _leaves(child, f"{path}/{key}/{i}")
    if "not" in cond:
        yield from _leaves(cond["not"], f"{path}/not")
    if "fact" in cond:
        yield path, cond


def _check_leaf(leaf: dict[str, Any], path: str) -> list[ValidationIssue]:
    fact, op = leaf["fact"], leaf["op"]
    kind = FACTS[fact]
    if op not in OPS_BY_KIND[kind]:
        return [ValidationIssue(f"{path}/op", f"operator {op!r} does not apply to {kind} {fact!r}")]
    issues = _check_days(leaf, path)
    problem = _value_problem(leaf, kind)
    if problem:
        issues.append(ValidationIssue(f"{path}/value", problem))
    return issues


def _check_days(leaf: dict[str, Any], path: str) -> list[ValidationIssue]:
    if leaf["fact"] == "flags_within" and "days" not in leaf:
        return [ValidationIssue(path, "flags_within needs 'days'")]
    if leaf["fact"] != "flags_within" and "days" in leaf:
        return [ValidationIssue(f"{path}/days", "'days' applies only to flags_within")]
    return []


def _value_problem(leaf: dict[str, Any], kind: str) -> str | None:
    op, has_value, value = leaf["op"], "value" in leaf, leaf.get("value")
    if op in PRESENCE_OPS:
        return f"{op!r} takes no value" if has_value else None
    if not has_value:
        return f"{op!r} needs a value"
    if op in PHRASE_OPS:
        return None if _phrases(value) else "expected a phrase or a non-empty list of phrases"
    if op in MEMBER_OPS:
        if not isinstance(value, list) or not value:
            return "expected a non-empty list"
        return next(filter(None, (_scalar_problem(leaf["fact"], kind, v) for v in value)), None)
    return _scalar_problem(leaf["fact"], kind, value)


def _scalar_problem(fact: str, kind: str, value: Any) -> str | None:
    if kind == "number":
        if not _is_number(value):
            return f"expected a number for {fact!r}, got {value!r}"
        low, high = FACT_RANGES[fact]
        return None if low <= value <= high else f"{fact!r} must be within {low:g}..{high:g}"
    expected = bool if kind == "bool" else str
    return None if isinstance(value, expected) else f"expected {kind} for {fact!r}, got {value!r}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _phrases(value: Any) -> list[str]:
    """Phrase list from a string or a list of strings; empty when malformed."""
    raw = [value] if isinstance(value, str) else value
    if not isinstance(raw, list) or not all(isinstance(p, str) and _normalize(p) for p in raw):
        return []
    return list(raw)


# ---------------------------------------------------------------- helpers for callers


def history_windows(policy: dict[str, Any]) -> set[int]:
    """Day windows used by ``flags_within`` leaves: the caller supplies ``flags_within:{days}``."""
    return {
        leaf["days"]
        for rule in policy.get("rules", [])
        for _, leaf in _leaves(rule["when"], "")
        if leaf["fact"] == "flags_within"
    }


def coaching_settings(policy: dict[str, Any]) -> dict[str, Any]:
    """Coaching settings of ``policy`` over the guide's defaults (a fresh dict, safe to change)."""
    return {**copy.deepcopy(DEFAULT_COACHING), **policy.get("coaching", {})}


# ---------------------------------------------------------------- evaluation


def evaluate(policy: dict[str, Any], facts: dict[str, Any]) -> list[Outcome]:
    """Rules of a validated ``policy`` that fire on ``facts``, in policy order, with reasons."""
    outcomes = []
    for rule in policy.get("rules", []):
        fired, reasons = _holds(rule["when"], facts)
        if fired:
            outcomes.append(Outcome(rule["id"], rule["action"], reasons))
    return outcomes


def _holds(cond: dict[str, Any], facts: dict[str, Any]) -> tuple[bool, list[str]]:
    """Truth of ``cond`` plus human reasons for the parts that made it true."""
    if "all" in cond:
        results = [_holds(c, facts) for c in cond["all"]]
        return all(ok for ok, _ in results), [r for _, rs in results for r in rs]
    if "any" in cond:
        results = [_holds(c, facts) for c in cond["any"]]
        return any(ok for ok, _ in results), [r for ok, rs in results if ok for r in rs]
    if "not" in cond:
        inner, _ = _holds(cond["not"], facts)
        return not inner, [] if inner else [f"not ({_describe(cond['not'])})"]
    ok = _leaf_holds(cond, _fact_value(cond, facts))
    return ok, [_reason(cond, facts)] if ok else []


def _fact_key(leaf: dict[str, Any]) -> str:
    return f"flags_within:{leaf['days']}" if leaf["fact"] == "flags_within" else leaf["fact"]


def _fact_value(leaf: dict[str, Any], facts: dict[str, Any]) -> Any:
    return facts.get(_fact_key(leaf))


def _leaf_holds(leaf: dict[str, Any], actual: Any) -> bool:
    op: str = leaf["op"]
    expected: Any = leaf.get("value")
    if op in PRESENCE_OPS:
        return (actual is not None) == (op == "exists")
    if actual is None:
        return False
    if op in PHRASE_OPS:
        return isinstance(actual, str) and _phrase_hit(actual, expected) == (op == "phrase_present")
    if op in MEMBER_OPS:
        return _member(actual, expected) == (op == "in")
    return _compare(op, actual, expected)


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op in ORDER_OPS and not (_is_number(actual) and _is_number(expected)):
        return False  # a wrongly typed fact cannot satisfy an ordering
    same = type(actual) is type(expected) or (_is_number(actual) and _is_number(expected))
    checks: dict[str, Callable[[], bool]] = {
        "lt": lambda: actual < expected,
        "lte": lambda: actual <= expected,
        "gt": lambda: actual > expected,
        "gte": lambda: actual >= expected,
        "eq": lambda: same and actual == expected,
        "ne": lambda: not (same and actual == expected),
    }
    return checks[op]()


def _member(actual: Any, options: list[Any]) -> bool:
    return any(_compare("eq", actual, option) for option in options)


def _normalize(text: str) -> str:
    """Case- and punctuation-insensitive form: "Thank you, SIR!" -> "thank you sir"."""
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


def _phrase_hit(transcript: str, phrases: Any) -> bool:
    """True when any phrase occurs in the transcript as whole words."""
    haystack = f" {_normalize(transcript)} "
    return any(f" {_normalize(p)} " in haystack for p in _phrases(phrases))


def _describe(leaf: dict[str, Any]) -> str:
    if "all" in leaf or "any" in leaf:
        key = "all" if "all" in leaf else "any"
        joiner = " and " if key == "all" else " or "
        return "(" + joiner.join(_describe(c) for c in leaf[key]) + ")"
    if "not" in leaf:
        return f"not ({_describe(leaf['not'])})"
    name = _fact_key(leaf)
    if leaf["op"] in PRESENCE_OPS:
        return f"{name} {'exists' if leaf['op'] == 'exists' else 'is missing'}"
    verb = {"in": "in", "not_in": "not in", "phrase_present": "contains"}
    symbol = _SYMBOLS.get(leaf["op"]) or verb.get(leaf["op"], "lacks")
    return f"{name} {symbol} {leaf.get('value')!r}"


def _reason(leaf: dict[str, Any], facts: dict[str, Any]) -> str:
    """Explain a satisfied leaf, showing the actual value: "customer_sentiment -0.82 < -0.6"."""
    name, op = _fact_key(leaf), leaf["op"]
    if op in PRESENCE_OPS or op in PHRASE_OPS:
        return _describe(leaf)
    symbol = _SYMBOLS.get(op) or ("in" if op == "in" else "not in")
    return f"{name} {_fact_value(leaf, facts)!r} {symbol} {leaf['value']!r}"
