"""Marshmallow schemas of the calibration endpoints (requests and responses)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from extension.platform.api.schemas import PageQuery, page_of

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
