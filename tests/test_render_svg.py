"""verovio's pictures of our MusicXML: each TAB note on our string (its line) with our fret."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("verovio")

from tabgen.render.musicxml import tab_to_musicxml  # noqa: E402
from tabgen.render.svg import musicxml_to_mei, musicxml_to_svg, page_paths, write_pictures  # noqa: E402
from tabgen.view.browser import find_chromium  # noqa: E402
from tests.tab_fixtures import CHORD_AND_BARRE_BARS, make_tab  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
MEI = "{http://www.music-encoding.org/ns/mei}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
PIECE = make_tab(CHORD_AND_BARRE_BARS, title="Barre study")


def ours(tab):
    return sorted(
        (b, n.string, n.fret) for b, bar in enumerate(tab.bars) for c in bar.columns for n in c.notes
    )


def test_mei_keeps_every_string_and_fret():
    mei = ET.fromstring(musicxml_to_mei(tab_to_musicxml(PIECE)))
    found = []
    for b, measure in enumerate(mei.iter(f"{MEI}measure")):
        for n in measure.iter(f"{MEI}note"):
            if n.get("tab.course") is not None:
                found.append((b, int(n.get("tab.course")), int(n.get("tab.fret"))))
    assert sorted(found) == ours(PIECE)


def test_svg_draws_each_fret_on_its_string_line():
    xml = tab_to_musicxml(PIECE)
    mei = ET.fromstring(musicxml_to_mei(xml))
    course = {n.get(XML_ID): int(n.get("tab.course")) for n in mei.iter(f"{MEI}note") if n.get("tab.course")}
    (svg,) = musicxml_to_svg(xml)
    root = ET.fromstring(svg)
    drawn = []  # (string by the line it is drawn on, fret as drawn, string in the MEI)
    for staff in root.iter(f"{SVG}g"):
        if staff.get("class") != "staff":
            continue
        notes = [g for g in staff.iter(f"{SVG}g") if g.get("class") == "note" and g.get("id") in course]
        if not notes:
            continue
        lines = sorted({int(m.group(1)) for p in staff.findall(f"{SVG}path")
                        if (m := re.fullmatch(r"M\d+ (\d+) L\d+ \1", p.get("d", "")))})  # fmt: skip
        assert len(lines) == PIECE.tuning.strings  # the TAB staff's lines, top (string 1) first
        spacing = lines[1] - lines[0]
        for g in notes:
            text = g.find(f"{SVG}text")
            y = int(text.get("y")) - spacing * 0.35  # the fret's baseline sits a third of a space down
            line = min(range(len(lines)), key=lambda k: abs(lines[k] - y)) + 1
            drawn.append((line, int("".join(text.itertext()).strip()), course[g.get("id")]))
    assert sorted((s, f) for s, f, _ in drawn) == sorted((s, f) for _, s, f in ours(PIECE))
    assert all(line == string for line, _, string in drawn)


def test_same_piece_same_svg(tmp_path):
    a, b = write_pictures(PIECE, svg=tmp_path / "a.svg"), write_pictures(PIECE, svg=tmp_path / "b.svg")
    assert a[0].read_bytes() == b[0].read_bytes()
    assert "Barre study" in a[0].read_text()


def test_long_pieces_get_one_file_per_page(tmp_path):
    assert page_paths(tmp_path / "p.svg", 3) == [
        tmp_path / "p.svg",
        tmp_path / "p-2.svg",
        tmp_path / "p-3.svg",
    ]


@pytest.mark.skipif(find_chromium() is None, reason="PNG pictures need Chromium")
def test_png_of_the_svg(tmp_path):
    (png,) = write_pictures(PIECE, png=tmp_path / "p.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    svg = musicxml_to_svg(tab_to_musicxml(PIECE))[0]
    assert (f'width="{width}px"', f'height="{height}px"') == tuple(
        re.findall(r'(?:width|height)="\d+px"', svg)[:2]
    )


def test_render_and_compose_write_pictures(tmp_path):
    from typer.testing import CliRunner

    from tabgen.cli import app
    from tabgen.tab.write import to_text

    src = tmp_path / "barre.txt"
    src.write_text(to_text(PIECE))
    result = CliRunner().invoke(
        app, ["render", str(src), "--svg", str(tmp_path / "r.svg"), "--title", "Mine"]
    )
    assert result.exit_code == 0, result.output
    assert "Mine" in (tmp_path / "r.svg").read_text()
    result = CliRunner().invoke(
        app, ["compose", "--bars", "2", "--candidates", "1", "--svg", str(tmp_path / "c.svg")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c.svg").read_text().startswith("<svg ")
