"""Coaching automation shell: facts -> policy -> flags -> pattern decision -> effects.

The decisions are pure functions in extension.domain; this module loads what they need, stores
their results with audit rows, and hands outbound work (booking, recognition) to effect jobs that
run after the batch commits. Every effect row carries an idempotency key under a unique
constraint before any host call.
"""

from __future__ import annotations

import logging
import zlib
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from extension.analytics.models.interactions import Interaction
from extension.coaching.domain import pattern as coaching_rules
from extension.coaching.domain import policies
from extension.coaching.models import Appointment, Flag, Recognition
from extension.platform import audit
from extension.platform.models._types import utcnow
from extension.text.domain.recognition import praise_for_agent
from extension.text.domain.spans import Utterance

log = logging.getLogger("coachwire.coaching")
ACTOR = "system:coaching"


def tenant_policy(tenant) -> dict:
    return tenant.policy or policies.DEFAULT_POLICY


def customer_sentiment(interaction: Interaction, *, host_scores_expected: bool) -> float | None:
    """The host's score when it has come; our transcript score only when the host gives none.

    A tenant whose host scores conversations (STA) may deliver that score after the transcript;
    using ours meanwhile would make the outcome depend on arrival order. So ours waits until the
    sweeper marks the conversation as past its grace period (`fallback_after`).
    """
    if interaction.customer_sentiment is not None:
        return interaction.customer_sentiment
    waiting = host_scores_expected and (interaction.fallback_after is None
                                        or interaction.fallback_after > utcnow())
    return None if waiting else interaction.transcript_customer_sentiment


def agent_praised(phrases: list[dict] | None) -> bool:
    """The customer praised the agent somewhere in the (redacted) transcript."""
    utterances = [Utterance(party=p["party"], text=p["text"]) for p in phrases or []
                  if p.get("party") in ("agent", "customer") and p.get("text")]
    return bool(praise_for_agent(utterances))


def facts_for(interaction: Interaction, history: dict[str, int], *, customer: float | None) -> dict:
    transcript = " ".join(p["text"] for p in interaction.transcript or [])
    facts = {
        "customer_sentiment": customer,
        "agent_sentiment": interaction.agent_sentiment,
        "channel": interaction.channel, "queue_id": interaction.queue_id,
        "wrapup_code": interaction.wrapup_code, "t_handle_ms": interaction.t_handle_ms,
        "t_hold_ms": interaction.t_hold_ms, "transferred": interaction.transferred,
        "transcript": transcript or None,
        "agent_praised": agent_praised(interaction.transcript) if transcript else None,
    }
    facts.update(history)
    return {key: value for key, value in facts.items() if value is not None}


def _history(context, interaction: Interaction, policy: dict) -> dict[str, int]:
    counts = {}
    for days in policies.history_windows(policy):
        since = utcnow() - timedelta(days=days)
        counts[f"flags_within:{days}"] = context.session.scalar(
            select(func.count(Flag.id)).where(
                Flag.tenant_id == context.tenant_id, Flag.agent_id == interaction.agent_id,
                Flag.action == "flag", Flag.at >= since)) or 0
    return counts


def evaluate_interaction(interaction: Interaction, context) -> None:
    """Re-run the policy whenever an interaction gains facts; outcomes are stored once per rule."""
    customer = customer_sentiment(interaction, host_scores_expected=context.host_scores)
    if not interaction.agent_id or customer is None:
        return
    policy = tenant_policy(context.tenant)
    facts = facts_for(interaction, _history(context, interaction, policy), customer=customer)
    outcomes = policies.evaluate(policy, facts)
    seen = set(interaction.outcomes or [])
    for outcome in outcomes:
        if outcome.rule_id in seen:
            continue
        seen.add(outcome.rule_id)
        _store_outcome(interaction, outcome, context)
    interaction.outcomes = sorted(seen)


def _store_outcome(interaction: Interaction, outcome, context) -> None:
    at = interaction.ended_at or utcnow()
    flag = Flag(tenant_id=context.tenant_id, conversation_id=interaction.conversation_id,
                agent_id=interaction.agent_id, rule_id=outcome.rule_id, action=outcome.action,
                at=at, reasons=list(outcome.reasons))
    context.session.add(flag)
    context.session.flush()
    audit.record(context.session, tenant_id=context.tenant_id, actor=ACTOR,
                 action=f"interaction.{'flagged' if outcome.action == 'flag' else outcome.action}",
                 subject_type="interaction", subject_id=interaction.conversation_id,
                 details={"rule": outcome.rule_id, "agent_id": interaction.agent_id,
                          "reasons": list(outcome.reasons)})
    if outcome.action == "flag":
        context.agents_with_new_flags.add(interaction.agent_id)
    elif outcome.action == "recognize":
        _create_recognition(context, interaction, tenant_policy(context.tenant))


def _create_recognition(context, interaction: Interaction, policy: dict) -> None:
    kind = (policy.get("recognition") or {}).get("type", "ThankYou")
    context.session.add(Recognition(
        tenant_id=context.tenant_id, agent_id=interaction.agent_id,
        conversation_id=interaction.conversation_id, kind=kind,
        idempotency_key=f"recognition:{interaction.conversation_id}"))


