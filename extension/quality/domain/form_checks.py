"""Meaning checks for evaluation-form documents (the structure is checked in ``forms``).

They work on the raw, structurally valid document so every problem can be reported at the
JSON Pointer the form builder shows it at. Visibility conditions may only look back (at an
earlier question, or for a group at a question in an earlier group): that rules out cycles by
construction and lets scoring decide visibility in one pass in form order. A condition cannot
name a multiple-select question (it has no single answer to compare; Genesys predicates point at
one answer option of a multiple-choice question too), and a multiple-select question takes no
automatic answer rule (auto rules choose one option).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from extension.quality.domain.autoscore import auto_problems

__all__ = ["semantic_problems"]

Problem = tuple[str, str]  # (JSON Pointer, message)


@dataclass(frozen=True)
class _Target:
    """What a condition may refer to: a question, where it sits, what it can be answered with."""

    position: int  # index in form order
    group_index: int
    option_ids: frozenset[str]
    multiple: bool = False


def semantic_problems(doc: dict[str, Any]) -> list[Problem]:
    groups = doc["groups"]
    problems = _duplicate_ids(groups)
    problems += _weight_problems(groups, scaled=doc.get("weight_mode", "SCALED") == "SCALED")
    for gi, group in enumerate(groups):
        for qi, question in enumerate(group["questions"]):
            problems += _question_problems(question, f"/groups/{gi}/questions/{qi}")
            problems += auto_problems(question, f"/groups/{gi}/questions/{qi}")
    return problems + _visibility_problems(groups)


def _duplicate_ids(groups: list[dict[str, Any]]) -> list[Problem]:
    problems = _duplicates([(f"/groups/{gi}/id", g["id"]) for gi, g in enumerate(groups)])
    questions = [
        (f"/groups/{gi}/questions/{qi}", q)
        for gi, g in enumerate(groups)
        for qi, q in enumerate(g["questions"])
    ]
    problems += _duplicates([(f"{path}/id", q["id"]) for path, q in questions])
    for path, question in questions:
        options = enumerate(question.get("options", ()))
        problems += _duplicates([(f"{path}/options/{oi}/id", o["id"]) for oi, o in options])
    return problems


def _duplicates(located_ids: list[tuple[str, str]]) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for path, value in located_ids:
        if value in seen:
            problems.append((path, f"duplicate id {value!r}"))
        seen.add(value)
    return problems


def _weight_problems(groups: list[dict[str, Any]], *, scaled: bool) -> list[Problem]:
    weights = [g.get("weight", 1.0) for g in groups]
    problems = [(f"/groups/{i}/weight", "weight must not be negative") for i, w in
                enumerate(weights) if w < 0]
    if scaled and not any(w > 0 for w in weights):
        problems.append(("/groups", "in SCALED mode at least one group needs a positive weight"))
    return problems


def _question_problems(question: dict[str, Any], path: str) -> list[Problem]:
    kind, options = question["type"], question.get("options", [])
    if kind == "free_text":
        return [(f"{path}/{flag}", f"a free-text question is not scored, so it cannot be {what}")
                for flag, what in (("is_kill", "a kill question"), ("is_critical", "critical"))
                if question.get(flag)] + ([(f"{path}/options", "free text takes no options")]
                                          if options else [])
    if not options:
        return [(f"{path}/options", "a scored question needs answer options")]
    if kind == "multiple_select" and question.get("auto"):
        return [(f"{path}/auto", "a multiple-select question cannot be answered automatically")]
    if kind == "yes_no" and len(options) != 2:
        return [(f"{path}/options", "a yes/no question needs exactly two options")]
    if kind == "scale" and len(options) < 2:
        return [(f"{path}/options", "a scale needs at least two points")]
    return []


# ---------------------------------------------------------------- visibility


def _targets(groups: list[dict[str, Any]]) -> dict[str, _Target]:
    targets: dict[str, _Target] = {}
    flat = [(gi, q) for gi, g in enumerate(groups) for q in g["questions"]]
    for position, (gi, question) in enumerate(flat):
        options = frozenset(o["id"] for o in question.get("options", ()))
        targets.setdefault(question["id"], _Target(position, gi, options,
                                                   question["type"] == "multiple_select"))
    return targets


def _visibility_problems(groups: list[dict[str, Any]]) -> list[Problem]:
    """Conditions must name an earlier question and its options, and be satisfiable.

    ``shown`` records, in form order, whether each question can ever be visible, so a condition
    on a question that is itself hidden forever is reported where it is written.
    """
    targets = _targets(groups)
    shown: dict[str, bool] = {}
    problems: list[Problem] = []
    position = 0
    for gi, group in enumerate(groups):
        path = f"/groups/{gi}"
        group_ok = _check_condition(
            group.get("visibility"), path, before=position, targets=targets, shown=shown,
            problems=problems, owner="a group")
        for qi, question in enumerate(group["questions"]):
            question_ok = _check_condition(
                question.get("visibility"), f"{path}/questions/{qi}", before=position,
                targets=targets, shown=shown, problems=problems, owner="a question")
            shown.setdefault(question["id"], group_ok and question_ok)
            position += 1
    return problems


def _check_condition(
    condition: dict[str, Any] | None,
    path: str,
    *,
    before: int,
    targets: dict[str, _Target],
    shown: dict[str, bool],
    problems: list[Problem],
    owner: str,
) -> bool:
    """Append what is wrong with one condition; True when its owner can ever be shown."""
    if condition is None:
        return True
    path, target_id = f"{path}/visibility", condition["question_id"]
    target = targets.get(target_id)
    if target is None:
        problems.append((f"{path}/question_id", f"unknown question {target_id!r}"))
        return False
    if target.position >= before:
        where = "an earlier group" if owner == "a group" else "an earlier question"
        problems.append((f"{path}/question_id",
                         f"{owner} can only depend on {where} (no forward references or cycles)"))
        return False
    if target.multiple:
        problems.append((f"{path}/question_id",
                         f"{owner} cannot depend on a multiple-select question"))
        return False
    return _check_options(condition, path, target=target, shown=shown.get(target_id, False),
                          problems=problems)


def _check_options(
    condition: dict[str, Any], path: str, *, target: _Target, shown: bool, problems: list[Problem]
) -> bool:
    option_ids = condition["option_ids"]
    unknown = [(i, o) for i, o in enumerate(option_ids) if o not in target.option_ids]
    for i, option_id in unknown:
        problems.append((f"{path}/option_ids/{i}",
                         f"question {condition['question_id']!r} has no option {option_id!r}"))
    if unknown:
        return False
    if not option_ids:
        problems.append((f"{path}/option_ids", "lists no options, so it is never shown"))
        return False
    if not shown:
        problems.append((path, f"depends on question {condition['question_id']!r}, "
                               "which is never shown"))
        return False
    return True
