"""Copy the panels' front-end files from node_modules/ (filled by `npm ci`) into the ignored
extension/platform/static/vendor/, which Flask serves at /assets/vendor/. Run by `make venv`.

Only what the pages load: htmx's build, ECharts' minified build (chart pages only), Spark's
self-hosted component bundle (its esm.js, chunks, CSS, i18n and icons; never the CDN-loading
wrapper) and the font weights the panels use."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "extension" / "platform" / "static" / "vendor"
FONT_WEIGHTS = ("400", "600", "700")
FONTS = ("noto-sans", "urbanist")


def copy() -> list[Path]:
    if not (MODULES / "htmx.org").is_dir():
        raise SystemExit("node_modules/ is missing: run `npm ci` first (make venv does)")
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    (VENDOR / "htmx").mkdir(parents=True)
    shutil.copy2(MODULES / "htmx.org" / "dist" / "htmx.min.js", VENDOR / "htmx" / "htmx.min.js")
    (VENDOR / "echarts").mkdir()  # loaded only by the chart pages
    shutil.copy2(MODULES / "echarts" / "dist" / "echarts.min.js", VENDOR / "echarts" / "echarts.min.js")
    shutil.copytree(MODULES / "genesys-spark-components" / "dist" / "genesys-webcomponents",
                    VENDOR / "spark")
    for font in FONTS:
        source, target = MODULES / "@fontsource" / font, VENDOR / "fonts" / font
        (target / "files").mkdir(parents=True)
        for weight in FONT_WEIGHTS:
            shutil.copy2(source / f"{weight}.css", target / f"{weight}.css")
            for file in (source / "files").glob(f"{font}-*-{weight}-normal.woff*"):
                shutil.copy2(file, target / "files" / file.name)
    return sorted(VENDOR.iterdir())


def main() -> int:
    copied = copy()
    print(f"front-end files copied into {VENDOR.relative_to(ROOT)}: "
          + ", ".join(p.name for p in copied))
    return 0


if __name__ == "__main__":
    sys.exit(main())
