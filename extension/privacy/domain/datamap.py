"""The data map: every table and column that holds personal data, its data class, the lawful
basis note and the retention default, kept in code so that a new column without a class fails a
test (tests/unit/privacy/test_datamap.py) and docs/privacy.md is rendered from it.

A column is either classified here (``Col``) or listed as not personal (``not_personal`` of its
table, or ``COMMON_NOT_PERSONAL``); a table no capability stores personal data in is listed in
``NOT_PERSONAL_TABLES``. ``ref`` says how subject access and erasure find a subject's rows:

- ``person``: the column holds a host user id (compared for equality);
- ``text``: free text or JSON that may quote user ids, names or e-mail addresses (searched with
  LIKE for export, rewritten by :func:`extension.privacy.domain.scrub.scrub` on erasure);
- ``customer``: the customer key (HMAC of the customer's address, never the address);
- ``conversation``: a host conversation id (a customer's rows are found through these).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

Ref = Literal["person", "text", "customer", "conversation"]
# what erasure does with a person's rows of a table
PersonAction = Literal["pseudonymise", "delete", "keep"]
# what erasure does with a column of a customer's rows: NULL it, empty it, or mark it erased
CustomerAction = Literal["null", "empty", "erased"]


@dataclass(frozen=True)
class DataClass:
    key: str
    title: str
    lawful_basis: str
    retention_days: int | None  # None: not deleted by age (see retention_note)
    retention_note: str


@dataclass(frozen=True)
class Col:
    cls: str
    ref: Ref | None = None
    note: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    purpose: str
    columns: Mapping[str, Col]
    not_personal: frozenset[str] = frozenset()
    on_person_erasure: PersonAction = "pseudonymise"
    # columns rewritten in a customer's rows (rows found by customer key or conversation id)
    on_customer_erasure: Mapping[str, CustomerAction] = field(default_factory=dict)
    retention_class: str | None = None  # the class whose period ages the whole row
    age_column: str | None = None  # the timestamp the retention period counts from


CLASSES: dict[str, DataClass] = {c.key: c for c in (
    DataClass("identity", "Staff identity (name, e-mail, role)",
              "Contract / legitimate interest: the people the tenant lets use Coachwire (GDPR "
              "6(1)(b),(f)); synced from the host directory.", None,
              "Kept while the host lists the user, and erased on request. A tenant period: people "
              "the host deactivated or deleted are erased that many days after."),
    DataClass("person_ref", "Staff references (host user ids)",
              "Legitimate interest (6(1)(f)): links a row to the staff member it is about or who acted.",
              None, "Follows the row it is in; pseudonymised by erasure."),
    DataClass("performance", "Interaction facts and agent performance",
              "Legitimate interest in quality management (6(1)(f)); employee data under local "
              "labour law and works agreements.", 400,
              "Facts older than the period lose their customer key; daily rollups (sums) are kept."),
    DataClass("customer_ref", "Customer keys (keyed hash of the customer's address)",
              "Legitimate interest (6(1)(f)) in measuring first-contact resolution; the address "
              "itself is never stored outside raw inbox payloads.", 400,
              "Set to NULL past the period (the fact is kept, unlinked from the customer)."),
    DataClass("interaction_ref", "Conversation ids",
              "Legitimate interest (6(1)(f)): the host's id of an interaction, linking rows to "
              "a contact and through it to a customer.", None, "Follows the row it is in."),
    DataClass("transcript", "Transcripts and text analytics (PII-redacted)",
              "Legitimate interest (6(1)(f)) and the host's recording notice; cards, national "
              "ids, e-mail addresses and phone numbers are redacted before storage.", 90,
              "Transcript text and analysis details are removed past the period; scores stay."),
    DataClass("raw_payload", "Raw inbound payloads (inbox)",
              "Legitimate interest (6(1)(f)): processing, retries and replay of host events. May "
              "hold customer addresses and unredacted text as the host sent them.", 30,
              "Processed inbox rows are deleted past the period (unprocessed ones are kept)."),
    DataClass("evaluation", "Quality evaluations, disputes and calibration",
              "Legitimate interest (6(1)(f)) / employment contract: quality management of staff.",
              730, "Reported past the period; deletion is the tenant's decision (see retention)."),
    DataClass("coaching", "Coaching: flags, appointments, recognitions, tasks, alerts",
              "Legitimate interest (6(1)(f)): coaching and recognition of staff.", 730,
              "Follows the row; erased with the person."),
    DataClass("contact", "Delivery addresses (alert e-mail recipients)",
              "Legitimate interest (6(1)(f)): delivering alerts to the people who asked for them.",
              90, "Follows the delivery row."),
    DataClass("audit", "Audit trail",
              "Legal obligation and accountability (5(2), 6(1)(c)): a tamper-evident record of "
              "changes and automated actions. Holds host ids, never names or addresses.", None,
              "Not deleted by age (the chain is verified from its start); erasure records itself "
              "in the trail instead of editing it."),
    DataClass("diagnostics", "Error texts and job records",
              "Legitimate interest (6(1)(f)): operating the service. Errors may quote ids.", None,
              "Follows the row; scrubbed by erasure."),
)}

# operational columns that hold no personal data wherever they appear
COMMON_NOT_PERSONAL = frozenset({
    "tenant_id", "created_at", "updated_at", "status", "attempts", "next_attempt_at",
    "synced_at", "version",
})

# tables that hold no personal data at all (configuration, operations, organisation-level data)
NOT_PERSONAL_TABLES: dict[str, str] = {
    "sso_states": "panel sign-ins in flight: a hash of the one-time state and of the browser "
                  "binding, the encrypted PKCE verifier and the panel path; kept ten minutes",
    "sso_handovers": "popup sign-ins handing a session to their frame: hashes of the one-time "
                     "ticket, code and bindings, the sealed session id and the panel path; kept "
                     "minutes",
    "sso_jwt_ids": "hashes of host-signed sign-on tokens already used (replay guard); kept "
                   "until the token expires",
    "tenants": "the customer organisation and its host credentials (organisation data)",
    "periodic_leases": "which process runs a periodic job next",
    "worker_heartbeats": "which worker processes are alive",
    "alert_settings": "alert rules and the organisation's webhook",
    "analytics_settings": "FCR window and the sealed secret that keys customer keys",
    "audit_checkpoints": "signed heads of the audit chain (hashes only)",
    "directory_groups": "host groups (organisation structure)",
    "directory_queues": "host routing queues (organisation structure)",
    "outcome_models": "fitted model parameters (aggregates)",
    "quality_settings": "quality defaults of the tenant",
    "sync_cursors": "history sync positions",
    "tenant_sta_status": "whether the host's transcripts are reachable",
}

P: Final = "person"
T: Final = "text"
ROLLUP_COLUMNS = frozenset({
    "day", "week", "month", "quarter", "volume", "timed", "handle_ms", "talk_n", "talk_ms", "hold_n",
    "hold_ms", "acw_n", "acw_ms", "transfer_n", "transfer_yes", "fcr_n", "fcr_yes", "csat_n",
    "csat_sum", "nps_n", "nps_promoters", "nps_detractors", "qa_n", "qa_sum", "csent_n", "csent_sum",
    "asent_n", "asent_sum", "scored", "scored_handle_ms", "expected",
})
# rollup columns that are sums: two cells moved onto one key (a resumed erasure) add up
ADDITIVE = ROLLUP_COLUMNS - {"day", "week", "month", "quarter"}

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("people", "Host users known to Coachwire",
          {"id": Col("person_ref", P), "name": Col("identity"), "email": Col("identity"),
           "role": Col("identity"), "supervisor_id": Col("person_ref", P),
           "tokens_not_before": Col("identity", note="when the person's tokens were revoked")},
          frozenset({"team_id", "active", "role_source"}), on_person_erasure="delete"),
    Table("panel_sessions", "Panel sign-on sessions (the cookie holds only a random id)",
          {"person_id": Col("person_ref", P)},
          # host_token_enc: a sealed credential, not data about the person (never exported;
          # deleted with the row)
          frozenset({"id_hash", "last_seen_at", "expires_at", "host_token_enc",
                     "host_token_expires_at", "host_checked_at", "revoked_at", "revoked_reason",
                     "via"}),
          on_person_erasure="delete"),
    Table("revoked_tokens", "Revoked API tokens", {"person_id": Col("person_ref", P)},
          frozenset({"jti", "revoked_at", "expires_at"}), on_person_erasure="delete"),
    Table("group_members", "Group membership", {"person_id": Col("person_ref", P)},
          frozenset({"group_id"}), on_person_erasure="delete"),
    Table("queue_members", "Queue membership", {"person_id": Col("person_ref", P)},
          frozenset({"queue_id", "joined"}), on_person_erasure="delete"),
    Table("audit_log", "The tamper-evident audit trail",
          {"actor": Col("audit", T), "subject_id": Col("audit", P), "details": Col("audit", T)},
          frozenset({"id", "at", "action", "subject_type", "prev_hash", "hash", "scheme", "key_id"}),
          on_person_erasure="keep"),
    Table("inbox", "Host events as received (normalized), before and after processing",
          {"subject": Col("interaction_ref", "conversation",
                          note="a conversation, user, evaluation or appointment id"),
           "payload": Col("raw_payload", T), "last_error": Col("diagnostics", T)},
          frozenset({"id", "delivery_id", "type", "source_topic", "occurred_at", "received_at",
                     "processed_at"}),
          on_customer_erasure={"payload": "erased"},
          retention_class="raw_payload", age_column="received_at"),
    Table("interactions", "The coaching pipeline's merge buffer of one conversation",
          {"conversation_id": Col("interaction_ref", "conversation"), "agent_id": Col("person_ref", P),
           "customer_sentiment": Col("performance"), "transcript_customer_sentiment": Col("performance"),
           "sentiment_trend": Col("performance"), "agent_sentiment": Col("performance"),
           "transcript": Col("transcript", T), "outcomes": Col("performance", T),
           "t_talk_ms": Col("performance"), "t_hold_ms": Col("performance"), "n_hold": Col("performance"),
           "t_acw_ms": Col("performance"), "t_handle_ms": Col("performance"),
           "transferred": Col("performance"), "wrapup_code": Col("performance")},
          frozenset({"queue_id", "channel", "ended_at", "fallback_after"}),
          on_customer_erasure={"transcript": "null", "outcomes": "empty"}),
    Table("interaction_facts", "One fact row per interaction (analytics)",
          {"conversation_id": Col("interaction_ref", "conversation"), "agent_id": Col("person_ref", P),
           "customer_key": Col("customer_ref", "customer"),
           **{c: Col("performance") for c in (
               "t_talk_ms", "t_hold_ms", "n_hold", "t_acw_ms", "t_handle_ms", "transferred", "fcr",
               "csat", "nps", "qa_score", "customer_sentiment", "agent_sentiment", "p_satisfaction",
               "p_resolution", "inquiry")}},
          frozenset({"team_id", "queue_id", "channel", "ended_at", "local_day"}),
          on_customer_erasure={"customer_key": "null"}),
    Table("kpi_rollups_daily", "Daily sums per agent, team, queue, inquiry and channel",
          {"agent_id": Col("person_ref", P, note="pseudonymised by erasure; the sums are kept")},
          ROLLUP_COLUMNS | {"team_id", "queue_id", "inquiry", "channel"}),
    Table("kpi_rollups_agent_daily", "Daily sums per agent",
          {"agent_id": Col("person_ref", P, note="pseudonymised by erasure; the sums are kept")},
          ROLLUP_COLUMNS),
    # peer snapshots (perf part): a cache of the rollups above, rebuilt by the worker
    Table("peer_snapshots", "Per-agent sums the agent view ranks against (a cache of the rollups)",
          {"payload": Col("performance", note="serialized arrays of agent ids and their summed KPIs "
                                              "for one interval; rebuilt from the rollups within "
                                              "minutes of a change and hourly; a person's erasure "
                                              "deletes the tenant's stored ones (rebuilt after)")},
          frozenset({"start_day", "end_day", "as_of", "built_at", "watermark", "layout"})),
    Table("interaction_text_analytics", "Text analytics of a redacted transcript",
          {"conversation_id": Col("interaction_ref", "conversation"), "result": Col("transcript", T),
           "customer_sentiment": Col("performance"), "agent_sentiment": Col("performance"),
           "escalation": Col("performance"), "compliance_miss": Col("performance"),
           "prohibited_count": Col("performance"), "silence_ratio": Col("performance"),
           "overtalk_ratio": Col("performance")},
          frozenset({"channel", "analysed_at"}),
          on_customer_erasure={"result": "empty"}),
    Table("sta_transcript_fetches", "Backoff state of fetching a voice transcript",
          {"conversation_id": Col("interaction_ref", "conversation"),
           "communication_ids": Col("interaction_ref"), "last_error": Col("diagnostics", T)},
          frozenset({"due_at"})),
    Table("tenant_phrase_lists", "The tenant's compliance phrase lists",
          {"updated_by": Col("person_ref", P)}, frozenset({"kind", "rules"})),
    Table("performance_alerts", "Raised performance alerts",
          {"key": Col("person_ref", T, note="names the agent or team"), "subject_id": Col("person_ref", P),
           "value": Col("performance"), "message": Col("coaching", T), "details": Col("coaching", T)},
          frozenset({"kind", "subject_type", "metric", "raised_at", "cooldown_until"})),
    Table("alert_deliveries", "One channel's delivery of one alert",
          {"alert_key": Col("person_ref", T), "idempotency_key": Col("person_ref", T),
           "recipient": Col("contact", T), "last_error": Col("diagnostics", T)},
          frozenset({"id", "raise_id", "channel", "sent_at"})),
    Table("flags", "Policy matches on an interaction",
          {"conversation_id": Col("interaction_ref", "conversation"), "agent_id": Col("person_ref", P),
           "reasons": Col("coaching", T)},
          frozenset({"id", "rule_id", "action", "at", "appointment_id"})),
    Table("appointments", "Automated coaching appointments",
          {"agent_id": Col("person_ref", P), "facilitator_id": Col("person_ref", P),
           "idempotency_key": Col("person_ref", T), "conversation_ids": Col("interaction_ref", T),
           "date_start": Col("coaching"), "length_minutes": Col("coaching"),
           "decision": Col("coaching", T), "slot_reason": Col("coaching", T),
           "calendar_checked": Col("coaching"), "last_error": Col("diagnostics", T)},
          frozenset({"id", "week_key", "week_seq", "host_appointment_id", "calendar_failures"})),
    Table("recognitions", "Recognitions sent to the host",
          {"agent_id": Col("person_ref", P), "conversation_id": Col("interaction_ref", "conversation"),
           "idempotency_key": Col("person_ref", T), "kind": Col("coaching"),
           "last_error": Col("diagnostics", T)},
          frozenset({"id", "host_recognition_id"})),
    Table("tasks", "Work in a person's panel inbox",
          {"assignee_id": Col("person_ref", P), "title": Col("coaching", T), "details": Col("coaching", T),
           "idempotency_key": Col("person_ref", T)},
          frozenset({"id", "kind"})),
    Table("quality_forms", "Evaluation forms", {"created_by": Col("person_ref", T)},
          frozenset({"id", "name", "interaction_type", "department", "customer_segment",
                     "latest_version", "published_version", "genesys_form_id"})),
    Table("quality_form_versions", "Evaluation form versions", {"created_by": Col("person_ref", T)},
          frozenset({"id", "form_id", "document", "published_at"})),
    Table("evaluations", "Interactions scored against a form",
          {"conversation_id": Col("interaction_ref", "conversation"), "agent_id": Col("person_ref", P),
           "evaluator_id": Col("person_ref", P), "active_key": Col("interaction_ref"),
           "answers": Col("evaluation", T), "na_groups": Col("evaluation"), "scoring": Col("evaluation", T),
           "total_score": Col("evaluation"), "reason": Col("evaluation", T),
           "retract_reason": Col("evaluation", T), "created_by": Col("person_ref", T),
           "host_total_score": Col("evaluation")},
          frozenset({"id", "form_id", "form_version", "due_at", "assigned_at", "assigned_day", "started_at",
                     "submitted_at", "released_at", "acknowledged_at", "retracted_at",
                     "host_evaluation_id", "host_status", "host_version", "host_changed_at"})),
    Table("evaluation_disputes", "Agents' disputes of evaluations",
          {"agent_id": Col("person_ref", P), "resolver_id": Col("person_ref", P),
           "items": Col("evaluation", T), "resolution_note": Col("evaluation", T),
           "changes": Col("evaluation", T), "score_before": Col("evaluation"),
           "score_after": Col("evaluation")},
          frozenset({"id", "evaluation_id", "resolved_at"})),
    Table("evaluator_caps", "An evaluator's daily assignment cap",
          {"evaluator_id": Col("person_ref", P), "daily_cap": Col("evaluation")},
          on_person_erasure="delete"),
    Table("evaluation_fetches", "Host evaluations due to be mirrored",
          {"data": Col("raw_payload", T), "last_error": Col("diagnostics", T)},
          frozenset({"id", "host_evaluation_id", "version_key", "outcome"})),
    Table("calibration_sessions", "Calibration sessions",
          {"conversation_ids": Col("interaction_ref", T), "evaluator_ids": Col("person_ref", T),
           "expert_id": Col("person_ref", P), "report": Col("evaluation", T),
           "created_by": Col("person_ref", T), "closed_by": Col("person_ref", T)},
          frozenset({"id", "name", "form_id", "form_version", "drift_threshold", "closed_at"})),
    Table("calibration_scores", "One evaluator's calibration answers",
          {"evaluator_id": Col("person_ref", P), "conversation_id": Col("interaction_ref", "conversation"),
           "answers": Col("evaluation", T), "na_groups": Col("evaluation"), "total_score": Col("evaluation")},
          frozenset({"id", "session_id"})),
    Table("sampling_plans", "Sampling plans", {"created_by": Col("person_ref", T)},
          frozenset({"id", "name", "document", "active"})),
    Table("sampling_runs", "Sampling runs and their fairness report",
          {"fairness": Col("evaluation", T, note="per-agent report lines"),
           "created_by": Col("person_ref", T)},
          frozenset({"id", "plan_id", "plan_version", "plan_document", "run_key", "start_day", "end_day",
                     "period_start", "period_end", "seed", "eligible", "budget", "counts", "form_id",
                     "assigned"})),
    Table("privacy_erasures", "Erasures done or under way (the record of an erasure)",
          {"subject_ref": Col("person_ref", P, note="the erased host user id or customer key, kept "
                                                     "as the record that the subject was erased"),
           "requested_by": Col("person_ref", T), "steps": Col("audit")},
          frozenset({"id", "subject_kind", "pseudonym", "finished_at"}), on_person_erasure="keep"),
    Table("sampling_picks", "Interactions a run chose",
          {"conversation_id": Col("interaction_ref", "conversation"), "agent_id": Col("person_ref", P),
           "reasons": Col("evaluation", T)},
          frozenset({"id", "run_id", "position", "component", "evaluation_id"})),
)}


def classified(table: str) -> dict[str, str]:
    """column -> data class of a mapped table (personal columns only)."""
    found = TABLES.get(table)
    return {name: col.cls for name, col in found.columns.items()} if found else {}


def unclassified(tables: Mapping[str, list[str]]) -> list[str]:
    """``table.column`` of every stored column the map neither classifies nor calls not personal,
    and every table it does not know."""
    missing = []
    for name, columns in sorted(tables.items()):
        if name in NOT_PERSONAL_TABLES:
            continue
        table = TABLES.get(name)
        if table is None:
            missing.append(f"{name} (table not in the data map)")
            continue
        for column in columns:
            if (column not in table.columns and column not in table.not_personal
                    and column not in COMMON_NOT_PERSONAL):
                missing.append(f"{name}.{column}")
    return missing


def stale(tables: Mapping[str, list[str]]) -> list[str]:
    """Entries of the map that name a table or column the models no longer have."""
    known = sorted(set(TABLES) | set(NOT_PERSONAL_TABLES))
    gone = [f"{name} (table)" for name in known if name not in tables]
    for name, table in sorted(TABLES.items()):
        if name in tables:
            gone += [f"{name}.{c}" for c in sorted(set(table.columns) | table.not_personal)
                     if c not in tables[name]]
    return gone


def retention_days(cls: str, overrides: Mapping[str, object] | None = None) -> int | None:
    """The tenant's period for a class (``tenants.retention`` {class: days}), else the default."""
    if overrides and cls in overrides:
        value = overrides[cls]
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return CLASSES[cls].retention_days


