"""Evaluation forms: the model evaluators score against, its validation and its versioning.

A form is plain, frozen data so a scored evaluation can keep the exact version it was scored
with. Documents arrive as JSON (the form builder, an import); ``validate_form`` says everything
wrong with one, each problem as a JSON Pointer the builder can highlight, and ``parse_form``
turns a valid one into a ``Form``. Structure is checked by JSON Schema, meaning by the checks
below, which only run on a structurally valid document so they can trust its shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from jsonschema import Draft202012Validator

from extension.quality.domain.autoscore import AUTO_SCHEMA, AutoRule, parse_auto
from extension.quality.domain.form_checks import semantic_problems

__all__ = [
    "Condition",
    "Form",
    "Group",
    "InvalidForm",
    "Issue",
    "Option",
    "Question",
    "QuestionType",
    "WeightMode",
    "multi_select_max",
    "multi_select_score",
    "next_version",
    "parse_form",
    "validate_form",
]


class WeightMode(StrEnum):
    SCALED = "SCALED"  # group weights scale each group's points
    OFF = "OFF"  # weights ignored: every point counts the same


class QuestionType(StrEnum):
    YES_NO = "yes_no"
    MULTIPLE_CHOICE = "multiple_choice"
    SCALE = "scale"
    MULTIPLE_SELECT = "multiple_select"  # any subset of the options; see multi_select_score
    FREE_TEXT = "free_text"  # never scored


@dataclass(frozen=True)
class Issue:
    path: str  # JSON Pointer into the submitted document, e.g. "/groups/1/questions/0/options"
    message: str


class InvalidForm(ValueError):
    """A document that cannot become a form; ``issues`` says where and why."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(f"{i.path}: {i.message}" for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Condition:
    """Show the owner only when ``question_id`` is visible and answered with one of ``option_ids``."""

    question_id: str
    option_ids: tuple[str, ...]


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    value: int


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    type: QuestionType
    options: tuple[Option, ...] = ()
    help_text: str = ""
    na_enabled: bool = False
    is_critical: bool = False
    is_kill: bool = False
    visibility: Condition | None = None
    auto: AutoRule | None = None  # pre-fill from interaction data (domain.autoscore)

    @property
    def scored(self) -> bool:
        return self.type is not QuestionType.FREE_TEXT

    @property
    def multiple(self) -> bool:
        return self.type is QuestionType.MULTIPLE_SELECT

    @property
    def max_value(self) -> int:
        if self.multiple:
            return multi_select_max(self.options)
        return max((o.value for o in self.options), default=0)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    questions: tuple[Question, ...]
    weight: float = 1.0
    na_enabled: bool = False
    visibility: Condition | None = None


@dataclass(frozen=True)
class Form:
    id: str
    name: str
    groups: tuple[Group, ...]
    version: int = 1
    weight_mode: WeightMode = WeightMode.SCALED

    def questions(self) -> Iterator[Question]:
        for group in self.groups:
            yield from group.questions

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions() if q.id == question_id), None)


# ---------------------------------------------------------------- multiple select
# The one place that decides what a multiple-select question is worth (assumption (A) in
# ``extension.quality.domain.scoring``, rule 1b): the sum of the selected options' values, never less
# than 0 and never more than the maximum, which is the sum of the positive option values.


def multi_select_max(options: tuple[Option, ...]) -> int:
    return sum(o.value for o in options if o.value > 0)


def multi_select_score(options: tuple[Option, ...], selected: frozenset[str]) -> int:
    points = sum(o.value for o in options if o.id in selected)
    return max(0, min(points, multi_select_max(options)))


# ---------------------------------------------------------------- structure

