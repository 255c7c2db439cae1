"""Sampling plans as data: the per-tenant document, its validation and the parsed, frozen plan.

A plan says how many interactions QA reviews per period and how they are chosen:

* ``period`` -- "week" or "month"; ``min_per_agent`` -- the fairness floor every active agent gets.
* ``budget`` -- ``{"rate": r}`` (a share of the period's eligible interactions) or ``{"count": n}``;
  the budget pays for the risk and random components, split by ``mix`` (shares summing to 1).
  Targeted picks and fairness top-ups come on top of it, so a small budget never starves them.
* ``risk.rules`` -- which risk rules apply, each with a ``weight`` (priority when there are more
  candidates than the risk quota) and its own parameters; ``risk.max_per_agent`` optionally caps
  risk picks per agent so one struggling agent cannot absorb the whole quota.
* ``random.strata`` -- the stratification keys, outermost first; ``agent_id`` must come first
  because the per-agent cap on random picks is a property of the outermost stratum.
* ``targeted.per_agent`` -- extra picks for each agent on an active coaching plan.
* ``precision`` -- the target margin of error (QA points) at a confidence level, and the prior
  standard deviation used for an agent with fewer than two scores.

Structure is checked by JSON Schema and meaning by ``_semantic_issues``, which only runs on a
structurally valid document so it can trust the shape (the same split as ``forms.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

__all__ = [
    "DEFAULT_PLAN",
    "RISK_RULES",
    "STRATA_KEYS",
    "InvalidPlan",
    "Issue",
    "RiskRule",
    "SamplingPlan",
    "parse_plan",
    "validate_plan",
]

# Rule id -> its parameters as (default, minimum, maximum); None means unbounded.
# Sentiment is on [-1, 1]; ``sentiment_trend`` is last-minus-first customer sentiment, on [-2, 2].
RISK_RULES: dict[str, dict[str, tuple[float, float | None, float | None]]] = {
    "negative_sentiment": {"threshold": (-0.3, -1.0, 1.0)},  # customer_sentiment <= threshold
    "falling_sentiment": {"threshold": (-0.2, -2.0, 0.0)},  # sentiment_trend <= threshold
    "escalation": {},  # an escalation phrase was detected
    "compliance_miss": {},  # a required compliance statement is missing
    "long_handle_time": {"iqr_k": (1.5, 0.0, 10.0), "min_inquiry_size": (20, 4, None)},
    "short_handle_time": {"iqr_k": (1.5, 0.0, 10.0), "min_inquiry_size": (20, 4, None)},
    "transfer": {},
    "repeat_contact": {},
    "low_csat": {"threshold": (2.0, 0.0, 10.0)},  # csat <= threshold (scale of the tenant's survey)
}
STRATA_KEYS = ("agent_id", "channel", "queue_id", "inquiry")
PERIODS = ("week", "month")

DEFAULT_PLAN: dict[str, Any] = {
    "period": "month",
    "min_per_agent": 4,
    "budget": {"rate": 0.02},
    "mix": {"risk": 0.4, "random": 0.6},
    "risk": {"rules": [{"id": rule_id} for rule_id in RISK_RULES], "max_per_agent": 10},
    "random": {"strata": ["agent_id", "channel", "queue_id"]},
    "targeted": {"per_agent": 2},
    "precision": {"margin": 5.0, "confidence": 0.95, "prior_sd": 15.0},
}


@dataclass(frozen=True)
class Issue:
    path: str  # JSON Pointer into the submitted document, e.g. "/risk/rules/2/threshold"
    message: str


class InvalidPlan(ValueError):
    """A document that cannot become a plan; ``issues`` says where and why."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(f"{i.path}: {i.message}" for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class RiskRule:
    id: str
    weight: float = 1.0
    params: tuple[tuple[str, float], ...] = ()

    def param(self, name: str) -> float:
        return dict(self.params).get(name, RISK_RULES[self.id][name][0])


@dataclass(frozen=True)
class SamplingPlan:
    period: str
    min_per_agent: int
    budget_rate: float | None
    budget_count: int | None
    risk_share: float
    risk_rules: tuple[RiskRule, ...]
    risk_max_per_agent: int | None
    strata: tuple[str, ...]
    targeted_per_agent: int
    margin: float
    confidence: float
    prior_sd: float

    def budget(self, eligible: int) -> int:
        """Risk plus random picks for a period with ``eligible`` interactions (never more)."""
        if self.budget_count is not None:
            wanted = self.budget_count
        elif self.budget_rate is not None:
            wanted = round(self.budget_rate * eligible)
        else:  # parse_plan requires one of them
            raise TypeError("a sampling plan needs budget_rate or budget_count")
        return min(int(wanted), eligible)


# ---------------------------------------------------------------- schema


