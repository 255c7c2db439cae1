"""Marshmallow schemas of the sampling-plan and sampling-run endpoints (requests and responses)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from extension.platform.api.schemas import PageQuery, page_of


class SamplingPlanIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    document = fields.Dict(required=True, metadata={"description": "The plan (domain.sampling_plan)"})
    active = fields.Boolean(load_default=None)


class SamplingPlansQuery(PageQuery):
    include_inactive = fields.Boolean(load_default=False)


class SamplingPlanOut(Schema):
    id = fields.String()
    name = fields.String()
    version = fields.Integer()
    active = fields.Boolean()
    document = fields.Dict()
    created_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


SamplingPlansPage = page_of(SamplingPlanOut, "SamplingPlansPage")


class SeedField(fields.Field):
    """A non-negative integer or a string; both are used as text, so 42 and "42" are one seed."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Must be a non-negative integer or a string.")
        if isinstance(value, int) and value < 0:
            raise ValidationError("Must not be negative.")
        if isinstance(value, str) and not 1 <= len(value) <= 100:
            raise ValidationError("Must be 1 to 100 characters.")
        return str(value)


class SamplingRunIn(Schema):
    start = fields.Date(required=True, data_key="from", metadata={"description": "First tenant-local day"})
    end = fields.Date(required=True, data_key="to",
                      metadata={"description": "Last tenant-local day, inclusive"})
    seed = SeedField(load_default=None, metadata={"description": "Default: derived from plan and 'from'"})
    assign = fields.Boolean(load_default=False)
    form_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36))

    @validates_schema
    def _interval(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("Must not be before 'from'.", field_name="to")


class SamplingFairnessLine(Schema):
    agent_id = fields.String()
    population = fields.Integer()
    already_sampled = fields.Integer()
    risk = fields.Integer()
    random = fields.Integer()
    targeted = fields.Integer()
    fairness = fields.Integer()
    sample_size = fields.Integer()
    random_expected = fields.Float(allow_none=True)
    random_cap = fields.Integer()
    shortfall = fields.Integer()
    scored = fields.Integer()
    sd = fields.Float(allow_none=True)
    sd_source = fields.String()
    margin_of_error = fields.Float(allow_none=True, metadata={"description": "QA points; null = unbounded"})
    projected_margin = fields.Float(allow_none=True)
    target_margin = fields.Float()
    required_sample = fields.Integer()
    additional_needed = fields.Integer()
    meets_target = fields.Boolean()


class SamplingPickOut(Schema):
    position = fields.Integer()
    conversation_id = fields.String()
    agent_id = fields.String()
    component = fields.String(validate=validate.OneOf(("risk", "random", "targeted", "fairness")))
    reasons = fields.List(fields.String())
    evaluation_id = fields.String(allow_none=True)


class SamplingAssignment(Schema):
    assigned_now = fields.Integer()
    assigned_total = fields.Integer()
    pending = fields.Integer()
    error = fields.Dict(allow_none=True)


class SamplingRunOut(Schema):
    id = fields.String()
    plan_id = fields.String()
    plan_version = fields.Integer()
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    period_start = fields.DateTime()
    period_end = fields.DateTime()
    seed = fields.String()
    eligible = fields.Integer()
    budget = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    form_id = fields.String(allow_none=True)
    assigned = fields.Integer()
    created_by = fields.String()
    created_at = fields.DateTime()
    fairness = fields.List(fields.Nested(SamplingFairnessLine))


class SamplingRunCreated(SamplingRunOut):
    created = fields.Boolean(metadata={"description": "False when the same run already existed"})
    assignment = fields.Nested(SamplingAssignment, allow_none=True)
    picks = fields.List(fields.Nested(SamplingPickOut))


SamplingRunsPage = page_of(SamplingRunOut, "SamplingRunsPage")


class SamplingRunDetail(SamplingRunOut):
    total_picks = fields.Integer()
    picks = fields.List(fields.Nested(SamplingPickOut))
    next_cursor = fields.String(allow_none=True)


