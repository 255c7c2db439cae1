"""Interaction widget: one conversation's KPIs, sentiment per party, flags and why, compliance
found/missing, and "Add to coaching" (a manual flag, idempotent and audited).

Genesys's interaction widget opens ``/interaction?gcConversationId=<id>``; that redirects to
``/interactions/<id>``, which the drill-down list links to as well. Whoever may not see the
conversation's agent (an agent: anyone but themselves) gets the same 404 as for an unknown id.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from flask_babel import format_datetime, format_decimal, gettext, lazy_gettext
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from extension.analytics.models.facts import InteractionFact
from extension.analytics.models.interactions import Interaction
from extension.analytics.panels.trends import parse_query
from extension.coaching import automation
from extension.coaching.models import Flag
from extension.platform import directory
from extension.platform import errors as domain_errors
from extension.platform.auth import scope
from extension.platform.auth.permissions import COACHING_READ, COACHING_WRITE
from extension.platform.db import get_db
from extension.platform.models.people import Person
from extension.platform.panels import Page, page
from extension.platform.problems import Problem
from extension.text import interaction_analytics as text_analytics

bp = Blueprint("coaching_panels_interaction", __name__, template_folder="templates")

TEMPLATE = "coaching/panels/interaction.html"
ACTIONS = {"flag": lazy_gettext("Flagged for coaching"), "recognize": lazy_gettext("Recognised"),
           "alert": lazy_gettext("Alert")}


class WidgetQuery(Schema):
    gcConversationId = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,100}$"))


@page(bp, "/interaction", view="interaction", permission=COACHING_READ)
def widget(p: Page):
    """What the Genesys interaction widget opens: on to the conversation's page."""
    conversation_id = parse_query(WidgetQuery)["gcConversationId"]
    response = Response(status=303, headers={"Location": p.url(f"interactions/{conversation_id}")})
    return p.headers(response)


@page(bp, "/interactions/<conversation_id>", view="interaction", permission=COACHING_READ)
def interaction(p: Page, conversation_id: str):
    with get_db().session() as session:
        context = _context(session, p, conversation_id)
    return p.render(TEMPLATE, block="coaching", **context)


@page(bp, "/interactions/<conversation_id>/coaching", view="interaction", permission=COACHING_WRITE,
      methods=("POST",))
def add_to_coaching(p: Page, conversation_id: str):
    with get_db().session() as session:
        fact, record, agent_id = _visible(session, p, conversation_id)
        ended = (fact.ended_at if fact is not None else None) or (record.ended_at if record else None)
        _, added = automation.add_manual_flag(session, tenant_id=p.tenant_id, conversation_id=conversation_id,
                                              agent_id=agent_id, at=ended, actor=p.principal.person_id)
    with get_db().session() as session:
        context = _context(session, p, conversation_id)
    return p.render(TEMPLATE, block="coaching", just_added=added, **context)


def _visible(session, p: Page,
             conversation_id: str) -> tuple[InteractionFact | None, Interaction | None, str]:
    """The conversation's fact and pipeline row, if the caller may see its agent; else 404."""
    fact = session.get(InteractionFact, (p.tenant_id, conversation_id))
    record = session.get(Interaction, (p.tenant_id, conversation_id))
    agent_id = (fact.agent_id if fact is not None else None) or (record.agent_id if record else None)
    visible = scope.visible_agent_ids(session, p.principal)
    if agent_id is None or (visible is not None and agent_id not in visible):
        raise Problem(404, "Not Found",
                      gettext("No interaction %(id)s that you may see.", id=conversation_id))
    return fact, record, agent_id