def render_markdown() -> str:
    """The generated part of docs/privacy.md."""
    lines = ["## Data classes", "",
             "| Class | What | Lawful basis | Retention default | Retention |",
             "|---|---|---|---|---|"]
    for c in CLASSES.values():
        days = f"{c.retention_days} days" if c.retention_days else "not by age"
        lines.append(f"| `{c.key}` | {c.title} | {c.lawful_basis} | {days} | {c.retention_note} |")
    lines += ["", "## Tables with personal data", ""]
    for t in sorted(TABLES.values(), key=lambda t: t.name):
        lines += [f"### `{t.name}`", "", f"{t.purpose}. Person erasure: **{t.on_person_erasure}**."]
        if t.on_customer_erasure:
            actions = ", ".join(f"`{c}` {a}" for c, a in sorted(t.on_customer_erasure.items()))
            lines.append(f"Customer erasure: {actions}.")
        lines += ["", "| Column | Class | Found by | Note |", "|---|---|---|---|"]
        for name, col in sorted(t.columns.items()):
            lines.append(f"| `{name}` | `{col.cls}` | {col.ref or ''} | {col.note} |")
        if t.not_personal:
            lines += ["", "Not personal: " + ", ".join(f"`{c}`" for c in sorted(t.not_personal)) + "."]
        lines.append("")
    lines += ["## Tables without personal data", ""]
    lines += [f"- `{name}`: {why}" for name, why in sorted(NOT_PERSONAL_TABLES.items())]
    return "\n".join(lines) + "\n"
