"""Checks request shapes against shared/reference/genesys-cloud-api.json (no network)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared/reference/genesys-cloud-api.json"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@cache
def reference() -> dict[str, Any]:
    return json.loads(REFERENCE.read_text())


def find_operation(method: str, path: str) -> dict[str, Any] | None:
    """The operation for (method, path); a literal segment beats a {param} (users/me)."""
    matches = [
        op
        for op in reference()["operations"]
        if op["method"] == method and _template(op["path"]).fullmatch(path)
    ]
    return min(matches, key=lambda op: op["path"].count("{"), default=None)


@cache
def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def check_query(op: dict[str, Any], query: dict[str, list[str]]) -> list[str]:
    declared = {q["name"]: q for q in op["queryParams"]}
    errors = [
        f"query {name!r} not in {op['operationId']}" for name in query if name not in declared
    ]
    for name, spec in declared.items():
        if spec.get("required") and name not in query:
            errors.append(f"required query {name!r} missing for {op['operationId']}")
        for value in query.get(name, []):
            if spec.get("enum") and value not in spec["enum"]:
                errors.append(f"query {name}={value!r} not in {spec['enum']}")
            if spec["type"] == "bool" and value not in ("true", "false"):
                errors.append(f"query {name}={value!r} is not a JSON boolean")
            if spec["type"] == "int" and not value.isdigit():
                errors.append(f"query {name}={value!r} is not an integer")
    return errors


def check_value(value: Any, type_name: str, where: str) -> list[str]:
    if type_name.startswith("list["):
        if not isinstance(value, list):
            return [f"{where}: expected list, got {type(value).__name__}"]
        inner = type_name[5:-1]
        return [
            e for i, item in enumerate(value) for e in check_value(item, inner, f"{where}[{i}]")
        ]
    if type_name.startswith("dict("):
        if not isinstance(value, dict):
            return [f"{where}: expected object"]
        inner = type_name[5:-1].split(", ", 1)[1]
        return [e for k, item in value.items() for e in check_value(item, inner, f"{where}.{k}")]
    if type_name in reference()["models"]:
        return check_model(value, type_name, where)
    return _check_scalar(value, type_name, where)


def _check_scalar(value: Any, type_name: str, where: str) -> list[str]:
    checks = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "datetime": _is_datetime,
        "date": lambda v: isinstance(v, str) and bool(DATE.match(v)),
        "object": lambda v: True,
    }
    if type_name not in checks:
        return [f"{where}: unknown reference type {type_name!r}"]
    return [] if checks[type_name](value) else [f"{where}: {value!r} is not {type_name}"]


def _is_datetime(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def check_model(value: Any, name: str, where: str) -> list[str]:
    """Every key a field, required fields present, enums valid, nested models recursively."""
    model = reference()["models"][name]
    if not isinstance(value, dict):
        return [f"{where}: {name} must be an object"]
    fields = model["fields"]
    errors = [f"{where}.{key}: not a field of {name}" for key in value if key not in fields]
    errors += [
        f"{where}.{key}: required by {name}"
        for key in model.get("required") or []
        if key not in value
    ]
    for key, allowed in (model.get("enums") or {}).items():
        values = value.get(key) if isinstance(value.get(key), list) else [value.get(key)]
        errors += [
            f"{where}.{key}: {v!r} not in {allowed}"
            for v in values
            if key in value and v not in allowed
        ]
    for key, item in value.items():
        if key in fields:
            errors += check_value(item, fields[key], f"{where}.{key}")
    return errors
