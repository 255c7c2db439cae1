"""Every string a panel shows has a German translation in its capability's catalogue, and a
German console gets German pages (gcLangTag -> Flask-Babel)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def _capabilities_with_text() -> list[str]:
    found = []
    for package in sorted((ROOT / "extension").iterdir()):
        if package.is_dir() and _messages(package):
            found.append(package.name)
    return found


def _messages(package: Path) -> set[str]:
    out = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(package), METHODS, keywords=KEYWORDS):
        out.add(message if isinstance(message, str) else message[0])
    return out


def test_the_platform_has_text_to_translate():
    assert "platform" in _capabilities_with_text()


@pytest.mark.parametrize("capability", _capabilities_with_text())
def test_every_string_has_a_german_translation(capability):
    po = ROOT / "extension" / capability / "translations" / "de" / "LC_MESSAGES" / "messages.po"
    assert po.exists(), f"run: python -m scripts.i18n update {capability}"
    with po.open("rb") as f:
        catalogue = read_po(f)
    translated = {(m.id if isinstance(m.id, str) else m.id[0]) for m in catalogue
                  if m.id and m.string and (isinstance(m.string, str) or all(m.string))
                  and "fuzzy" not in m.flags}
    missing = sorted(_messages(ROOT / "extension" / capability) - translated)
    assert not missing, (f"{capability}: no German for {missing[:10]} "
                         f"(python -m scripts.i18n update {capability}, then translate)")


def test_a_string_means_the_same_in_every_catalogue():
    """Flask-Babel merges the capabilities' catalogues (the last one wins), so one English string
    must have one German translation everywhere, or a page's words depend on the load order."""
    found: dict[str, dict[str, str]] = {}
    for po in sorted(ROOT.glob("extension/*/translations/de/LC_MESSAGES/messages.po")):
        with po.open("rb") as f:
            for m in read_po(f):
                if m.id and m.string:
                    key = m.id if isinstance(m.id, str) else m.id[0]
                    found.setdefault(key, {})[po.parts[-5]] = str(m.string)
    clashes = {k: v for k, v in found.items() if len(set(v.values())) > 1}
    assert not clashes, clashes
