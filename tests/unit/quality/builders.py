"""Small builders for evaluation-form documents, so each test shows only what it is about."""

from __future__ import annotations

from extension.quality.domain.forms import parse_form
from extension.quality.domain.scoring import Answer, Answers


def yes_no(qid: str, **extra) -> dict:
    """A 1-point yes/no question with options ``<qid>y`` (1) and ``<qid>n`` (0)."""
    options = [{"id": f"{qid}y", "text": "Yes", "value": 1},
               {"id": f"{qid}n", "text": "No", "value": 0}]
    return {"id": qid, "text": f"Question {qid}?", "type": "yes_no", "options": options, **extra}


def choice(qid: str, values: list[int], **extra) -> dict:
    """A multiple-choice question with options ``<qid>o<i>`` worth ``values[i]``."""
    options = [{"id": f"{qid}o{i}", "text": f"option {i}", "value": v}
               for i, v in enumerate(values)]
    return {"id": qid, "text": f"Question {qid}?", "type": "multiple_choice",
            "options": options, **extra}


def free_text(qid: str, **extra) -> dict:
    return {"id": qid, "text": f"Notes {qid}", "type": "free_text", **extra}


def group(gid: str, *questions: dict, weight: float = 1.0, **extra) -> dict:
    return {"id": gid, "name": f"Group {gid}", "weight": weight, "questions": list(questions),
            **extra}


def form_doc(*groups: dict, mode: str = "SCALED", **extra) -> dict:
    return {"id": "form-1", "name": "Support call", "weight_mode": mode, "groups": list(groups),
            **extra}


def form(*groups: dict, mode: str = "SCALED"):
    return parse_form(form_doc(*groups, mode=mode))


def when(question_id: str, *option_ids: str) -> dict:
    return {"question_id": question_id, "option_ids": list(option_ids)}


def answers(na_groups=(), **picks) -> Answers:
    """``answers(q1="q1y", q2="na")``: an option id per question, or "na"."""
    return Answers(
        questions={q: Answer(na=True) if v == "na" else Answer(option_id=v)
                   for q, v in picks.items()},
        na_groups=frozenset(na_groups),
    )