def _number(low: float | None, high: float | None, *, integer: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer" if integer else "number"}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def _rule_branch(rule_id: str) -> dict[str, Any]:
    params = {name: _number(low, high, integer=isinstance(default, int))
              for name, (default, low, high) in RISK_RULES[rule_id].items()}
    properties = {"id": {"const": rule_id}, "weight": {"type": "number", "exclusiveMinimum": 0,
                                                       "maximum": 100}, **params}
    return {"if": {"properties": {"id": {"const": rule_id}}},
            "then": {"properties": properties, "additionalProperties": False}}


def _object(properties: dict[str, Any], *, required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


_SHARE = {"type": "number", "minimum": 0, "maximum": 1}
PLAN_SCHEMA: dict[str, Any] = _object({
    "period": {"enum": list(PERIODS)},
    "min_per_agent": _number(0, 1000, integer=True),
    "budget": {**_object({"rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                          "count": _number(0, None, integer=True)}, required=[]),
               "minProperties": 1, "maxProperties": 1},
    "mix": _object({"risk": _SHARE, "random": _SHARE}, required=["risk", "random"]),
    "risk": _object({
        "rules": {"type": "array", "items": {
            "type": "object", "required": ["id"], "properties": {"id": {"enum": list(RISK_RULES)}},
            "allOf": [_rule_branch(rule_id) for rule_id in RISK_RULES]}},
        "max_per_agent": _number(1, None, integer=True),
    }, required=["rules"]),
    "random": _object({"strata": {"type": "array", "minItems": 1,
                                  "items": {"enum": list(STRATA_KEYS)}}}, required=["strata"]),
    "targeted": _object({"per_agent": _number(0, 1000, integer=True)}, required=["per_agent"]),
    "precision": _object({"margin": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                          "confidence": {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 1},
                          "prior_sd": {"type": "number", "exclusiveMinimum": 0, "maximum": 100}},
                         required=["margin"]),
}, required=["period", "min_per_agent", "budget", "mix", "risk", "random", "precision"])
_VALIDATOR = Draft202012Validator(PLAN_SCHEMA)


# ---------------------------------------------------------------- validation


def _pointer(parts: Any) -> str:
    return "".join(f"/{p}" for p in parts) or "/"


def validate_plan(doc: Any) -> list[Issue]:
    """Everything wrong with a plan document, each problem at its JSON Pointer; [] when valid."""
    structural = sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if structural:
        return [Issue(_pointer(e.absolute_path), e.message) for e in structural]
    return _semantic_issues(doc)


def _semantic_issues(doc: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    mix = doc["mix"]
    if abs(mix["risk"] + mix["random"] - 1.0) > 1e-9:
        issues.append(Issue("/mix", f"shares must sum to 1, not {mix['risk'] + mix['random']:g}"))
    rules = doc["risk"]["rules"]
    if mix["risk"] > 0 and not rules:
        issues.append(Issue("/risk/rules", "a risk share needs at least one rule"))
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule["id"] in seen:
            issues.append(Issue(f"/risk/rules/{index}/id", f"rule {rule['id']!r} appears twice"))
        seen.add(rule["id"])
    strata = doc["random"]["strata"]
    if strata[0] != "agent_id":
        issues.append(Issue("/random/strata/0", "the outermost stratum must be 'agent_id' "
                                                "(the per-agent cap relies on it)"))
    if len(set(strata)) != len(strata):
        issues.append(Issue("/random/strata", "a stratification key appears twice"))
    return issues


def parse_plan(doc: dict[str, Any]) -> SamplingPlan:
    """A valid document as a frozen plan; raises ``InvalidPlan`` listing every issue otherwise."""
    issues = validate_plan(doc)
    if issues:
        raise InvalidPlan(issues)
    precision, budget = doc["precision"], doc["budget"]
    return SamplingPlan(
        period=doc["period"],
        min_per_agent=doc["min_per_agent"],
        budget_rate=budget.get("rate"),
        budget_count=budget.get("count"),
        risk_share=float(doc["mix"]["risk"]),
        risk_rules=tuple(_rule(r) for r in doc["risk"]["rules"]),
        risk_max_per_agent=doc["risk"].get("max_per_agent"),
        strata=tuple(doc["random"]["strata"]),
        targeted_per_agent=doc.get("targeted", {}).get("per_agent", 0),
        margin=float(precision["margin"]),
        confidence=float(precision.get("confidence", 0.95)),
        prior_sd=float(precision.get("prior_sd", 15.0)),
    )


def _rule(doc: dict[str, Any]) -> RiskRule:
    params = tuple((name, doc[name]) for name in RISK_RULES[doc["id"]] if name in doc)
    return RiskRule(id=doc["id"], weight=float(doc.get("weight", 1.0)), params=params)
