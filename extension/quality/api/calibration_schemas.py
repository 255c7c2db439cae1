"""Marshmallow schemas of the quality-management endpoints this module's views own: calibration
sessions, sampling plans and runs, interaction text analytics (requests and responses)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from extension.analytics.api.schemas import PageQuery, page_of

MAX_CONVERSATIONS = 50
MAX_EVALUATORS = 30
_ID = fields.String(required=True, validate=validate.Length(min=1, max=64))


def _ids(maximum: int, **kwargs) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                       validate=validate.Length(min=1, max=maximum), **kwargs)


def _unique(name: str, values) -> None:
    if values is not None and len(set(values)) != len(values):
        raise ValidationError("Values must not repeat.", field_name=name)


# ---- calibration -------------------------------------------------------------------------------


class CalibrationCreate(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    form_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    form_version = fields.Integer(load_default=None, validate=validate.Range(min=1),
                                  metadata={"description": "Default: the published version"})
    conversation_ids = _ids(MAX_CONVERSATIONS, required=True)
    evaluator_ids = _ids(MAX_EVALUATORS, required=True)
    expert_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    drift_threshold = fields.Float(required=True, validate=validate.Range(min=0, max=100),
                                   metadata={"description": "Mean absolute total-score deviation (QA points) "
                                                            "beyond which an evaluator drifts"})

    @validates_schema
    def _distinct(self, data, **kwargs):
        _unique("conversation_ids", data.get("conversation_ids"))
        _unique("evaluator_ids", data.get("evaluator_ids"))
        if len(data.get("evaluator_ids") or []) + (1 if data.get("expert_id") else 0) < 2:
            raise ValidationError("Calibration needs at least two raters.", field_name="evaluator_ids")


class CalibrationAnswerIn(Schema):
    option_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    option_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=None,
                             allow_none=True, validate=validate.Length(max=100),
                             metadata={"description": "Multiple-select questions: the picked options"})
    na = fields.Boolean(load_default=False)
    text = fields.String(load_default="", validate=validate.Length(max=4000))


class CalibrationScoreIn(Schema):
    conversation_id = _ID
    answers = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                          values=fields.Nested(CalibrationAnswerIn), required=True)
    na_groups = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list)


class CalibrationsQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(("open", "closed", "all")), load_default="all")


class CalibrationSummary(Schema):
    id = fields.String()
    name = fields.String()
    form_id = fields.String()
    form_version = fields.Integer()
    conversation_ids = fields.List(fields.String())
    evaluator_ids = fields.List(fields.String())
    expert_id = fields.String(allow_none=True)
    drift_threshold = fields.Float()
    status = fields.String(validate=validate.OneOf(("open", "closed")))
    created_by = fields.String()
    created_at = fields.DateTime()
    closed_by = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


CalibrationsPage = page_of(CalibrationSummary, "CalibrationsPage")


class CalibrationScoreOut(Schema):
    evaluator_id = fields.String()
    conversation_id = fields.String()
    answers = fields.Dict()
    na_groups = fields.List(fields.String())
    total_score = fields.Float(allow_none=True)
    updated_at = fields.DateTime()


class CalibrationProgress(Schema):
    evaluator_id = fields.String()
    scored = fields.Integer()


class CalibrationDetail(CalibrationSummary):
    blind = fields.Boolean(metadata={"description": "True while open: scores lists only the caller's own"})
    progress = fields.List(fields.Nested(CalibrationProgress))
    scores = fields.List(fields.Nested(CalibrationScoreOut))


class CalibrationQuestionAgreement(Schema):
    question_id = fields.String()
    agreement = fields.Float(allow_none=True)
    units = fields.Integer()


class CalibrationEvaluatorDeviation(Schema):
    evaluator_id = fields.String()
    reference = fields.String(validate=validate.OneOf(("expert", "consensus")))
    conversations_compared = fields.Integer()
    mean_abs_diff = fields.Float(allow_none=True)
    questions_compared = fields.Integer()
    disagreement_rate = fields.Float(allow_none=True)
    drift = fields.Boolean()


class CalibrationAlpha(Schema):
    total_interval = fields.Float(allow_none=True)
    answers_nominal = fields.Float(allow_none=True)


class CalibrationReport(Schema):
    session_id = fields.String()
    closed_at = fields.DateTime()
    reference = fields.String()
    drift_threshold = fields.Float()
    scores = fields.Integer()
    overall_agreement = fields.Float(allow_none=True)
    alpha = fields.Nested(CalibrationAlpha)
    questions = fields.List(fields.Nested(CalibrationQuestionAgreement))
    evaluators = fields.List(fields.Nested(CalibrationEvaluatorDeviation))


# ---- sampling ----------------------------------------------------------------------------------


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


# ---- interaction text analytics ---------------------------------------------------------------


class TextSpan(Schema):
    utterance = fields.Integer()
    start = fields.Integer()
    end = fields.Integer()
    kind = fields.String()
    text = fields.String()
    detail = fields.Dict()


class InteractionTextAnalyticsOut(Schema):
    conversation_id = fields.String()
    agent_id = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    analysed_at = fields.DateTime()
    summary = fields.Dict()
    utterances = fields.List(fields.Dict(), metadata={"description": "Redacted text; offsets index it"})
    pii = fields.List(fields.Nested(TextSpan))
    sentiment = fields.Dict()
    coaching_flag = fields.Boolean()
    key_phrases = fields.List(fields.Dict())
    compliance = fields.Dict()
    prohibited = fields.List(fields.Nested(TextSpan))
    escalation = fields.Dict()
    timing = fields.Dict()
