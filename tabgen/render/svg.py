"""Pictures of a piece: verovio engraves our MusicXML (notation over TAB) as SVG, keeping our strings
and frets (its MEI holds each TAB note's `tab.course` and `tab.fret`); PNG through headless Chromium
where it is installed (a browser draws verovio's SVG right; rsvg-convert misdraws its tempo glyph).

verovio (PyPI) is imported only here, when a picture is asked for.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from tabgen.errors import RenderError
from tabgen.tab.types import Tab

# verovio's units are tenths of a millimetre at scale 100; one page, as tall as the piece needs
OPTIONS = {
    "pageWidth": 2100,
    "pageHeight": 60000,
    "adjustPageHeight": True,
    "scale": 45,
    "footer": "none",
    "breaks": "auto",
    "xmlIdSeed": 1,  # same piece, same bytes
}


def _toolkit(xml: str):  # -> verovio.toolkit
    try:
        import verovio
    except ImportError:
        raise RenderError("pictures need verovio: pip install verovio") from None
    tk = verovio.toolkit()
    tk.setOptions(OPTIONS)
    if not tk.loadData(xml):
        raise RenderError("verovio could not read the MusicXML")
    return tk


def musicxml_to_svg(xml: str) -> list[str]:
    """Each page of the engraved score as SVG text."""
    tk = _toolkit(xml)
    return [tk.renderToSVG(page) for page in range(1, tk.getPageCount() + 1)]


def musicxml_to_mei(xml: str) -> str:
    """verovio's MEI of the score: what it read (for checks)."""
    return _toolkit(xml).getMEI()


def tab_to_svg(tab: Tab, tempo_bpm: float | None = None, title: str | None = None) -> list[str]:
    from tabgen.render.musicxml import tab_to_musicxml

    return musicxml_to_svg(tab_to_musicxml(tab, title=title, tempo_bpm=tempo_bpm))


def page_paths(path: str | os.PathLike[str], pages: int) -> list[Path]:
    """`out.svg` for a one-page score; else out.svg, out-2.svg, ... (the first page keeps the name)."""
    p = Path(path)
    return [p] + [p.with_name(f"{p.stem}-{k}{p.suffix}") for k in range(2, pages + 1)]


def svg_to_png(svg: str, out: str | os.PathLike[str]) -> None:
    """One SVG page to a PNG of its size, through headless Chromium, atomically."""
    from tabgen.atomic import atomic_write
    from tabgen.chromium import FLAGS, find_chromium

    exe = find_chromium()
    if exe is None:
        raise RenderError("PNG pictures need Chromium (Debian: apt-get install chromium); --svg needs none")
    size = re.search(r'<svg width="(\d+)px" height="(\d+)px"', svg)
    width, height = (int(size.group(1)), int(size.group(2))) if size else (840, 1188)
    with tempfile.TemporaryDirectory() as tmp:
        page, shot = Path(tmp) / "page.html", Path(tmp) / "shot.png"
        page.write_text(f'<!DOCTYPE html><html><body style="margin:0;background:#fff">{svg}</body></html>')
        cmd = [exe, *FLAGS, f"--user-data-dir={tmp}/profile", f"--window-size={width},{height}",
               "--hide-scrollbars", f"--screenshot={shot}", page.as_uri()]  # fmt: skip
        try:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        except subprocess.TimeoutExpired:
            raise RenderError("Chromium took over 2 minutes to draw the picture") from None
        if not shot.is_file():
            raise RenderError("Chromium wrote no picture")
        atomic_write(out, shot.read_bytes())


def write_pictures(
    tab: Tab,
    svg: str | os.PathLike[str] | None = None,
    png: str | os.PathLike[str] | None = None,
    tempo_bpm: float | None = None,
    title: str | None = None,
) -> list[Path]:
    """SVG and/or PNG pictures of `tab` (one file per page); returns the paths written."""
    from tabgen.atomic import atomic_write

    pages = tab_to_svg(tab, tempo_bpm, title)
    written: list[Path] = []
    if svg is not None:
        for path, page in zip(page_paths(svg, len(pages)), pages, strict=True):
            atomic_write(path, page)
            written.append(path)
    if png is not None:
        for path, page in zip(page_paths(png, len(pages)), pages, strict=True):
            svg_to_png(page, path)
            written.append(path)
    return written
