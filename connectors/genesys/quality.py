"""Quality: published evaluation forms and evaluations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from connectors.genesys.body import query
from connectors.http import Transport

BASE = "/api/v2/quality"


class QualityClient:
    def __init__(self, transport: Transport):
        self._t = transport

    def published_form(self, form_id: str) -> dict[str, Any]:
        """EvaluationFormResponse of the published version (question groups, weights)."""
        return self._t.request("GET", f"{BASE}/publishedforms/evaluations/{form_id}")

    def evaluation(self, conversation_id: str, evaluation_id: str, *,
                   expand_form: bool = True) -> dict[str, Any]:
        """EvaluationResponse: status, dates, version and ``answers`` (an EvaluationScoringSet).

        ``expand=evaluationForm`` makes ``evaluationForm`` the full EvaluationFormResponse the
        evaluation was scored with (its multiple-select answer ids are needed to read answers).
        """
        params = query(expand="evaluationForm" if expand_form else None)
        return self._t.request(
            "GET", f"{BASE}/conversations/{conversation_id}/evaluations/{evaluation_id}",
            params=params)

    def query_evaluations(
        self,
        *,
        conversation_id: str | None = None,
        agent_user_id: str | None = None,
        evaluator_user_id: str | None = None,
        assignee_user_id: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        expand_answer_total_scores: bool | None = None,
        page_size: int = 25,
    ) -> Iterator[dict[str, Any]]:
        """Evaluations matching the filters; the host needs at least one of the four ids."""
        ids = (conversation_id, agent_user_id, evaluator_user_id, assignee_user_id)
        if not any(ids):
            raise ValueError("give a conversation, agent, evaluator or assignee id")
        params = query(
            conversationId=conversation_id,
            agentUserId=agent_user_id,
            evaluatorUserId=evaluator_user_id,
            assigneeUserId=assignee_user_id,
            startTime=start_time,
            endTime=end_time,
            expandAnswerTotalScores=expand_answer_total_scores,
            pageSize=page_size,
        )
        return self._t.paginate(f"{BASE}/evaluations/query", params)
