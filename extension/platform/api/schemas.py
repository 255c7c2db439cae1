"""Marshmallow pieces every API shares: comma-separated lists, date ranges, paging, problems."""

from __future__ import annotations

from typing import Any, cast

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

MAX_DAYS = 400  # a little over a year: the longest interval one request may aggregate
MIN_YEAR, MAX_YEAR = 1900, 2999  # every day or instant the API reads: room for date arithmetic
_YEARS = f"Must be within the years {MIN_YEAR} to {MAX_YEAR}."


class Day(fields.Date):
    """An ISO date within MIN_YEAR..MAX_YEAR (year 1 or 9999 would overflow date arithmetic)."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ValidationError(_YEARS)
        return day


class Instant(fields.AwareDateTime):
    """An ISO date-time with an offset, within MIN_YEAR..MAX_YEAR."""

    def _deserialize(self, value, attr, data, **kwargs):
        instant = super()._deserialize(value, attr, data, **kwargs)
        if not MIN_YEAR <= instant.year <= MAX_YEAR:
            raise ValidationError(_YEARS)
        return instant


class CsvList(fields.Field):
    """``a,b,c`` in a query string; each item must be one of ``choices``."""

    def __init__(self, *, choices: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.choices = choices
        # typed as a read-only Mapping, built as a dict by Field.__init__
        cast(dict[str, Any], self.metadata).setdefault(
            "description", f"Comma-separated, from: {', '.join(choices)}")

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
    start = Day(data_key="from", metadata={"description": "First tenant-local day (ISO date)"})
    end = Day(data_key="to", metadata={"description": "Last tenant-local day, inclusive"})

    @validates_schema
    def _interval(self, data, **kwargs):
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError("Must not be before 'from'.", field_name="to")
        if start and end and (end - start).days >= MAX_DAYS:
            raise ValidationError(f"The interval may span at most {MAX_DAYS} days.", field_name="to")


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """The schema of one page of a listing: ``items`` of ``item`` and ``next_cursor`` (null on the
    last page), named ``name`` in the OpenAPI document."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item)),
                             "next_cursor": fields.String(allow_none=True)}, name=name)


class PageQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = fields.String(metadata={"description": "Opaque; next_cursor of the previous page"})


class ProblemField(Schema):
    field = fields.String()
    message = fields.String()


class ProblemDetails(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Nested(ProblemField))
