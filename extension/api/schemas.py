"""Marshmallow schemas: query parameters (validated on every request) and response shapes
(documented in the OpenAPI document and checked by the tests)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from extension.domain.kpis import METRICS, PERIODS
from extension.services.analytics_sums import DIMENSIONS

MAX_DAYS = 400  # a little over a year: the longest interval one request may aggregate
TEAM_KPIS = ("aes", "aht_s", "hold_s", "acw_s", "transfer_rate", "fcr_rate", "csat", "qa")


class CsvList(fields.Field):
    """``a,b,c`` in a query string; each item must be one of ``choices``."""

    def __init__(self, *, choices: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.choices = choices
        self.metadata.setdefault("description", f"Comma-separated, from: {', '.join(choices)}")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Must be a comma-separated string.")
        items = [item.strip() for item in value.split(",") if item.strip()]
        unknown = [item for item in items if item not in self.choices]
        if unknown:
            raise ValidationError(
                f"Unknown value(s) {', '.join(unknown)}; expected some of {', '.join(self.choices)}.")
        if len(set(items)) != len(items):
            raise ValidationError("Values must not repeat.")
        return tuple(items)


class RangeQuery(Schema):
    start = fields.Date(data_key="from", metadata={"description": "First tenant-local day (ISO date)"})
    end = fields.Date(data_key="to", metadata={"description": "Last tenant-local day, inclusive"})

    @validates_schema
    def _interval(self, data, **kwargs):
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError("Must not be before 'from'.", field_name="to")
        if start and end and (end - start).days >= MAX_DAYS:
            raise ValidationError(f"The interval may span at most {MAX_DAYS} days.", field_name="to")


class PageQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = fields.String(metadata={"description": "Opaque; next_cursor of the previous page"})


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
    end = fields.Date(data_key="to", metadata={"description": "Last local day of history"})
    level = fields.Float(load_default=0.8, validate=validate.Range(min=0.5, max=0.99))


# ---- responses -------------------------------------------------------------------------------

# one nullable float per metric, named as in domain.kpis.METRICS, so a new metric documents itself
Kpis = Schema.from_dict(
    {"volume": fields.Integer(), "aes_fallback": fields.String(allow_none=True),
     **{metric: fields.Float(allow_none=True) for metric in METRICS}},
    name="Kpis",
)


class MetricRow(Schema):
    agent_id = fields.String(allow_none=True)
    team_id = fields.String(allow_none=True)
    queue_id = fields.String(allow_none=True)
    inquiry = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    period = fields.String(allow_none=True)
    period_start = fields.Date(allow_none=True)
    metrics = fields.Nested(Kpis)


class MetricsPage(Schema):
    items = fields.List(fields.Nested(MetricRow))
    next_cursor = fields.String(allow_none=True)


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
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    kpis = fields.Nested(Kpis)
    inquiries = fields.List(fields.Nested(InquiryKpis))
    quartiles = fields.List(fields.Nested(Quartile))
    impact = fields.Nested(ImpactLists)
    team = fields.Dict(keys=fields.String(), values=fields.Nested(TeamComparison))


class SeriesPoint(Schema):
    period = fields.String(allow_none=True)
    period_start = fields.Date(allow_none=True)
    volume = fields.Integer()
    metrics = fields.Nested(Kpis)


class MemberSeries(Schema):
    agent_id = fields.String()
    name = fields.String()
    series = fields.List(fields.Nested(SeriesPoint))


class TeamPerformance(Schema):
    team_id = fields.String()
    period = fields.String()
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    members = fields.List(fields.Nested(MemberSeries))
    team = fields.List(fields.Nested(SeriesPoint))
    next_cursor = fields.String(allow_none=True)


class InquiryRow(Schema):
    inquiry = fields.String(allow_none=True)
    metrics = fields.Nested(Kpis)


class InquiriesPage(Schema):
    items = fields.List(fields.Nested(InquiryRow))
    next_cursor = fields.String(allow_none=True)


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


class AlertsPage(Schema):
    items = fields.List(fields.Nested(AlertItem))
    next_cursor = fields.String(allow_none=True)


class ForecastPoint(Schema):
    week = fields.Date()
    value = fields.Float()
    lo = fields.Float(allow_none=True)
    hi = fields.Float(allow_none=True)


class HistoryPoint(Schema):
    week = fields.Date()
    value = fields.Float(allow_none=True)


class ForecastResult(Schema):
    subject = fields.String()
    metric = fields.String()
    method = fields.String(allow_none=True, metadata={"description": "damped-trend | naive | null"})
    level = fields.Float()
    sigma = fields.Float(allow_none=True)
    history = fields.List(fields.Nested(HistoryPoint))
    points = fields.List(fields.Nested(ForecastPoint))


class ProblemField(Schema):
    field = fields.String()
    message = fields.String()


class ProblemDetails(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Nested(ProblemField))
