"""The data map covers every stored column: a new column holding personal data without a class
fails here, and docs/privacy.md carries the map as rendered from code."""

from __future__ import annotations

from pathlib import Path

from extension import load_models
from extension.platform.db import Base
from extension.privacy.domain import datamap
from extension.privacy.domain.scrub import mentions, scrub

ROOT = Path(__file__).resolve().parents[3]
BEGIN, END = "<!-- BEGIN GENERATED: flask privacy datamap -->", "<!-- END GENERATED -->"


def _stored() -> dict[str, list[str]]:
    load_models()
    return {t.name: [c.name for c in t.columns] for t in Base.metadata.sorted_tables}


def test_every_stored_column_is_classified_or_marked_not_personal():
    missing = datamap.unclassified(_stored())
    assert not missing, ("columns without a data class: add them to extension/privacy/domain/"
                         f"datamap.py (a Col, or not_personal): {missing}")


def test_the_map_names_only_what_the_models_have():
    assert datamap.stale(_stored()) == []


def test_a_new_personal_column_without_a_class_fails():
    stored = _stored()
    stored["people"] = [*stored["people"], "home_address"]
    stored["brand_new_table"] = ["tenant_id", "agent_id"]
    assert datamap.unclassified(stored) == ["brand_new_table (table not in the data map)",
                                            "people.home_address"]


def test_every_column_names_a_known_class_and_every_table_is_tenant_scoped():
    stored = _stored()
    for table in datamap.TABLES.values():
        assert "tenant_id" in stored[table.name], table.name
        for name, col in table.columns.items():
            assert col.cls in datamap.CLASSES, f"{table.name}.{name}: {col.cls}"
        for column in table.on_customer_erasure:
            assert column in table.columns, f"{table.name}.{column}"


def test_tenant_retention_overrides_the_default():
    assert datamap.retention_days("raw_payload") == 30
    assert datamap.retention_days("raw_payload", {"raw_payload": 7}) == 7
    assert datamap.retention_days("raw_payload", {"raw_payload": -1}) == 30  # nonsense: default
    assert datamap.retention_days("audit", {}) is None


def test_docs_privacy_md_carries_the_rendered_map():
    text = (ROOT / "docs" / "privacy.md").read_text()
    assert BEGIN in text and END in text
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert generated == datamap.render_markdown(), (
        "docs/privacy.md is out of date: paste `flask --app wsgi privacy datamap` between the markers")


def test_scrub_rewrites_whole_words_everywhere_in_json():
    value = {"agent-7": ["Call with Jane Doe", "jane@x.io wrote", {"k": "agent-7|2026-W01"}],
             "n": 3, "word": "Janeiro"}
    out = scrub(value, {"agent-7": "erased-1", "Jane Doe": "[erased]", "jane@x.io": "[erased]",
                        "Jane": "[erased]"})
    assert out == {"erased-1": ["Call with [erased]", "[erased] wrote", {"k": "erased-1|2026-W01"}],
                   "n": 3, "word": "Janeiro"}
    assert mentions(value, ["jane doe"]) and not mentions(out, ["agent-7", "Jane"])
    assert scrub("ab", {"ab": "x"}) == "ab"  # too short to be a needle
