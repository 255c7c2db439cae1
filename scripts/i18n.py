"""The panels' translations: one gettext catalogue per capability, German first.

Each capability that shows text keeps ``extension/<capability>/translations/de/LC_MESSAGES/messages.po``
for the strings of its own templates and code; Flask-Babel reads every such folder (``layout``).

    python -m scripts.i18n update <capability>   # extract its strings, add new ones to its .po
    python -m scripts.i18n compile               # every .po -> .mo (make venv runs this)

``tests/unit/platform/test_translations.py`` fails on any string without a German translation."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "extension"
LANGS = ("de",)


def catalogue_dirs() -> list[Path]:
    return sorted(p for p in EXTENSION.glob("*/translations") if p.is_dir())


def _babel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def update(capability: str) -> None:
    package = EXTENSION / capability
    target = package / "translations"
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        _babel("extract", "-F", str(ROOT / "babel.cfg"), "--no-location", "--sort-output",
               "-k", "_", "-k", "gettext", "-k", "ngettext:1,2", "-k", "lazy_gettext",
               "-o", str(pot), str(package))
        for lang in LANGS:
            po = target / lang / "LC_MESSAGES" / "messages.po"
            if po.exists():
                _babel("update", "-i", str(pot), "-d", str(target), "-l", lang, "--no-fuzzy-matching",
                       "--ignore-obsolete")
            else:
                _babel("init", "-i", str(pot), "-d", str(target), "-l", lang)


def compile_all() -> None:
    for target in catalogue_dirs():
        _babel("compile", "-d", str(target), "--statistics")


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"] and len(argv) == 2:
        update(argv[1])
    elif argv == ["compile"]:
        compile_all()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
