"""Two sampling runs assigning the same conversation at once create one evaluation, and two
runs racing for the last unit of an evaluator's headroom never exceed the cap."""

from __future__ import annotations

import threading

from extension.quality import evaluations
from extension.quality.models.evaluations import Evaluation, EvaluatorCap
from tests.integration.quality.conftest import count, handled


def _race(db, calls):
    barrier, errors = threading.Barrier(len(calls)), []

    def run(kwargs):
        barrier.wait()
        try:
            with db.session() as session:
                evaluations.assign(session, tenant_id="acme", agent_id="a1", actor="sampling", **kwargs)
        except Exception as exc:  # a refusal (409) is an expected outcome for the loser
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(kwargs,)) for kwargs in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_concurrent_assignment_of_one_conversation_makes_one_evaluation(app, db, published_form):
    handled(db, "c1")
    with app.app_context():
        errors = _race(db, [{"conversation_id": "c1", "form_id": published_form}] * 4)
    assert errors == []
    assert count(db, Evaluation) == 1


def test_concurrent_assignment_respects_the_cap(app, db, published_form):
    with db.session() as session:
        session.add_all([EvaluatorCap(tenant_id="acme", evaluator_id="qa1", daily_cap=1),
                         EvaluatorCap(tenant_id="acme", evaluator_id="qa2", daily_cap=1)])
    for i in range(4):
        handled(db, f"c{i}")
    with app.app_context():
        errors = _race(db, [{"conversation_id": f"c{i}", "form_id": published_form} for i in range(4)])
    assert len(errors) == 2 and all(getattr(e, "status", None) == 409 for e in errors)
    assert count(db, Evaluation, evaluator_id="qa1") == 1 and count(db, Evaluation, evaluator_id="qa2") == 1