def _lock_agent(session, tenant_id: str, agent_id: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"coaching:{tenant_id}:{agent_id}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def decide_for_agents(context, agent_ids: list[str]) -> None:
    for agent_id in agent_ids:
        with context.session.begin_nested():
            decide_for_agent(context, agent_id)


def decide_for_agent(context, agent_id: str) -> None:
    session, tenant = context.session, context.tenant
    _lock_agent(session, context.tenant_id, agent_id)
    settings = {**policies.DEFAULT_POLICY["coaching"],
                **(tenant_policy(tenant).get("coaching") or {})}
    now, tz = utcnow(), ZoneInfo(tenant.timezone)
    flags = list(session.scalars(select(Flag).where(
        Flag.tenant_id == tenant.id, Flag.agent_id == agent_id, Flag.action == "flag",
        Flag.appointment_id.is_(None), Flag.at >= now - timedelta(days=settings["window_days"]))))
    appointments = list(session.scalars(select(Appointment).where(
        Appointment.tenant_id == tenant.id, Appointment.agent_id == agent_id,
        Appointment.created_at >= now - timedelta(days=21))))
    decision = coaching_rules.decide_appointment(
        flags=[coaching_rules.Flag(f.conversation_id, f.at) for f in flags],
        automated_appointments=[coaching_rules.Appt(a.created_at, a.date_start, _host_status(a))
                                for a in appointments],
        now=now, settings=settings, tz=tenant.timezone)
    if decision.action == "book":
        _create_appointment(context, agent_id, decision, flags, settings, week_key(now, tz))
    elif decision.action in ("rate_limited", "pending_exists"):
        audit.record(session, tenant_id=tenant.id, actor=ACTOR,
                     action=f"coaching.skipped.{decision.action}", subject_type="agent",
                     subject_id=agent_id, details=dict(decision.reason))


def _host_status(appointment: Appointment) -> str:
    return {"booked": "Scheduled", "pending": "Scheduled", "booking": "Scheduled",
            "manual": "Scheduled", "failed": "InvalidSchedule"}.get(appointment.status, "Completed")


def week_key(now, tz) -> str:
    year, week, _ = now.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def _create_appointment(context, agent_id, decision, flags, settings, week) -> None:
    session = context.session
    seq = session.scalar(select(func.count(Appointment.id)).where(
        Appointment.tenant_id == context.tenant_id, Appointment.agent_id == agent_id,
        Appointment.week_key == week)) or 0
    appointment = Appointment(
        tenant_id=context.tenant_id, agent_id=agent_id, week_key=week, week_seq=seq,
        idempotency_key=f"coaching:{agent_id}:{week}:{seq}", status="pending",
        conversation_ids=list(decision.conversation_ids),
        length_minutes=int(settings["length_minutes"]), decision=dict(decision.reason))
    session.add(appointment)
    session.flush()  # the (agent, week, seq) key makes a racing second booking fail here
    linked = set(decision.conversation_ids)
    for flag in flags:
        if flag.conversation_id in linked:
            flag.appointment_id = appointment.id
    audit.record(session, tenant_id=context.tenant_id, actor=ACTOR,
                 action="coaching.appointment_decided", subject_type="appointment",
                 subject_id=str(appointment.id),
                 details={"agent_id": agent_id, "conversation_ids": appointment.conversation_ids,
                          "reason": dict(decision.reason)})


# --- manual flags (the interaction widget's "Add to coaching") ----------------------------------

MANUAL_RULE = "manual"


def add_manual_flag(session, *, tenant_id: str, conversation_id: str, agent_id: str, at,
                    actor: str, note: str | None = None) -> tuple[Flag, bool]:
    """A person marked this conversation as coaching evidence for its agent: a ``flag`` row under
    the rule ``manual`` (the unique (conversation, rule) key makes a second click a no-op) and an
    audit row naming the actor. Returns (the flag, whether it is new). The pattern decision
    (:func:`decide_for_agent`) counts it with the policy's flags when it next runs for the agent."""
    existing = session.scalar(select(Flag).where(
        Flag.tenant_id == tenant_id, Flag.conversation_id == conversation_id, Flag.rule_id == MANUAL_RULE))
    if existing is not None:
        return existing, False
    reasons = [f"added to coaching by {actor}"] + ([note] if note else [])
    flag = Flag(tenant_id=tenant_id, conversation_id=conversation_id, agent_id=agent_id,
                rule_id=MANUAL_RULE, action="flag", at=at or utcnow(), reasons=reasons)
    try:
        with session.begin_nested():
            session.add(flag)
            session.flush()
    except IntegrityError:  # another click won the race: that flag stands
        again = session.scalar(select(Flag).where(
            Flag.tenant_id == tenant_id, Flag.conversation_id == conversation_id,
            Flag.rule_id == MANUAL_RULE))
        if again is None:
            raise
        return again, False
    audit.record(session, tenant_id=tenant_id, actor=actor, action="interaction.flagged",
                 subject_type="interaction", subject_id=conversation_id,
                 details={"rule": MANUAL_RULE, "agent_id": agent_id, "reasons": reasons})
    return flag, True
