"""/api/v1/phrase-lists: the tenant's compliance phrase lists (required statements, prohibited
phrases). Everyone may read the effective lists (agents are coached on them); QA analysts and
admins may replace a kind or revert it to the built-in defaults. Escalation triggers are rules
with context, not lists, and are not edited here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from extension.platform.api.plumbing import documented, parse_body, respond
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import PHRASE_LISTS_READ, PHRASE_LISTS_WRITE
from extension.platform.db import get_db
from extension.text import phrase_lists as service
from extension.text.domain import phrase_lists as lists

bp = Blueprint("api_phrase_lists", __name__, url_prefix="/api/v1")
TAG = "quality"
_INVALID = {"404": "No such kind (required, prohibited)", "415": "Not JSON",
            "422": "Invalid body (errors name each field, e.g. rules.0.wordings.1)"}


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def _alternatives_closed(value: str) -> None:
    """``(a|b)`` lists the words that may fill one place; parentheses do not nest."""
    depth = 0
    for char in value:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth not in (0, 1):
            raise ValidationError("Parentheses list alternatives for one word, e.g. "
                                  "'(call|chat) recorded'; they must be balanced and not nested.")
    if depth:
        raise ValidationError("An opening parenthesis is never closed.")


class PhraseRuleIn(Schema):
    key = fields.String(required=True, validate=[validate.Length(min=1, max=64),
                                                 validate.Regexp(r"^[A-Za-z0-9_.-]+$",
                                                                 error="Letters, digits, _ . - only.")])
    wordings = fields.List(fields.String(validate=[validate.Length(min=1, max=lists.MAX_WORDING_CHARS),
                                                   _not_blank, _alternatives_closed]),
                           required=True, validate=validate.Length(min=1, max=lists.MAX_WORDINGS),
                           metadata={"description": "Core wordings: all words in order, others between; "
                                                         "'(a|b)' lets either word fill one place"})
    party = fields.String(load_default="agent", allow_none=True,
                          validate=validate.OneOf(lists.PARTIES),
                          metadata={"description": "Who must say it; null: anyone"})
    threshold = fields.Float(load_default=None, allow_none=True,
                             validate=validate.Range(min=lists.MIN_THRESHOLD, max=1.0),
                             metadata={"description": "Share of a wording's characters matched in order; "
                                                      "default 0.85 (required) or 0.95 (prohibited)"})
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _distinct_wordings(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        for index, wording in enumerate(data.get("wordings") or []):
            norm = " ".join(wording.lower().split())
            if norm in seen:
                raise ValidationError({"wordings": {index: ["Repeats an earlier wording."]}})
            seen.add(norm)


class PhraseListIn(Schema):
    rules = fields.List(fields.Nested(PhraseRuleIn), required=True,
                        validate=validate.Length(max=lists.MAX_RULES))

    @validates_schema
    def _distinct_keys(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        for index, rule in enumerate(data.get("rules") or []):
            if rule["key"] in seen:
                raise ValidationError({"rules": {index: {"key": ["Repeats an earlier rule's key."]}}})
            seen.add(rule["key"])


class PhraseRuleOut(Schema):
    key = fields.String()
    wordings = fields.List(fields.String())
    party = fields.String(allow_none=True)
    threshold = fields.Float()
    active = fields.Boolean()


class PhraseListOut(Schema):
    kind = fields.String(validate=validate.OneOf(lists.KINDS))
    source = fields.String(validate=validate.OneOf(("tenant", "default")))
    rules = fields.List(fields.Nested(PhraseRuleOut))
    version = fields.Integer(metadata={"description": "0 while the tenant never edited this kind"})
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class PhraseListsOut(Schema):
    items = fields.List(fields.Nested(PhraseListOut))


@bp.get("/phrase-lists")
@documented(summary="The phrase lists the text analytics applies (the tenant's or the defaults)",
            response=PhraseListsOut, tag=TAG)
@require(PHRASE_LISTS_READ)
def get_lists():
    principal = current_principal()
    with get_db().session() as session:
        body = service.effective(session, principal.tenant_id)
    return respond(body)


@bp.put("/phrase-lists/<kind>")
@documented(summary="Replace one kind of phrase list (required or prohibited)", body=PhraseListIn,
            response=PhraseListOut, tag=TAG, problems=_INVALID)
@require(PHRASE_LISTS_WRITE)
def put_list(kind: str):
    """The whole list of the kind is replaced; later analyses of the tenant's transcripts use it.
    Audited as ``phrase_lists.updated`` with a before/after summary."""
    principal = current_principal()
    rules = _with_defaults(service.check_kind(kind), parse_body(PhraseListIn))
    with get_db().session() as session:
        body = service.replace(session, tenant_id=principal.tenant_id, kind=kind, rules=rules,
                               actor=principal.person_id)
    return respond(body)


@bp.delete("/phrase-lists/<kind>")
@documented(summary="Revert one kind of phrase list to the built-in defaults", response=PhraseListOut,
            tag=TAG, problems={"404": "No such kind (required, prohibited)"})
@require(PHRASE_LISTS_WRITE)
def delete_list(kind: str):
    principal = current_principal()
    with get_db().session() as session:
        body = service.revert(session, tenant_id=principal.tenant_id, kind=kind, actor=principal.person_id)
    return respond(body)


def _with_defaults(kind: str, data: dict) -> list[dict]:
    rules = data["rules"]
    return [{**rule, "threshold": rule["threshold"] if rule["threshold"] is not None
             else lists.DEFAULT_THRESHOLD.get(kind, 0.85)} for rule in rules]