def _context(session, p: Page, conversation_id: str) -> dict[str, Any]:
    fact, record, agent_id = _visible(session, p, conversation_id)
    agent = session.get(Person, (p.tenant_id, agent_id))
    flags = list(session.scalars(select(Flag).where(
        Flag.tenant_id == p.tenant_id, Flag.conversation_id == conversation_id).order_by(Flag.at, Flag.id)))
    try:
        text = text_analytics.for_principal(session, p.principal, conversation_id)
    except domain_errors.NotFound:
        text = None
    source: Any = fact if fact is not None else record
    queue_id = getattr(source, "queue_id", None)
    queue = directory.queue_names(session, p.tenant_id, [queue_id]).get(queue_id or "", queue_id)
    return {
        "title": gettext("Interaction"), "conversation_id": conversation_id,
        "agent_name": (agent.name if agent else None) or agent_id,
        "facts": _facts(fact, record, queue), "sentiment": _sentiment(fact, record, text),
        "flags": [{"rule": f.rule_id, "manual": f.rule_id == automation.MANUAL_RULE,
                   "action": str(ACTIONS.get(f.action, f.action)),
                   "at": format_datetime(f.at, format="short"), "reasons": list(f.reasons or [])}
                  for f in flags],
        "in_coaching": any(f.rule_id == automation.MANUAL_RULE for f in flags),
        "can_add": p.principal.can(COACHING_WRITE),
        "compliance": _compliance(text), "text": text,
        "add_url": p.url(f"interactions/{conversation_id}/coaching"),
    }


def _seconds(ms: int | None) -> str:
    return "–" if ms is None else format_decimal(ms / 1000, format="#,##0")


def _yes_no(value: bool | None) -> str:
    return "–" if value is None else gettext("yes") if value else gettext("no")


def _facts(fact: InteractionFact | None, record: Interaction | None,
           queue: str | None) -> list[tuple[str, str]]:
    source: Any = fact if fact is not None else record
    ended = getattr(source, "ended_at", None)
    csat = getattr(fact, "csat", None)
    qa = getattr(fact, "qa_score", None)
    return [
        (gettext("Ended"), format_datetime(ended, format="short") if ended else "–"),
        (gettext("Channel"), getattr(source, "channel", None) or "–"),
        (gettext("Queue"), queue or "–"),
        (gettext("Inquiry"), getattr(fact, "inquiry", None) or getattr(record, "wrapup_code", None) or "–"),
        (gettext("Handle time (s)"), _seconds(getattr(source, "t_handle_ms", None))),
        (gettext("Talk time (s)"), _seconds(getattr(source, "t_talk_ms", None))),
        (gettext("Hold time (s)"), _seconds(getattr(source, "t_hold_ms", None))),
        (gettext("After-call work (s)"), _seconds(getattr(source, "t_acw_ms", None))),
        (gettext("Transferred"), _yes_no(getattr(source, "transferred", None))),
        (gettext("Resolved on first contact"), _yes_no(getattr(fact, "fcr", None))),
        (gettext("CSAT (1–5)"), "–" if csat is None else format_decimal(csat, format="0.#")),
        (gettext("Quality score (0–100)"), "–" if qa is None else format_decimal(qa, format="0.#")),
    ]


def _tone(score: float | None) -> str:
    if score is None:
        return gettext("not scored")
    if score >= 0.25:
        word = gettext("positive")
    else:
        word = gettext("negative") if score <= -0.25 else gettext("neutral")
    return f"{word} ({format_decimal(score, format='0.00')})"


def _sentiment(fact: InteractionFact | None, record: Interaction | None, text: dict | None) -> list[dict]:
    """Per party: the host's (or pipeline's) score and the text analytics' score."""
    summary = (text or {}).get("summary") or {}
    host_customer = getattr(fact, "customer_sentiment", None)
    if host_customer is None and record is not None:
        host_customer = record.customer_sentiment
    host_agent = getattr(fact, "agent_sentiment", None)
    if host_agent is None and record is not None:
        host_agent = record.agent_sentiment
    return [
        {"party": gettext("Customer"), "conversation": _tone(host_customer),
         "text": _tone(summary.get("customer_sentiment"))},
        {"party": gettext("Agent"), "conversation": _tone(host_agent),
         "text": _tone(summary.get("agent_sentiment"))},
    ]


def _compliance(text: dict | None) -> list[dict]:
    if not text:
        return []
    return [{"name": name, "present": bool(found.get("present")), "evidence": len(found.get("spans") or [])}
            for name, found in sorted((text.get("compliance") or {}).items())]