_ID = {"type": "string", "minLength": 1}
_CONDITION = {
    "type": "object",
    "required": ["question_id", "option_ids"],
    "properties": {"question_id": _ID, "option_ids": {"type": "array", "items": _ID}},
    "additionalProperties": False,
}
_OPTION = {
    "type": "object",
    "required": ["id", "text", "value"],
    "properties": {"id": _ID, "text": {"type": "string"}, "value": {"type": "integer"}},
    "additionalProperties": False,
}
_QUESTION = {
    "type": "object",
    "required": ["id", "text", "type"],
    "properties": {
        "id": _ID,
        "text": {"type": "string"},
        "help_text": {"type": "string"},
        "type": {"enum": [t.value for t in QuestionType]},
        "na_enabled": {"type": "boolean"},
        "is_critical": {"type": "boolean"},
        "is_kill": {"type": "boolean"},
        "options": {"type": "array", "items": _OPTION},
        "visibility": {"oneOf": [{"type": "null"}, _CONDITION]},
        "auto": AUTO_SCHEMA,
    },
    "additionalProperties": False,
}
_GROUP = {
    "type": "object",
    "required": ["id", "name", "questions"],
    "properties": {
        "id": _ID,
        "name": {"type": "string"},
        "weight": {"type": "number"},
        "na_enabled": {"type": "boolean"},
        "questions": {"type": "array", "minItems": 1, "items": _QUESTION},
        "visibility": {"oneOf": [{"type": "null"}, _CONDITION]},
    },
    "additionalProperties": False,
}
FORM_SCHEMA = {
    "type": "object",
    "required": ["id", "name", "groups"],
    "properties": {
        "id": _ID,
        "name": {"type": "string", "minLength": 1},
        "version": {"type": "integer", "minimum": 1},
        "weight_mode": {"enum": [m.value for m in WeightMode]},
        "groups": {"type": "array", "minItems": 1, "items": _GROUP},
    },
    "additionalProperties": False,
}
_VALIDATOR = Draft202012Validator(FORM_SCHEMA)


def validate_form(doc: Any) -> list[Issue]:
    """All problems in ``doc``; empty means it may be saved and published."""
    structural = sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(map(str, e.path)))
    if structural:
        return [Issue(_pointer(e.absolute_path), e.message) for e in structural]
    return [Issue(path, message) for path, message in semantic_problems(doc)]


def _pointer(parts: Any) -> str:
    return "".join(f"/{p}" for p in parts) or "/"


# ---------------------------------------------------------------- parsing


def parse_form(doc: Any) -> Form:
    """A ``Form`` from a document, or ``InvalidForm`` listing every problem."""
    issues = validate_form(doc)
    if issues:
        raise InvalidForm(issues)
    return Form(
        id=doc["id"],
        name=doc["name"],
        version=doc.get("version", 1),
        weight_mode=WeightMode(doc.get("weight_mode", WeightMode.SCALED)),
        groups=tuple(_group(g) for g in doc["groups"]),
    )


def _group(doc: dict[str, Any]) -> Group:
    return Group(
        id=doc["id"],
        name=doc["name"],
        weight=float(doc.get("weight", 1.0)),
        na_enabled=doc.get("na_enabled", False),
        visibility=_condition(doc.get("visibility")),
        questions=tuple(_question(q) for q in doc["questions"]),
    )


def _question(doc: dict[str, Any]) -> Question:
    return Question(
        id=doc["id"],
        text=doc["text"],
        type=QuestionType(doc["type"]),
        help_text=doc.get("help_text", ""),
        na_enabled=doc.get("na_enabled", False),
        is_critical=doc.get("is_critical", False),
        is_kill=doc.get("is_kill", False),
        options=tuple(Option(o["id"], o["text"], o["value"]) for o in doc.get("options", ())),
        visibility=_condition(doc.get("visibility")),
        auto=parse_auto(doc.get("auto")),
    )


def _condition(doc: dict[str, Any] | None) -> Condition | None:
    return Condition(doc["question_id"], tuple(doc["option_ids"])) if doc else None


# ---------------------------------------------------------------- versioning


def next_version(published: Form, edited_doc: Any) -> Form:
    """The form to publish after an edit: ``published`` itself when nothing that matters changed,
    else the edit as version ``published.version + 1`` under the same id.

    Evaluations keep the version they were scored with, so a published version is never
    changed in place; the version (and id) in the edited document are ignored.
    """
    edited = parse_form({**edited_doc, "id": published.id, "version": published.version})
    if edited == published:
        return published
    return replace(edited, version=published.version + 1)
