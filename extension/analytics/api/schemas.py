"""Marshmallow schemas of the analytics endpoints: query parameters (validated on every
request) and response shapes (documented in the OpenAPI document and checked by the tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marshmallow import Schema, fields, validate

from extension.analytics.domain.kpis import METRICS, PERIODS
from extension.analytics.sums import DIMENSIONS
from extension.platform.api.schemas import CsvList, Day, PageQuery, RangeQuery, page_of

TEAM_KPIS = ("aes", "aht_s", "hold_s", "acw_s", "transfer_rate", "fcr_rate", "csat", "qa")


class MetricsQuery(RangeQuery, PageQuery):
    dims = CsvList(choices=DIMENSIONS, load_default=("agent_id",))
    period = fields.String(validate=validate.OneOf(PERIODS), load_default=None)
    metrics = CsvList(choices=tuple(METRICS), load_default=tuple(METRICS))
    agent_id = fields.String()
    team_id = fields.String()
    queue_id = fields.String()
    inquiry = fields.String()
    channel = fields.String()


class InquiriesQuery(RangeQuery, PageQuery):
    metrics = CsvList(choices=tuple(METRICS), load_default=tuple(METRICS))


class AgentPerformanceQuery(RangeQuery):
    pass


class TeamPerformanceQuery(RangeQuery, PageQuery):
    period = fields.String(validate=validate.OneOf(PERIODS), load_default="day")
    metrics = CsvList(choices=tuple(METRICS), load_default=TEAM_KPIS)


class AlertsQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(("open", "closed", "all")), load_default="open")


class ForecastsQuery(Schema):
    subject = fields.String(required=True, validate=validate.Regexp(r"^(agent|team):.+$"),
                            metadata={"description": "agent:<person id> or team:<team id>"})
    metric = fields.String(validate=validate.OneOf(tuple(METRICS)), load_default="aes")
    weeks = fields.Integer(load_default=26, validate=validate.Range(min=4, max=104),
                           metadata={"description": "Weeks of history to fit on"})
    end = Day(data_key="to", metadata={"description": "Last local day of history"})
    level = fields.Float(load_default=0.8, validate=validate.Range(min=0.5, max=0.99))


# ---- responses -------------------------------------------------------------------------------

# one nullable float per metric, named as in domain.kpis.METRICS, so a new metric documents itself
if TYPE_CHECKING:
    # a schema class built at run time; mypy cannot take a call's result as a base class
    Kpis = Schema
else:
    Kpis = Schema.from_dict(
        {"volume": fields.Integer(), "aes_fallback": fields.String(allow_none=True),
         **{metric: fields.Float(allow_none=True) for metric in METRICS}},
        name="Kpis",
    )


class MetricRow(Schema):
    agent_id = fields.String(allow_none=True)
    team_id = fields.String(allow_none=True)
    queue_id = fields.String(allow_none=True)
    queue_name = fields.String(allow_none=True, metadata={
        "description": "With queue_id in dims: the queue's name from the last directory sync"})
    inquiry = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    period = fields.String(allow_none=True)
    period_start = Day(allow_none=True)
    metrics = fields.Nested(Kpis)


MetricsPage = page_of(MetricRow, "MetricsPage")


class Quartile(Schema):
    inquiry = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    metric = fields.String()
    value = fields.Float(allow_none=True)
    label = fields.String(allow_none=True, validate=validate.OneOf(("Great", "Good", "Needs work")))
    agents = fields.Integer()
    volume = fields.Integer()


class Impact(Schema):
    inquiry = fields.String(allow_none=True)
    impact = fields.Float()
    volume = fields.Integer()
    fallback = fields.String(allow_none=True)


class ImpactLists(Schema):
    top = fields.List(fields.Nested(Impact))
    bottom = fields.List(fields.Nested(Impact))


class TeamComparison(Schema):
    agent = fields.Float(allow_none=True)
    team_average = fields.Float(allow_none=True)
    top_agent = fields.String(allow_none=True)
    top_value = fields.Float(allow_none=True)


class Focus(Schema):
    metric = fields.String()
    gap = fields.Float()
    agent = fields.Float()
    peer_mean = fields.Float()


class InquiryKpis(Kpis):
    inquiry = fields.String(allow_none=True)
    focus = fields.Nested(Focus, allow_none=True)


class AgentPerformance(Schema):
    agent_id = fields.String()
    name = fields.String()
    team_id = fields.String(allow_none=True)
    start = Day(data_key="from")
    end = Day(data_key="to")
    kpis = fields.Nested(Kpis)
    inquiries = fields.List(fields.Nested(InquiryKpis))
    quartiles = fields.List(fields.Nested(Quartile))
    impact = fields.Nested(ImpactLists)
    team = fields.Dict(keys=fields.String(), values=fields.Nested(TeamComparison))
    as_of = fields.DateTime(metadata={
        "description": "When every figure of this view (the agent's KPIs, inquiries, quartiles, "
                       "impact, focus, team comparison) was summed, from one snapshot; at most "
                       "COACHWIRE_PEER_SNAPSHOT_SECONDS old when served."})
    peers_as_of = fields.DateTime(metadata={"description": "The same as ``as_of`` (kept for clients)."})


class SeriesPoint(Schema):
    period = fields.String(allow_none=True)
    period_start = Day(allow_none=True)
    volume = fields.Integer()
    metrics = fields.Nested(Kpis)


class MemberSeries(Schema):
    agent_id = fields.String()
    name = fields.String()
    series = fields.List(fields.Nested(SeriesPoint))


class TeamPerformance(Schema):
    team_id = fields.String()
    period = fields.String()
    start = Day(data_key="from")
    end = Day(data_key="to")
    members = fields.List(fields.Nested(MemberSeries))
    team = fields.List(fields.Nested(SeriesPoint))
    next_cursor = fields.String(allow_none=True)


class InquiryRow(Schema):
    inquiry = fields.String(allow_none=True)
    metrics = fields.Nested(Kpis)


InquiriesPage = page_of(InquiryRow, "InquiriesPage")


class AlertItem(Schema):
    key = fields.String()
    kind = fields.String(validate=validate.OneOf(("threshold", "deviation")))
    subject_type = fields.String(validate=validate.OneOf(("agent", "team")))
    subject_id = fields.String()
    metric = fields.String()
    value = fields.Float()
    message = fields.String()
    status = fields.String()
    raised_at = fields.DateTime()


AlertsPage = page_of(AlertItem, "AlertsPage")


class ForecastPoint(Schema):
    week = Day()
    value = fields.Float()
    lo = fields.Float(allow_none=True)
    hi = fields.Float(allow_none=True)


class HistoryPoint(Schema):
    week = Day()
    value = fields.Float(allow_none=True)


class ForecastResult(Schema):
    subject = fields.String()
    metric = fields.String()
    method = fields.String(allow_none=True, metadata={"description": "damped-trend | naive | null"})
    level = fields.Float()
    sigma = fields.Float(allow_none=True)
    history = fields.List(fields.Nested(HistoryPoint))
    points = fields.List(fields.Nested(ForecastPoint))


# ---- alert inbox, alert settings, drill-down (issue 3) ------------------------------------------

ALERT_STATUSES = ("open", "acknowledged", "closed")


class AlertInboxQuery(PageQuery):
    status = fields.String(validate=validate.OneOf((*ALERT_STATUSES, "all")), load_default="open")


class AlertActionBody(Schema):
    note = fields.String(validate=validate.Length(max=500), metadata={"description": "Optional remark"})


class AlertDeliveryItem(Schema):
    channel = fields.String(validate=validate.OneOf(("panel", "email", "webhook")))
    status = fields.String()
    attempts = fields.Integer()
    raise_id = fields.String()


class AlertInboxItem(AlertItem):
    status = fields.String(validate=validate.OneOf(ALERT_STATUSES))
    raise_id = fields.String(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    deliveries = fields.List(fields.Nested(AlertDeliveryItem))


AlertInboxPage = page_of(AlertInboxItem, "AlertInboxPage")


class AlertRule(Schema):
    rule_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    metric = fields.String(required=True, validate=validate.OneOf(tuple(METRICS)))
    op = fields.String(required=True, validate=validate.OneOf((">", ">=", "<", "<=", "==", "!=")))
    value = fields.Float(required=True, allow_nan=False)
    subject = fields.String(validate=validate.OneOf(("agent", "team")), load_default="agent")


class AlertSettingsBody(Schema):
    rules = fields.List(fields.Nested(AlertRule), validate=validate.Length(max=100))
    cooldown_hours = fields.Integer(strict=True, validate=validate.Range(min=1, max=24 * 90))
    email_enabled = fields.Boolean(truthy={True}, falsy={False})
    webhook_url = fields.String(allow_none=True, validate=validate.Length(max=2000),
                                metadata={"description": "https:// endpoint for signed POSTs; null to stop"})
    rotate_secret = fields.Boolean(truthy={True}, falsy={False},
                                   metadata={"description": "Make a new signing secret (shown once)"})


class AlertSettingsView(Schema):
    rules = fields.List(fields.Nested(AlertRule))
    cooldown_hours = fields.Integer()
    email_enabled = fields.Boolean()
    webhook_url = fields.String(allow_none=True)
    webhook_secret_set = fields.Boolean()
    webhook_secret = fields.String(metadata={"description": "Only in the answer that created it"})


class InteractionsQuery(RangeQuery, PageQuery):
    agent = fields.String(metadata={"description": "Agent (person) id"})
    team = fields.String()
    queue = fields.String()
    inquiry = fields.String()
    channel = fields.String()
    null = CsvList(choices=("agent", "team", "queue", "inquiry", "channel"), load_default=(), metadata={
        "description": "Dimensions pinned to 'none' (a metrics cell whose value is null, e.g. no "
                       "wrap-up code or no queue), comma-separated: agent, team, queue, inquiry, "
                       "channel; a dimension cannot be both given and null"})
    period = fields.String(validate=validate.OneOf(PERIODS), load_default="day")
    period_start = Day(metadata={"description": "First tenant-local day of a KPI cell's period"})


class InteractionItem(Schema):
    conversation_id = fields.String()
    agent_id = fields.String(allow_none=True)
    team_id = fields.String(allow_none=True)
    queue_id = fields.String(allow_none=True)
    inquiry = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    ended_at = fields.DateTime()
    local_day = Day()
    t_talk_ms = fields.Integer(allow_none=True)
    t_hold_ms = fields.Integer(allow_none=True)
    t_acw_ms = fields.Integer(allow_none=True)
    t_handle_ms = fields.Integer(allow_none=True)
    transferred = fields.Boolean(allow_none=True)
    fcr = fields.Boolean(allow_none=True)
    csat = fields.Float(allow_none=True)
    nps = fields.Integer(allow_none=True)
    qa_score = fields.Float(allow_none=True)
    customer_sentiment = fields.Float(allow_none=True)
    agent_sentiment = fields.Float(allow_none=True)
    p_satisfaction = fields.Float(allow_none=True)
    p_resolution = fields.Float(allow_none=True)


class InteractionsPage(Schema):
    start = Day(data_key="from")
    end = Day(data_key="to")
    items = fields.List(fields.Nested(InteractionItem))
    next_cursor = fields.String(allow_none=True)
