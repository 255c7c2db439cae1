"""The subject-access archive as files: ``export.json`` (everything), ``classes.csv`` (every data
class of the map and where the subject has data in it) and one CSV per table of rows."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def csv_files(archive: dict[str, Any]) -> dict[str, str]:
    files = {}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["class", "title", "lawful_basis", "retention_days", "table", "column", "rows"])
    for key, cls in archive["classes"].items():
        base = [key, cls["title"], cls["lawful_basis"], _cell(cls["retention_days"])]
        if not cls["held"]:
            writer.writerow([*base, "", "", 0])
        for held in cls["held"]:
            writer.writerow([*base, held["table"], held["column"], held["rows"]])
    files["classes.csv"] = out.getvalue()
    for table, rows in archive["tables"].items():
        out = io.StringIO()
        columns = sorted({c for row in rows for c in row})
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        files[f"tables/{table}.csv"] = out.getvalue()
    return files


def zip_bytes(archive: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export.json", json.dumps(archive, indent=2, sort_keys=True, default=str))
        for name, text in csv_files(archive).items():
            zf.writestr(name, text)
    return buffer.getvalue()
