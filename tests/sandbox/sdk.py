"""Strict conformance against the official SDK models: every JSON key must be a field of the
model (the SDK itself silently ignores unknown keys), every value must have the field's type,
and no enum value may come back as the SDK's 'outdated_sdk_version'."""

from __future__ import annotations

from datetime import date

import PureCloudPlatformClientV2
from dateutil import parser as dateparser
from PureCloudPlatformClientV2 import models

PRIMITIVES = {"str": str, "int": int, "float": (int, float), "bool": bool, "object": object}


def conforms(data, klass: str):
    """Raise AssertionError naming the first mismatch; return the SDK-deserialized object."""
    _walk(data, klass, klass)
    client = PureCloudPlatformClientV2.ApiClient()
    obj = client._ApiClient__deserialize(data, klass)
    assert "outdated_sdk_version" not in repr(obj), f"{klass}: an enum value the SDK rejects"
    return obj


def _walk(value, klass: str, where: str) -> None:
    if value is None:
        return
    if klass.startswith("list["):
        assert isinstance(value, list), f"{where}: expected a list"
        for i, item in enumerate(value):
            _walk(item, klass[5:-1], f"{where}[{i}]")
    elif klass.startswith("dict("):
        assert isinstance(value, dict), f"{where}: expected an object"
        for key, item in value.items():
            _walk(item, klass[klass.index(",") + 1:-1].strip(), f"{where}.{key}")
    elif klass in PRIMITIVES:
        ok = isinstance(value, PRIMITIVES[klass]) and not (klass in ("int", "float")
                                                             and isinstance(value, bool))
        assert ok, f"{where}: {value!r} is not {klass}"
    elif klass == "datetime":
        dateparser.isoparse(value)
    elif klass == "date":
        date.fromisoformat(value)
    else:
        _walk_model(value, klass, where)


def _walk_model(value, klass: str, where: str) -> None:
    assert isinstance(value, dict), f"{where}: expected a {klass} object"
    model = getattr(models, klass)()
    by_json = {json_name: attr for attr, json_name in model.attribute_map.items()}
    for key, item in value.items():
        assert key in by_json, f"{where}: '{key}' is not a field of {klass}"
        _walk(item, model.swagger_types[by_json[key]], f"{where}.{key}")
