"""Bytes, wrappers and files: encodings, Markdown/HTML/reStructuredText, read_file, join_staves."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest

from tabgen.errors import InputError
from tabgen.sources import read_file
from tabgen.tab.decode import decode_bytes
from tabgen.tab.parse import join_staves, parse_text

STAVE = "e|-0-3-|\nB|-1---|\nG|-----|\nD|-----|\nA|-----|\nE|-----|\n"
# (position, string, fret) of STAVE's notes: open e and B fret 1 at 1, e fret 3 at 3
STAVE_NOTES = [(1, 1, 0), (1, 2, 1), (3, 1, 3)]


def notes(text: str) -> list[tuple[int, int, int]]:
    (tab,) = parse_text(text).tabs
    return [(c.position, n.string, n.fret) for b in tab.bars for c in b.columns for n in c.notes]


# --- decode_bytes -----------------------------------------------------------------------------


def test_encodings_and_line_ends_decode_to_the_same_text() -> None:
    text = "Title: Café\n" + STAVE
    forms = [
        text.encode("utf-8"),
        codecs.BOM_UTF8 + text.encode("utf-8"),
        text.encode("utf-16"),  # with BOM
        text.encode("latin-1"),
        text.encode("cp1252"),
        text.replace("\n", "\r\n").encode("utf-8"),
        text.replace("\n", "\r").encode("utf-8"),
    ]
    for data in forms:
        assert decode_bytes(data) == text, data[:20]


def test_cp1252_quotes_and_nbsp() -> None:
    assert decode_bytes(b"\x93Menuet\x94\xa0in\xa0G\n") == "\u201cMenuet\u201d in G\n"
    # a non-breaking space inside a stave line reads as a space, not as a stave character
    data = STAVE.replace("e|-0-3-|", "e|-0-3-|\xa0\xa0x2").encode("latin-1")
    assert notes(decode_bytes(data)) == STAVE_NOTES


def test_binary_data_raises_input_error_naming_the_file() -> None:
    with pytest.raises(InputError, match="song.gp5: binary data"):
        decode_bytes(b"FICHIER GUITAR PRO v5.00\x00\x00\x01\x02", "song.gp5")
    with pytest.raises(InputError, match="binary data"):
        decode_bytes(bytes(range(1, 32)) * 20)


def test_a_utf16_bom_before_8_bit_text_is_broken_encoding() -> None:
    data = codecs.BOM_UTF16_LE + b"# - - - - P L E A S E   N O T E\r\n" + STAVE.encode("ascii")
    with pytest.raises(InputError, match="x.txt: broken encoding"):
        decode_bytes(data, "x.txt")


# --- wrappers ---------------------------------------------------------------------------------


def test_markdown_fence() -> None:
    text = "# A study\n\nPlay it slowly:\n\n```text\n" + STAVE + "```\n\n| a | b |\n|:--:|:--:|\n"
    assert notes(text) == STAVE_NOTES
    assert parse_text(text).tabs[0].line == 6


def test_html_pre_with_entities_and_text_outside_ignored() -> None:
    body = STAVE.replace("e|-0-3-|", "e|-0-3-|").replace("|", "&#124;", 2)
    page = (
        "<html><head><title>Tab</title></head><body>\n<p>e|-0-0-0-| is how it starts &amp; "
        "ends</p>\n<pre class='tab'>\n" + body + "</pre>\n<p>E|--- more text</p></body></html>\n"
    )
    result = parse_text(page)
    assert notes(page) == STAVE_NOTES
    assert result.tabs[0].line == 4  # line numbers are the file's


def test_restructuredtext_code_block() -> None:
    indented = "".join("    " + line + "\n" for line in STAVE.splitlines())
    text = "Output\n======\n\n.. code-block:: console\n\n" + indented + "\nMore prose.\n"
    assert notes(text) == STAVE_NOTES


# --- files ----------------------------------------------------------------------------------


def test_read_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing.txt: no such file"):
        read_file(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="is a folder"):
        read_file(tmp_path)
    binary = tmp_path / "x.tab"
    binary.write_bytes(b"\x00\x01\x02\x03" * 100)
    with pytest.raises(InputError, match="x.tab: binary data"):
        read_file(binary)
    bad_gz = tmp_path / "y.tab.gz"
    bad_gz.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="y.tab.gz: not a readable gzip file"):
        read_file(bad_gz)


CORPUS = (
    "Title: First tune\nMeter: 3/4\nKey: G\nSource: a book\nTuning: standard\n\n"
    + STAVE
    + "\n"
    + STAVE
    + "\nTitle: Second tune\nMeter: 4/4\nTuning: D2 A2 D3 G3 B3 E4\n\n"
    + STAVE.replace("E|", "D|")
)


def test_gzip_corpus_of_several_tunes_joins_into_one_tab_per_piece(tmp_path: Path) -> None:
    path = tmp_path / "tunes.tab.gz"
    path.write_bytes(gzip.compress(CORPUS.encode("utf-8")))
    result = read_file(path)
    assert [(t.title, t.line) for t in result.tabs] == [
        ("First tune", 7),
        ("First tune", 14),
        ("Second tune", 25),
    ]
    pieces = join_staves(result.tabs)
    assert [(p.title, p.meter, p.meta, p.tuning.name, len(p.bars), p.line) for p in pieces] == [
        ("First tune", (3, 4), (("key", "G"), ("source", "a book")), "standard", 2, 7),
        ("Second tune", (4, 4), (), "drop-d", 1, 25),
    ]
    # the open e of each bar: E4 in both pieces
    assert [p.pitch(b.columns[0].notes[0]) for p in pieces for b in p.bars] == [64, 64, 64]


def test_join_staves_keeps_different_tunings_apart() -> None:
    text = STAVE + "\n" + STAVE.replace("E|", "D|") + "\n" + STAVE
    tabs = parse_text(text).tabs
    assert [t.tuning.name for t in join_staves(tabs)] == ["standard", "drop-d", "standard"]


def test_html_tags_go_but_harmonics_stay() -> None:
    page = "<html><body>\n<pre>\n" + STAVE.replace("e|-0-3-|", "e|<7>3-|") + "</pre>\n</body></html>\n"
    (tab,) = parse_text(page).tabs
    assert [
        (c.position, n.fret, n.technique) for c in tab.bars[0].columns for n in c.notes if n.string == 1
    ] == [
        (1, 7, "<>"),
        (3, 3, ""),
    ]


def test_a_header_field_given_again_replaces_the_first() -> None:
    text = "Key: G\nSource: book\n\n" + STAVE + "\nKey: D\n\n" + STAVE
    tabs = parse_text(text).tabs
    assert [t.meta for t in tabs] == [(("key", "G"), ("source", "book")), (("key", "D"), ("source", "book"))]
    assert len(join_staves(tabs)) == 2
