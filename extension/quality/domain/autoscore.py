"""Auto-score rules: objective form questions answered from interaction data.

A scored question may carry an ``auto`` rule in the form document. When an evaluation is
assigned, the rule is applied to the interaction's data and, if the data decides it, the answer
is pre-filled (``source="auto"``); an evaluator may override it only with a reason, and both
values are kept. A rule the data cannot decide (a missing metric, no transcript) leaves the
question for the evaluator.

Rule shapes (``metric`` picks one):
* bands over a number, first band whose ``max`` is at least the value wins, ``max: null`` means
  "no upper bound" and may only close the list::

      {"metric": "handle_seconds", "bands": [{"max": 300, "option_id": "y"},
                                              {"max": null, "option_id": "n"}]}

  metrics: ``handle_seconds``, ``hold_seconds``, ``acw_seconds`` (seconds, from the fact or
  interaction timings), ``hold_count`` (how many times the handling agent put the customer on
  hold: the synced fact's ``n_hold``; live events do not carry it, so a conversation known only
  from them has no count and the question stays with the evaluator, see :func:`undecided`).
  A value above every band leaves the question undecided.
* a flag: ``{"metric": "fcr" | "transferred", "yes": "<option>", "no": "<option>"}``.
* a compliance statement said by the agent, detected with :mod:`extension.text.domain.phrases`:
  ``{"metric": "compliance_statement", "phrases": ["this call may be recorded"],
  "yes": "<option>", "no": "<option>", "threshold": 0.85}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from extension.text.domain.phrases import PhraseRule, match_rule
from extension.text.domain.spans import Utterance

if TYPE_CHECKING:  # pragma: no cover
    from extension.quality.domain.forms import Form

__all__ = ["AUTO_SCHEMA", "AutoAnswer", "AutoRule", "Band", "InteractionData", "auto_problems",
           "parse_auto", "prefill", "undecided"]

BAND_METRICS = ("handle_seconds", "hold_seconds", "acw_seconds", "hold_count")
# band metric -> (InteractionData field, divisor to the rule's unit, what "unknown" is called)
_BAND_SOURCE = {"handle_seconds": ("handle_ms", 1000.0, "handle time unknown"),
                "hold_seconds": ("hold_ms", 1000.0, "hold time unknown"),
                "acw_seconds": ("acw_ms", 1000.0, "after-call work time unknown"),
                "hold_count": ("hold_count", 1, "hold count unknown")}
FLAG_METRICS = ("fcr", "transferred")
COMPLIANCE = "compliance_statement"
METRICS = (*BAND_METRICS, *FLAG_METRICS, COMPLIANCE)

_ID = {"type": "string", "minLength": 1}
_BAND = {
    "type": "object",
    "required": ["option_id"],
    "properties": {"max": {"type": ["number", "null"], "minimum": 0}, "option_id": _ID},
    "additionalProperties": False,
}
AUTO_SCHEMA = {  # null or a rule; "required" and "allOf" only bite on objects
    "type": ["object", "null"],
    "required": ["metric"],
    "properties": {
        "metric": {"enum": list(METRICS)},
        "bands": {"type": "array", "minItems": 1, "items": _BAND},
        "yes": _ID,
        "no": _ID,
        "phrases": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    },
    "additionalProperties": False,
    "allOf": [
        {"if": {"properties": {"metric": {"enum": list(BAND_METRICS)}}},
         "then": {"required": ["bands"]}},
        {"if": {"properties": {"metric": {"enum": [*FLAG_METRICS, COMPLIANCE]}}},
         "then": {"required": ["yes", "no"]}},
        {"if": {"properties": {"metric": {"const": COMPLIANCE}}}, "then": {"required": ["phrases"]}},
    ],
}

# keys each kind of rule may carry besides "metric"
_KEYS = {**{m: {"bands"} for m in BAND_METRICS}, **{m: {"yes", "no"} for m in FLAG_METRICS},
         COMPLIANCE: {"yes", "no", "phrases", "threshold"}}


@dataclass(frozen=True)
class Band:
    max: float | None
    option_id: str


@dataclass(frozen=True)
class AutoRule:
    metric: str
    bands: tuple[Band, ...] = ()
    yes: str | None = None
    no: str | None = None
    phrases: tuple[str, ...] = ()
    threshold: float = 0.85


@dataclass(frozen=True)
class InteractionData:
    """What the rules may look at; ``None`` means unknown (the rule is then not decided)."""

    handle_ms: int | None = None
    hold_ms: int | None = None
    acw_ms: int | None = None
    hold_count: int | None = None  # hold segments of the handling agent (synced facts only)
    fcr: bool | None = None
    transferred: bool | None = None
    utterances: Sequence[Utterance] | None = None


@dataclass(frozen=True)
class AutoAnswer:
    option_id: str
    evidence: dict[str, Any] = field(default_factory=dict)


def parse_auto(doc: dict[str, Any] | None) -> AutoRule | None:
    if not doc:
        return None
    return AutoRule(
        metric=doc["metric"],
        bands=tuple(Band(b.get("max"), b["option_id"]) for b in doc.get("bands", ())),
        yes=doc.get("yes"), no=doc.get("no"), phrases=tuple(doc.get("phrases", ())),
        threshold=float(doc.get("threshold", 0.85)))


def auto_problems(question: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """Meaning checks of a structurally valid question's ``auto`` rule (JSON Pointers)."""
    rule = question.get("auto")
    if rule is None:
        return []
    path = f"{path}/auto"
    if question["type"] == "free_text":
        return [(path, "a free-text question is not scored, so it cannot be auto-scored")]
    metric = rule["metric"]
    problems = [(f"{path}/{key}", f"not used by metric {metric!r}")
                for key in sorted(set(rule) - {"metric"} - _KEYS[metric])]
    options = {o["id"] for o in question.get("options", ())}
    for key in ("yes", "no"):
        if key in rule and key in _KEYS[metric] and rule[key] not in options:
            problems.append((f"{path}/{key}", f"the question has no option {rule[key]!r}"))
    if metric in BAND_METRICS:
        problems += _band_problems(rule["bands"], f"{path}/bands", options)
    return problems


