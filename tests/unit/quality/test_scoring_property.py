"""Random forms and answers (fixed seed): the engine agrees with a plain re-implementation.

The re-implementation below is written from the rules in ``scoring``'s docstring without
reusing any of its code: a flat list of (weight, critical, score, max) rows, then sums.
"""

import random

import pytest

from extension.quality.domain.forms import parse_form, validate_form
from extension.quality.domain.scoring import Answer, Answers, score

SEED, CASES = 20240611, 400


def random_form(rng: random.Random) -> dict:
    groups, earlier = [], []  # earlier: (question id, option ids) usable in conditions
    for gi in range(rng.randint(1, 4)):
        group_cond = _maybe_condition(rng, earlier) if gi else None
        questions = [_random_question(rng, f"g{gi}q{qi}", earlier)
                     for qi in range(rng.randint(1, 4))]
        groups.append({"id": f"g{gi}", "name": f"G{gi}", "weight": rng.choice([0, 0.5, 1, 3, 40]),
                       "na_enabled": rng.random() < 0.3, "questions": questions,
                       "visibility": group_cond})
        earlier += [(q["id"], [o["id"] for o in q["options"]]) for q in questions if q["options"]]
    if not any(g["weight"] for g in groups):
        groups[0]["weight"] = 1
    return {"id": "f", "name": "random", "weight_mode": rng.choice(["SCALED", "OFF"]),
            "groups": groups}


def _maybe_condition(rng, earlier):
    if not earlier or rng.random() < 0.6:
        return None
    qid, option_ids = rng.choice(earlier)
    return {"question_id": qid, "option_ids": rng.sample(option_ids, rng.randint(1, len(option_ids)))}


def _random_question(rng, qid, earlier):
    kind = rng.choice(["yes_no", "multiple_choice", "scale", "free_text"])
    count = {"yes_no": 2, "multiple_choice": rng.randint(1, 4), "scale": rng.randint(2, 5),
             "free_text": 0}[kind]
    options = [{"id": f"{qid}o{i}", "text": str(i), "value": rng.randint(0, 5)}
               for i in range(count)]
    scored = kind != "free_text"
    return {"id": qid, "text": qid, "type": kind, "options": options,
            "na_enabled": rng.random() < 0.3,
            "is_critical": scored and rng.random() < 0.3, "is_kill": scored and rng.random() < 0.15,
            "visibility": _maybe_condition(rng, earlier)}


def random_answers(rng: random.Random, doc: dict) -> Answers:
    picks = {}
    for group in doc["groups"]:
        for q in group["questions"]:
            roll = rng.random()
            if q["na_enabled"] and roll < 0.15:
                picks[q["id"]] = Answer(na=True)
            elif q["options"] and roll < 0.95:
                picks[q["id"]] = Answer(option_id=rng.choice(q["options"])["id"])
    na_groups = {g["id"] for g in doc["groups"] if g["na_enabled"] and rng.random() < 0.2}
    return Answers(questions=picks, na_groups=frozenset(na_groups))


def reference_score(doc: dict, answers: Answers) -> dict:
    """Straight from the rules: decide who is shown, list counted rows, sum."""
    chosen, rows, killed = {}, [], False

    def shown(cond):
        return cond is None or chosen.get(cond["question_id"]) in cond["option_ids"]

    for group in doc["groups"]:
        weight = group["weight"] if doc["weight_mode"] == "SCALED" else 1
        group_open = shown(group["visibility"]) and group["id"] not in answers.na_groups
        group_rows = []
        for q in group["questions"]:
            answer = answers.questions.get(q["id"], Answer())
            if not (group_open and shown(q["visibility"])) or answer.na:
                continue
            if answer.option_id:
                chosen[q["id"]] = answer.option_id
            if q["type"] == "free_text":
                group_rows.append(None)  # answered or not, it keeps the group from being N/A
                continue
            values = {o["id"]: o["value"] for o in q["options"]}
            got, best = values.get(answer.option_id, 0), max(values.values())
            killed |= q["is_kill"] and answer.option_id is not None and got < best
            group_rows.append((weight, q["is_critical"], got, best))
        rows += [r for r in group_rows if r]

    def pct(selected):
        top = sum(w * m for w, _, _, m in selected)
        return 100 * sum(w * s for w, _, s, _ in selected) / top if top else None

    return {"total": 0.0 if killed else pct(rows), "killed": killed,
            "critical": pct([r for r in rows if r[1]]),
            "non_critical": pct([r for r in rows if not r[1]]),
            "max_raw": sum(r[3] for r in rows)}


@pytest.mark.parametrize("case", range(CASES))
def test_engine_matches_reference_on_random_forms(case):
    rng = random.Random(SEED + case)
    doc = random_form(rng)
    assert validate_form(doc) == []
    answers = random_answers(rng, doc)
    got, expected = score(parse_form(doc), answers), reference_score(doc, answers)
    assert got.any_failed_kill_questions == expected["killed"]
    assert got.max_total_raw_score == expected["max_raw"]
    for ours, theirs in ((got.total_score, expected["total"]),
                         (got.total_critical_score, expected["critical"]),
                         (got.total_non_critical_score, expected["non_critical"])):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours == pytest.approx(theirs)
