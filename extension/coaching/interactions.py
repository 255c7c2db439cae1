"""Interactions merged from partial events, processed one inbox batch at a time.

Events for one conversation may arrive in any order; each apply_* only merges what it carries.
At the end of the batch (`finish`), every transcript that arrived is scored in ONE sentiment call
(a learned model is far cheaper per utterance in a batch), then each touched interaction is
evaluated against the policy under its own savepoint, then coaching decisions run once per
agent. An interaction whose evaluation fails is reported back so its inbox rows are retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from extension.analytics.models.interactions import Interaction
from extension.platform.models.tenants import Tenant

log = logging.getLogger("coachwire.interactions")
ENDED_FIELDS = ("agent_id", "queue_id", "channel", "wrapup_code", "t_talk_ms", "t_hold_ms",
                "t_acw_ms", "transferred", "ended_at")


@dataclass
class BatchContext:
    session: Session
    tenant_id: str
    _tenant: Tenant | None = None
    _host_scores: bool | None = None
    interactions: dict[str, Interaction] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    needs_sentiment: set[str] = field(default_factory=set)
    agents_with_new_flags: set[str] = field(default_factory=set)
    prefetched: set[str] = field(default_factory=set)
    # customer addresses the batch's ended events carried: only their keys are stored (FCR)
    addresses: dict[str, str] = field(default_factory=dict)

    @property
    def host_scores(self) -> bool:
        """Does this tenant's host send customer sentiment (STA)? Seen once, assumed after."""
        if self._host_scores is None:
            self._host_scores = self.session.scalar(select(Interaction.conversation_id).where(
                Interaction.tenant_id == self.tenant_id,
                Interaction.customer_sentiment.is_not(None)).limit(1)) is not None
        return self._host_scores

    @property
    def tenant(self) -> Tenant:
        if self._tenant is None:
            self._tenant = cast(Tenant, self.session.get(Tenant, self.tenant_id))  # the batch's tenant exists
        return self._tenant

    def prefetch(self, conversation_ids) -> None:
        """Load the batch's known interactions in one query instead of one per conversation."""
        wanted = sorted(c for c in conversation_ids if c and c not in self.interactions)
        self.prefetched.update(wanted)
        for start in range(0, len(wanted), 500):
            found = self.session.scalars(select(Interaction).where(
                Interaction.tenant_id == self.tenant_id,
                Interaction.conversation_id.in_(wanted[start:start + 500])))
            self.interactions.update((i.conversation_id, i) for i in found)

    def interaction(self, conversation_id: str) -> Interaction:
        found = self.interactions.get(conversation_id)
        known_absent = found is None and conversation_id in self.prefetched
        if not known_absent and (found is None or found not in self.session):
            # not prefetched, or a rolled-back merge expunged it: ask the database
            found = self.session.get(Interaction, (self.tenant_id, conversation_id))
        if found is None:
            found = Interaction(tenant_id=self.tenant_id, conversation_id=conversation_id,
                                outcomes=[])
            self.session.add(found)
        self.interactions[conversation_id] = found
        self.touched.add(conversation_id)
        return found

    def finish(self) -> dict[str, Exception]:
        """Score, evaluate and decide; returns {conversation_id: error} for failed evaluations."""
        from extension.coaching import automation as coaching

        _score_transcripts(self)
        live = [cid for cid in sorted(self.touched)
                if self.interactions[cid] in self.session]  # else only a failed merge made it
        failed: dict[str, Exception] = {}
        try:
            with self.session.begin_nested():  # one savepoint; row by row only on failure
                for conversation_id in live:
                    coaching.evaluate_interaction(self.interactions[conversation_id], self)
        except Exception:
            self.agents_with_new_flags.clear()
            failed = self._evaluate_one_by_one(live)
        coaching.decide_for_agents(self, sorted(self.agents_with_new_flags))
        _record_facts(self, skip=failed)
        return failed

    def _evaluate_one_by_one(self, conversation_ids: list[str]) -> dict[str, Exception]:
        from extension.coaching import automation as coaching

        failed = {}
        for conversation_id in conversation_ids:
            try:
                with self.session.begin_nested():
                    coaching.evaluate_interaction(self.interactions[conversation_id], self)
            except Exception as exc:
                log.exception("evaluating conversation %s failed", conversation_id)
                failed[conversation_id] = exc
        return failed


FACT_FROM_INTERACTION = ("agent_id", "queue_id", "channel", "ended_at", "t_talk_ms", "t_hold_ms",
                         "t_acw_ms", "t_handle_ms", "transferred", "customer_sentiment",
                         "agent_sentiment", "n_hold")


def _record_facts(context: BatchContext, *, skip) -> None:
    """Feed the analytics facts and rollups from what this batch learned. Fields only other
    sources know (CSAT, QA, predictions, the inquiry from sync) are kept, not blanked."""
    from extension.analytics import facts as analytics
    from extension.analytics import outcome as analytics_model

    touched = [context.interactions[cid] for cid in sorted(context.touched) if cid not in skip]
    ready = [i for i in touched if i in context.session and i.agent_id and i.ended_at]
    if not ready:
        return
    with context.session.begin_nested():
        stored = analytics.stored_facts(context.session, tenant_id=context.tenant_id,
                                        ids=[i.conversation_id for i in ready])
        teams = _current_teams(context, {i.agent_id for i in ready})
        records = [_fact_record(i, stored.get(i.conversation_id) or {}, teams) for i in ready]
        _add_customer_keys(context, records)
        records = analytics_model.predicted_if_fitted(context.session, context.tenant_id, records)
        analytics.upsert_facts(context.session, tenant_id=context.tenant_id, records=records,
                               tz=context.tenant.timezone)


