"""Marshmallow schemas of the quality-management API: forms, evaluations, disputes, workload.

Request bodies reject unknown fields (422 naming them). Form documents are checked by the
domain (``extension.quality.domain.forms.validate_form``), whose JSON Pointers name the offending part.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from extension.platform.api.schemas import Instant, PageQuery, page_of
from extension.quality.models.evaluations import EVALUATION_STATES

_NAME = validate.Length(min=1, max=200)
_SELECTOR: dict[str, Any] = {"allow_none": True, "validate": validate.Length(max=200)}


# ---- forms ------------------------------------------------------------------------------------


class FormBody(Schema):
    name = fields.String(required=True, validate=_NAME)
    interaction_type = fields.String(allow_none=True, validate=validate.Length(max=32),
                                     metadata={"description": "Selector: voice, chat, email, ..."})
    department = fields.String(**_SELECTOR)
    customer_segment = fields.String(**_SELECTOR)
    weight_mode = fields.String(validate=validate.OneOf(("SCALED", "OFF")), load_default="SCALED")
    groups = fields.List(fields.Dict(), required=True, metadata={
        "description": "Question groups as in the form document; problems are reported at JSON "
                       "Pointers such as /groups/0/questions/1/options. A question may carry an "
                       "'auto' rule (see extension.quality.domain.autoscore)."})


# Genesys Cloud ids are UUIDs; anything else never reaches the host's URL.
HOST_ID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class FormImportBody(Schema):
    genesys_form_id = fields.String(required=True, data_key="genesysFormId",
                                    validate=validate.Regexp(HOST_ID, error="Must be a Genesys id (a UUID)."))
    interaction_type = fields.String(allow_none=True, validate=validate.Length(max=32))
    department = fields.String(**_SELECTOR)
    customer_segment = fields.String(**_SELECTOR)


class FormsQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(("draft", "published")))
    interaction_type = fields.String()
    department = fields.String()
    customer_segment = fields.String()


class FormVersionOut(Schema):
    version = fields.Integer()
    status = fields.String()
    document = fields.Dict()
    created_by = fields.String()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class FormOut(Schema):
    id = fields.String()
    name = fields.String()
    interaction_type = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    customer_segment = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "draft until first published"})
    latest_version = fields.Integer()
    published_version = fields.Integer(allow_none=True)
    genesys_form_id = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    latest = fields.Nested(FormVersionOut, metadata={"description": "The newest version"})


FormsPage = page_of(FormOut, "FormsPage")


class FormVersions(Schema):
    items = fields.List(fields.Nested(FormVersionOut))


# ---- evaluations ------------------------------------------------------------------------------


class AssignBody(Schema):
    conversation_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    agent_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    form_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    evaluator_id = fields.String(allow_none=True, load_default=None, metadata={
        "description": "Omit to pick the evaluator with the most headroom today"})
    due_at = Instant(allow_none=True, load_default=None)
    reason = fields.Dict(allow_none=True, load_default=None)


_OPTION_IDS: dict[str, Any] = {
    "allow_none": True, "load_default": None, "validate": validate.Length(max=200),
    "metadata": {"description": "Multiple-select questions only: the picked option "
                                "ids (an empty list picks none)"}}


class AnswerIn(Schema):
    option_id = fields.String(allow_none=True, load_default=None)
    option_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                             **_OPTION_IDS)
    na = fields.Boolean(load_default=False)
    text = fields.String(load_default="", validate=validate.Length(max=4000))
    override_reason = fields.String(allow_none=True, load_default=None,
                                    validate=validate.Length(max=1000), metadata={
                                        "description": "Required when changing an automatic answer"})


class AnswersBody(Schema):
    answers = fields.Dict(keys=fields.String(), values=fields.Nested(AnswerIn), required=True)
    na_groups = fields.List(fields.String(), load_default=None, allow_none=True)


class RetractBody(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ReassignBody(Schema):
    evaluator_id = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))


class EvaluationsQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(EVALUATION_STATES))
    agent_id = fields.String()
    evaluator_id = fields.String()
    form_id = fields.String()
    conversation_id = fields.String()


class EvaluationOut(Schema):
    id = fields.String()
    conversation_id = fields.String()
    agent_id = fields.String()
    evaluator_id = fields.String()
    form_id = fields.String()
    form_version = fields.Integer()
    status = fields.String()
    answers = fields.Dict(metadata={"description": "question id -> {option_id (option_ids for "
                                                   "multiple select), na, text, source "
                                                   "(auto|evaluator), auto?, override_reason?}"})
    na_groups = fields.List(fields.String())
    scoring = fields.Dict(allow_none=True, metadata={"description": "Genesys EvaluationScoringSet"})
    total_score = fields.Float(allow_none=True)
    host_evaluation_id = fields.String(allow_none=True, metadata={
        "description": "Set when the evaluation was made in the host (Genesys) and mirrored"})
    host_status = fields.String(allow_none=True, metadata={"description": "The host's status"})
    host_total_score = fields.Float(allow_none=True, metadata={
        "description": "The host's own totalScore; total_score is Coachwire's for the same "
                       "answers"})
    reason = fields.Dict(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    assigned_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    released_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    retracted_at = fields.DateTime(allow_none=True)
    retract_reason = fields.String(allow_none=True)


EvaluationsPage = page_of(EvaluationOut, "EvaluationsPage")


# ---- disputes ---------------------------------------------------------------------------------


class DisputeItem(Schema):
    question_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class DisputeBody(Schema):
    evaluation_id = fields.String(required=True)
    items = fields.List(fields.Nested(DisputeItem), required=True, validate=validate.Length(min=1, max=50))


class ChangedAnswer(Schema):
    option_id = fields.String(allow_none=True, load_default=None)
    option_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                             **_OPTION_IDS)
    na = fields.Boolean(load_default=False)
    text = fields.String(load_default="", validate=validate.Length(max=4000))


class ResolveBody(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("upheld", "rejected", "partially")))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    changes = fields.Dict(keys=fields.String(), values=fields.Nested(ChangedAnswer), load_default=dict)

    @validates_schema
    def _changes_fit_outcome(self, data, **kwargs):
        if data.get("outcome") == "rejected" and data.get("changes"):
            raise ValidationError("A rejected dispute changes no answers.", field_name="changes")
        if data.get("outcome") in ("upheld", "partially") and not data.get("changes"):
            raise ValidationError("Name the answers the resolution changes.", field_name="changes")


class DisputesQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(("open", "upheld", "rejected", "partially", "void")))
    evaluation_id = fields.String()


class DisputeOut(Schema):
    id = fields.String()
    evaluation_id = fields.String()
    agent_id = fields.String()
    status = fields.String()
    items = fields.List(fields.Nested(DisputeItem))
    resolver_id = fields.String(allow_none=True)
    resolution_note = fields.String(allow_none=True)
    changes = fields.Dict(allow_none=True)
    score_before = fields.Float(allow_none=True)
    score_after = fields.Float(allow_none=True)
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


DisputesPage = page_of(DisputeOut, "DisputesPage")


# ---- workload ---------------------------------------------------------------------------------


class CapBody(Schema):
    daily_cap = fields.Integer(required=True, validate=validate.Range(min=0, max=1000))


class CapOut(Schema):
    evaluator_id = fields.String()
    daily_cap = fields.Integer()


class WorkloadRow(Schema):
    evaluator_id = fields.String()
    name = fields.String()
    daily_cap = fields.Integer()
    cap_is_default = fields.Boolean()
    day = fields.String(metadata={"description": "Tenant-local day the counts are for"})
    assigned_today = fields.Integer()
    headroom = fields.Integer()
    open = fields.Integer(metadata={"description": "assigned or in progress"})
    overdue = fields.Integer()


class WorkloadOut(Schema):
    items = fields.List(fields.Nested(WorkloadRow))


class OverdueQuery(PageQuery):
    evaluator_id = fields.String()


class QualitySettingsBody(Schema):
    dispute_window_days = fields.Integer(validate=validate.Range(min=0, max=365))
    max_disputes_per_evaluation = fields.Integer(validate=validate.Range(min=0, max=50))
    max_open_disputes_per_evaluation = fields.Integer(validate=validate.Range(min=1, max=50))
    default_daily_cap = fields.Integer(validate=validate.Range(min=0, max=1000))


class QualitySettingsOut(Schema):
    dispute_window_days = fields.Integer()
    max_disputes_per_evaluation = fields.Integer()
    max_open_disputes_per_evaluation = fields.Integer()
    default_daily_cap = fields.Integer()