def _band_problems(bands: list[dict[str, Any]], path: str, options: set[str]) -> list[tuple[str, str]]:
    problems, previous = [], None
    for i, band in enumerate(bands):
        if band["option_id"] not in options:
            problems.append((f"{path}/{i}/option_id",
                             f"the question has no option {band['option_id']!r}"))
        upper = band.get("max")
        if upper is None and i != len(bands) - 1:
            problems.append((f"{path}/{i}/max", "only the last band may be open-ended (null)"))
        elif upper is not None and previous is not None and upper <= previous:
            problems.append((f"{path}/{i}/max", "band maxima must increase"))
        previous = upper if upper is not None else previous
    return problems


# ---------------------------------------------------------------- applying


def prefill(form: Form, data: InteractionData) -> dict[str, AutoAnswer]:
    """The answers the data decides, by question id (questions without a rule are absent)."""
    answers = {}
    for question_id, rule in _rules(form):
        answer = decide(rule, data)
        if answer is not None:
            answers[question_id] = answer
    return answers


def _rules(form: Form) -> Iterator[tuple[str, AutoRule]]:
    for question in form.questions():
        rule = getattr(question, "auto", None)
        if rule is not None:
            yield question.id, rule


def decide(rule: AutoRule, data: InteractionData) -> AutoAnswer | None:
    if rule.metric in BAND_METRICS:
        return _banded(rule, data)
    if rule.metric in FLAG_METRICS:
        value = getattr(data, rule.metric)
        if value is None:
            return None
        option = rule.yes if value else rule.no
        if option is None:  # the schema requires "yes" and "no" for a flag rule
            raise ValueError(f"auto rule {rule.metric!r} has no option for {bool(value)}")
        return AutoAnswer(option, {"metric": rule.metric, "value": value})
    return _compliance(rule, data)


def _banded(rule: AutoRule, data: InteractionData) -> AutoAnswer | None:
    name, divisor, _ = _BAND_SOURCE[rule.metric]
    raw = getattr(data, name)
    if raw is None:
        return None
    value = raw / divisor if divisor != 1 else raw
    for band in rule.bands:
        if band.max is None or value <= band.max:
            return AutoAnswer(band.option_id, {"metric": rule.metric, "value": value,
                                               "band_max": band.max})
    return None


def undecided(form: Form, data: InteractionData) -> dict[str, str]:
    """Why each auto-scored question the data does not decide is left to the evaluator, by
    question id (e.g. ``"hold count unknown"``); questions ``prefill`` answers are absent."""
    reasons = {}
    for question_id, rule in _rules(form):
        if decide(rule, data) is None:
            reasons[question_id] = reason_undecided(rule, data)
    return reasons


def reason_undecided(rule: AutoRule, data: InteractionData) -> str:
    if rule.metric in BAND_METRICS:
        name, _, unknown = _BAND_SOURCE[rule.metric]
        return unknown if getattr(data, name) is None else f"{rule.metric} above every band"
    if rule.metric in FLAG_METRICS:
        return f"{rule.metric} unknown"
    return "no transcript"


def _compliance(rule: AutoRule, data: InteractionData) -> AutoAnswer | None:
    if not data.utterances:
        return None
    phrase_rule = PhraseRule(name="compliance", wordings=rule.phrases, party="agent",
                             threshold=rule.threshold)
    spans = match_rule(data.utterances, phrase_rule)
    evidence: dict[str, Any] = {"metric": COMPLIANCE, "present": bool(spans)}
    if spans:
        evidence["utterance"], evidence["text"] = spans[0].utterance, spans[0].text
    option = rule.yes if spans else rule.no
    if option is None:  # the schema requires "yes" and "no" for a compliance rule
        raise ValueError(f"auto rule {rule.metric!r} has no option for {bool(spans)}")
    return AutoAnswer(option, evidence)
