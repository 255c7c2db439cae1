"""Interaction text analytics, stored per interaction: load -> adapt -> analyse (redaction first)
-> store -> audit.

The coaching pipeline keeps its own cheap per-party sentiment (services/text.py) untouched: the
full detector set (fuzzy compliance phrases, YAKE, escalation rules) costs far more per
transcript than the pipeline's per-event budget, so it runs here, on demand or from
``flask quality analyse``, and its flat results feed sampling's risk rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extension.analytics.models.facts import InteractionFact
from extension.analytics.models.interactions import Interaction
from extension.platform import audit
from extension.platform import errors as domain_errors
from extension.platform.auth import scope
from extension.platform.auth.permissions import Principal
from extension.platform.db import get_db
from extension.platform.models._types import utcnow
from extension.platform.queue import job
from extension.text import phrase_lists
from extension.text.domain.analysis import TextConfig, analyze_transcript
from extension.text.domain.transcripts import normalise
from extension.text.models import InteractionTextAnalytics


def _model():
    from extension.text import scoring as text

    return text._model()  # the product's sentiment choice (COACHWIRE_SENTIMENT)


def analyse_and_store(session: Session, tenant_id: str, conversation_id: str, transcript: Any,
                      channel: str | None = None, *, actor: str = "system",
                      model=None, config: TextConfig | None = None) -> InteractionTextAnalytics:
    """Analyse one transcript (a Genesys STA document, chat turns, utterances or an email body)
    with the tenant's phrase lists and store the result, replacing an earlier one. Only redacted
    text is ever stored."""
    utterances = normalise(transcript, channel=channel)
    config = config or phrase_lists.text_config(session, tenant_id)
    result = analyze_transcript(utterances, model=model or _model(), config=config)
    compliance = result["compliance"]
    row = session.get(InteractionTextAnalytics, (tenant_id, conversation_id))
    if row is None:
        row = InteractionTextAnalytics(tenant_id=tenant_id, conversation_id=conversation_id)
        session.add(row)
    row.channel = channel
    row.customer_sentiment = result["sentiment"]["customer"]
    row.agent_sentiment = result["sentiment"]["agent"]
    row.escalation = result["escalation"]["present"]
    row.compliance_miss = any(not c["present"] for c in compliance.values())
    row.prohibited_count = len(result["prohibited"])
    row.silence_ratio = result["timing"]["silence_ratio"]
    row.overtalk_ratio = result["timing"]["overtalk_ratio"]
    row.result = result
    row.analysed_at = utcnow()
    session.flush()
    audit.record(session, tenant_id=tenant_id, actor=actor, action="interaction.text_analysed",
                 subject_type="interaction", subject_id=conversation_id,
                 details={"utterances": len(result["utterances"]), "pii_redacted": len(result["pii"]),
                          "escalation": row.escalation, "compliance_missing":
                          sorted(name for name, c in compliance.items() if not c["present"]),
                          "prohibited": row.prohibited_count})
    return row


@job(queue="default", retries=3, intervals=(5, 30, 120))
def analyse_conversations(tenant_id: str, conversation_ids: list[str]) -> int:
    """The pipeline's follow-up after a batch with new transcript phrases: analyse each
    conversation's transcript as stored now (a later batch re-analyses a longer one)."""
    db, done = get_db(), 0
    with db.session() as session:
        found = session.scalars(select(Interaction).where(
            Interaction.tenant_id == tenant_id, Interaction.conversation_id.in_(conversation_ids),
            Interaction.transcript.is_not(None)).order_by(Interaction.conversation_id)).all()
        model = _model() if found else None
        config = phrase_lists.text_config(session, tenant_id) if found else None
        for interaction in found:
            with session.begin_nested():
                analyse_and_store(session, tenant_id, interaction.conversation_id, interaction.transcript,
                                  interaction.channel, actor="system:pipeline", model=model, config=config)
            done += 1
    return done


def stored_transcripts(session: Session, tenant_id: str, *,
                       since: datetime | None = None) -> Iterator[Interaction]:
    """The tenant's interactions with a transcript (updated since ``since``), oldest first."""
    query = select(Interaction).where(Interaction.tenant_id == tenant_id, Interaction.transcript.is_not(None))
    if since is not None:
        query = query.where(Interaction.updated_at >= since)
    yield from session.scalars(query.order_by(Interaction.updated_at, Interaction.conversation_id))


def analyse_stored(session: Session, tenant_id: str, *, since: datetime | None = None,
                   actor: str = "cli") -> int:
    """Analyse every stored transcript of the tenant (each under a savepoint); returns the count."""
    done = 0
    model, config = _model(), phrase_lists.text_config(session, tenant_id)
    for interaction in list(stored_transcripts(session, tenant_id, since=since)):
        if not interaction.transcript:
            continue
        with session.begin_nested():
            analyse_and_store(session, tenant_id, interaction.conversation_id, interaction.transcript,
                              interaction.channel, actor=actor, model=model, config=config)
        done += 1
    return done


def _agent_of(session: Session, tenant_id: str, conversation_id: str) -> str | None:
    fact = session.get(InteractionFact, (tenant_id, conversation_id))
    if fact is not None and fact.agent_id:
        return fact.agent_id
    interaction = session.get(Interaction, (tenant_id, conversation_id))
    return interaction.agent_id if interaction is not None else None


def for_principal(session: Session, principal: Principal, conversation_id: str) -> dict[str, Any]:
    """The stored analytics of one interaction if the caller may read it: 404 when it is not in
    the tenant (or not analysed), 403 when its agent is outside the caller's scope."""
    row = session.get(InteractionTextAnalytics, (principal.tenant_id, conversation_id))
    if row is None:
        raise domain_errors.NotFound(f"No text analytics for interaction {conversation_id!r}.")
    agent_id = _agent_of(session, principal.tenant_id, conversation_id)
    visible = scope.visible_agent_ids(session, principal)
    if visible is not None and agent_id not in visible:
        raise domain_errors.Forbidden("This interaction is outside your scope.")
    return {"conversation_id": conversation_id, "agent_id": agent_id, "channel": row.channel,
            "analysed_at": row.analysed_at,
            "summary": {"customer_sentiment": row.customer_sentiment,
                        "agent_sentiment": row.agent_sentiment, "escalation": row.escalation,
                        "compliance_miss": row.compliance_miss, "prohibited_count": row.prohibited_count,
                        "silence_ratio": row.silence_ratio, "overtalk_ratio": row.overtalk_ratio},
            **row.result}


def signals(session: Session, tenant_id: str,
            conversation_ids: list[str]) -> dict[str, InteractionTextAnalytics]:
    """Stored analytics rows by conversation id (for sampling's risk signals)."""
    found: dict[str, InteractionTextAnalytics] = {}
    for start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[start:start + 500]
        found.update((r.conversation_id, r) for r in session.scalars(select(InteractionTextAnalytics).where(
            InteractionTextAnalytics.tenant_id == tenant_id,
            InteractionTextAnalytics.conversation_id.in_(chunk))))
    return found
