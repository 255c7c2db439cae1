"""Interactions merged from partial events, processed one inbox batch at a time.

A BatchContext caches what every event of a batch needs (tenant settings, interactions) and
collects follow-up work (coaching decisions per agent) so it runs once per batch, not per event.
Events for one conversation may arrive in any order; each apply_* merges what it carries and
re-runs the policy, whose outcomes are stored once per rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from extension.models import Interaction, Tenant

ENDED_FIELDS = ("agent_id", "queue_id", "channel", "wrapup_code", "t_talk_ms", "t_hold_ms",
                "t_acw_ms", "transferred", "ended_at")


@dataclass
class BatchContext:
    session: Session
    tenant_id: str
    _tenant: Tenant | None = None
    interactions: dict[str, Interaction] = field(default_factory=dict)
    agents_with_new_flags: set[str] = field(default_factory=set)

    @property
    def tenant(self) -> Tenant:
        if self._tenant is None:
            self._tenant = self.session.get(Tenant, self.tenant_id)
        return self._tenant

    def interaction(self, conversation_id: str) -> Interaction:
        found = self.interactions.get(conversation_id)
        if found is None:
            found = self.session.get(Interaction, (self.tenant_id, conversation_id))
        if found is None:
            found = Interaction(tenant_id=self.tenant_id, conversation_id=conversation_id,
                                outcomes=[])
            self.session.add(found)
        self.interactions[conversation_id] = found
        return found

    def finish(self) -> None:
        from extension.services import coaching

        coaching.decide_for_agents(self, sorted(self.agents_with_new_flags))


def apply_ended(context: BatchContext, data: dict) -> None:
    interaction = context.interaction(data["conversation_id"])
    for name in ENDED_FIELDS:
        value = data.get(name)
        if value is not None:
            setattr(interaction, name, _coerce(name, value))
    parts = [interaction.t_talk_ms, interaction.t_hold_ms, interaction.t_acw_ms]
    if any(part is not None for part in parts):
        interaction.t_handle_ms = sum(part or 0 for part in parts)
    _evaluate(interaction, context)


def apply_sentiment(context: BatchContext, data: dict) -> None:
    interaction = context.interaction(data["conversation_id"])
    interaction.customer_sentiment = float(data["customer_score"])
    if data.get("trend") is not None:
        interaction.sentiment_trend = float(data["trend"])
    _evaluate(interaction, context)


def apply_transcript(context: BatchContext, data: dict) -> None:
    from extension.services import text

    interaction = context.interaction(data["conversation_id"])
    phrases = text.store_phrases(interaction.transcript, data.get("phrases") or [])
    interaction.transcript = phrases
    scores = text.party_scores(phrases)
    interaction.agent_sentiment = scores.get("agent")
    if interaction.customer_sentiment is None and scores.get("customer") is not None:
        interaction.customer_sentiment = scores["customer"]
    _evaluate(interaction, context)


def _evaluate(interaction: Interaction, context: BatchContext) -> None:
    from extension.services import coaching

    coaching.evaluate_interaction(interaction, context)


def _coerce(name: str, value):
    if name == "ended_at" and isinstance(value, str):
        from datetime import datetime

        return datetime.fromisoformat(value)
    return value