def _add_customer_keys(context: BatchContext, records: list[dict]) -> None:
    """The customer key of each record whose ended event carried the customer's address in
    this batch (the address itself is never stored, on the interaction or the fact)."""
    from extension.analytics import fcr

    for record in records:
        address = context.addresses.get(record["conversation_id"])
        key = fcr.key_for(context.session, context.tenant_id, address) if address else None
        if key is not None:
            record["customer_key"] = key


def _current_teams(context: BatchContext, agent_ids: set) -> dict[str, str | None]:
    """Each agent's team now (one query per batch): a live fact is written within moments of
    the conversation, so this is the agent's team as of the interaction."""
    from extension.platform.models.people import Person

    wanted = sorted(a for a in agent_ids if a)
    found: dict[str, str | None] = {}
    for start in range(0, len(wanted), 500):
        query = select(Person.id, Person.team_id).where(
            Person.tenant_id == context.tenant_id, Person.id.in_(wanted[start:start + 500]))
        found.update(context.session.execute(query).tuples().all())
    return found


def _fact_record(interaction: Interaction, stored: dict, teams: dict[str, str | None]) -> dict:
    record = {**stored, "conversation_id": interaction.conversation_id}
    for name in FACT_FROM_INTERACTION:
        value = getattr(interaction, name)
        if value is not None:
            record[name] = value
    # the pipeline's wrap-up is the latest the host sent (a corrected code replaces the first);
    # without one the stored inquiry (e.g. from the history sync) stays
    if interaction.wrapup_code is not None:
        record["inquiry"] = interaction.wrapup_code
    # the team as of the interaction: the one already stored for this agent (by the sync from
    # the host's teamId, or by an earlier batch) stays; else the agent's team now
    if not (stored.get("team_id") and stored.get("agent_id") == record["agent_id"]):
        record["team_id"] = teams.get(record["agent_id"])
    if interaction.customer_sentiment is None and interaction.transcript_customer_sentiment is not None:
        record["customer_sentiment"] = interaction.transcript_customer_sentiment
    return record


def release_transcript_fallbacks(session: Session, *, grace: timedelta, limit: int = 2000) -> set[str]:
    """Evaluate conversations that waited `grace` for the host's customer score in vain, with
    our transcript score instead. Returns the tenants touched (their effects need dispatching)."""
    from extension.platform.models._types import utcnow

    now = utcnow()
    waiting = session.scalars(select(Interaction).where(
        Interaction.customer_sentiment.is_(None),
        Interaction.transcript_customer_sentiment.is_not(None),
        Interaction.fallback_after.is_(None), Interaction.agent_id.is_not(None),
        Interaction.updated_at <= now - grace).order_by(Interaction.updated_at).limit(limit)).all()
    by_tenant: dict[str, list[Interaction]] = {}
    for interaction in waiting:
        by_tenant.setdefault(interaction.tenant_id, []).append(interaction)
    for tenant_id, interactions in by_tenant.items():
        context = BatchContext(session=session, tenant_id=tenant_id)
        for interaction in interactions:
            interaction.fallback_after = now
            context.interactions[interaction.conversation_id] = interaction
            context.touched.add(interaction.conversation_id)
        context.finish()
    return set(by_tenant)


def _score_transcripts(context: BatchContext) -> None:
    from extension.text import scoring as text

    pending = [context.interactions[cid] for cid in sorted(context.needs_sentiment)]
    for interaction, scores in zip(pending, text.party_scores_many(
            [i.transcript or [] for i in pending]), strict=True):
        interaction.agent_sentiment = scores.get("agent")
        interaction.transcript_customer_sentiment = scores.get("customer")


def apply_ended(context: BatchContext, data: dict) -> None:
    interaction = context.interaction(data["conversation_id"])
    if data.get("customer_address"):
        context.addresses[data["conversation_id"]] = data["customer_address"]
    for name in ENDED_FIELDS:
        value = data.get(name)
        if value is not None:
            setattr(interaction, name, _coerce(name, value))
    parts = [interaction.t_talk_ms, interaction.t_hold_ms, interaction.t_acw_ms]
    if any(part is not None for part in parts):
        interaction.t_handle_ms = sum(part or 0 for part in parts)


def apply_sentiment(context: BatchContext, data: dict) -> None:
    if data.get("customer_score") is None:  # an STA event without a score carries nothing
        return
    interaction = context.interaction(data["conversation_id"])
    interaction.customer_sentiment = float(data["customer_score"])
    context._host_scores = True
    if data.get("trend") is not None:
        interaction.sentiment_trend = float(data["trend"])


def apply_transcript(context: BatchContext, data: dict) -> None:
    from extension.text import scoring as text

    interaction = context.interaction(data["conversation_id"])
    interaction.transcript = text.store_phrases(interaction.transcript, data.get("phrases") or [])
    context.needs_sentiment.add(interaction.conversation_id)


def _coerce(name: str, value):
    if name == "ended_at" and isinstance(value, str):
        from datetime import datetime

        return datetime.fromisoformat(value)
    return value
