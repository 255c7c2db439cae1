"""GET /api/v1/interactions/<conversation_id>/analytics: stored text analytics of one interaction."""

from __future__ import annotations

from flask import Blueprint

from extension.platform.api.plumbing import documented, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import ANALYTICS_READ
from extension.platform.db import get_db
from extension.text import interaction_analytics as service
from extension.text.api import schemas as qm

bp = Blueprint("api_interaction_analytics", __name__, url_prefix="/api/v1")


@bp.get("/interactions/<conversation_id>/analytics")
@documented(summary="Text analytics of one interaction (redacted text, spans with offsets)",
            response=qm.InteractionTextAnalyticsOut, tag="quality")
@require(ANALYTICS_READ)
def interaction_analytics(conversation_id: str):
    """Per-utterance and per-party sentiment, key phrases, compliance statements found and
    missing, prohibited phrases, escalation triggers, silence and over-talk ratios. Offsets index
    the stored, PII-redacted utterances. Agents read their own interactions, supervisors their
    teams', QA analysts, managers and admins the tenant's."""
    principal = current_principal()
    with get_db().session() as session:
        body = service.for_principal(session, principal, conversation_id)
    return respond(body)
