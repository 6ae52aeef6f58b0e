"""The compiled reader (tabgen/tab/_scan.c) reads exactly what the pure-Python reader reads.

parse.py is the definition; the C module repeats its per-character loops for speed. Every test
here reads the same text twice, with and without the C module, and compares the results whole
(every Tab, Bar, Column, Note and Diagnostic, through their reprs).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.errors import TabgenError
from tabgen.tab import parse
from tabgen.tab.decode import decode_bytes
from tabgen.tab.write import to_text
from tests.test_parse_hypothesis import tabs

REALWORLD = Path(__file__).parents[2] / "shared" / "realworld-tabs"
needs_scan = pytest.mark.skipif(parse._scan is None, reason="the C reader is not built (no C compiler)")


def both(text: str) -> tuple[str, str]:
    """repr of the result with the C reader, and with the pure-Python reader."""
    compiled = repr(parse.parse_text(text, "t.txt"))
    scan, parse._scan = parse._scan, None
    try:
        python = repr(parse.parse_text(text, "t.txt"))
    finally:
        parse._scan = scan
    return compiled, python


def test_the_c_reader_is_built_where_ci_asks_for_it() -> None:
    # .ci/run sets TABGEN_REQUIRE_SCAN: there, a build that silently fell back to Python fails
    if os.environ.get("TABGEN_REQUIRE_SCAN"):
        assert parse._scan is not None, "tabgen/tab/_scan.c was not built"
    elif parse._scan is None:
        pytest.skip("the C reader is not built")


@needs_scan
@pytest.mark.parametrize(
    "line",
    [
        "e|---0---|",
        "Bb|--1--|",
        "bb-3-----",
        "e :|--0--|",
        "e-:|--0--|",
        "e -|--0--|",
        "e ---0---",
        "F#||-2--|",
        "  |--0--5--|",
        "|-----|",
        "--0--2--",
        "<12>---",
        "e|<12>|",
        "e|--",
        "D|--5--|  D.C. al Fine",
        "D|--5--|--7",
        "A|--5-- this is prose --|",
        "the date was 2003-08-08 -- see --- notes",
        "h|-x-x-x-|",
        "\x1c e|--0--|\x1f",
        "e|--0--|\t ",
        "C:--0--3--",
        "g#-5-7-",
        "E ||--0--|",
    ],
)
def test_string_line_matches_python(line: str) -> None:
    found = parse._scan.string_line(line)
    expected = parse._py_string_line(0, line)
    if expected is None:
        assert found is None
    else:
        assert parse._Line(0, *found) == expected


@needs_scan
def test_string_line_leaves_non_ascii_to_python() -> None:
    assert parse._scan.string_line("e|--0--é--|") is NotImplemented
    assert parse._scan.segments("--0--|--½--") is NotImplemented


@needs_scan
@pytest.mark.parametrize(
    "body",
    ["--0--|--2--|", "--0--|--2--", "--0--|  fine", "--0--", "|--0--||--1--|", "--0--|   |--1--|", "||"],
)
def test_segments_match_python(body: str) -> None:
    scan, parse._scan = parse._scan, None
    try:
        expected = parse._StaveReader.segments(parse._Line(0, None, 0, body, False, len(body), 0, 0))
    finally:
        parse._scan = scan
    found = parse._scan.segments(body)
    assert (found[0], found[1]) == (expected[0], expected[1])


TRICKY = """\
Title: Tricky
Tuning: D A D G B E
e|--0--12--222--101310--35--|-<12>-[7]-<30>--|
B|--1h3p1--b5r3--/7\\\\5--s9--|--x--X--t12----|
G|--2~--5g--0--------------|---------------|
D|--0--------------------3-|---------------|  x3
A|-------------------------|---------------|
D|--0----------------------|---------------|

PM----------
e|--0--0--0--|--3--|
B|--1--1--1--|--3--|
G|--2--2--2--|--4--|
D|--2--2--2--|--5--|
A|--0--0--0--|--5--|
E|-----------|--3--|

e|:--0--|--1--:|
B|:--1--|--1--:|
G|:--2--|--2--:|
D|:--2--|--3--:|

e|-g0h1--3g5--g12p10-|-g0g1--|
B|-------------------|--g----|
G|--g3h5-------------|-------|
D|-------------------|-------|

e||:-0--1---4||--3--|-5-7|
B||:--------*||-----|----|
G||*--------*||-----|----|
D||*--------*||-----|----|

e|-(5)p4--(12)--|-h(7)-(0)-(30)-(-(<12>)-|
B|-----(10)-----|-(3-)-(h5)-(222)-------|
G|------8-------|-()-(x)-(5~)-----------|
D|--------------|-----------------------|
"""


@needs_scan
def test_every_reading_path_matches_python() -> None:
    compiled, python = both(TRICKY)
    assert compiled == python
    result = parse.parse_text(TRICKY)
    assert len(result.tabs) == 6
    assert [b.repeat_end for b in result.tabs[4].bars] == [4, 0, 0]  # the 4 is a count, the 7 a note
    graces = [(n.string, n.fret) for n in result.tabs[3].notes if n.technique == "g"]
    assert graces == [(1, 0), (3, 3), (1, 3), (1, 12), (1, 0)]  # (g0g1: a grace 0, then a 1)
    assert any("'222'" in d.message for d in result.diagnostics)
    assert any("harmonic at fret 30" in d.message for d in result.diagnostics)
    ghosts = [(n.string, n.fret) for n in result.tabs[5].notes if n.technique == "()"]
    assert ghosts == [(1, 5), (2, 10), (1, 12), (1, 7), (1, 0)]  # (3- (h5) (222) (x) (5~) are no ghost notes
    assert any("ghost note at fret 30" in d.message for d in result.diagnostics)


STAVE_CHARS = "----------||0123456789hpbrs/\\tgxX~<>[]()(:*o  eEBbGgDdAa#PMabcdefxyz"


LABELS = ["", "e|", "B|", "G|", "D|", "A|", "E|", "F#|", "Bb-", "e ", "|", "  ", "d:"]


@st.composite
def stave_like(draw: st.DrawFn) -> str:
    """Lines of stave characters, labels and a little prose: mostly staves, some almost staves."""
    lines = []
    for _ in range(draw(st.integers(1, 14))):
        label = draw(st.sampled_from(LABELS))
        body = draw(st.text(alphabet=STAVE_CHARS, min_size=0, max_size=40))
        lines.append(label + body)
    return "\n".join(lines)


@needs_scan
@settings(max_examples=400, deadline=None)
@given(stave_like())
def test_stave_like_text_reads_the_same(text: str) -> None:
    compiled, python = both(text)
    assert compiled == python


@needs_scan
@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_text_reads_the_same(text: str) -> None:
    compiled, python = both(text)
    assert compiled == python


@needs_scan
@settings(max_examples=100, deadline=None)
@given(tabs(grid=False))
def test_written_tabs_read_the_same(tab) -> None:
    compiled, python = both(to_text(tab))
    assert compiled == python


def realworld_texts() -> list[tuple[str, str]]:
    texts = []
    for path in sorted(REALWORLD.iterdir()):
        try:
            texts.append((path.name, decode_bytes(path.read_bytes(), path.name)))
        except TabgenError:
            pass  # the broken UTF-16 file
    return texts


@needs_scan
@pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld-tabs is absent")
def test_realworld_files_and_mangled_copies_read_the_same() -> None:
    texts = realworld_texts()
    rng = random.Random(1)
    for name, text in texts:
        compiled, python = both(text)
        assert compiled == python, name
    for _ in range(60):  # each a real file with a few characters deleted, inserted or swapped
        name, text = rng.choice(texts)
        chars = list(text)
        for _ in range(rng.randint(1, 30)):
            i = rng.randrange(len(chars))
            what = rng.random()
            if what < 0.3:
                del chars[i : i + rng.randint(1, 4)]
            elif what < 0.7:
                chars[i:i] = rng.choices("-|0123456789hpx<>[]:*o ~\nPMeB/\\", k=rng.randint(1, 5))
            else:
                j = rng.randrange(len(chars))
                chars[i], chars[j] = chars[j], chars[i]
        compiled, python = both("".join(chars))
        assert compiled == python, name


@needs_scan
@pytest.mark.parametrize(
    "text",
    [
        "e|" + "|" * 20000,
        "e|" + "1" * 5000 + "|",
        "e|" + "-<" * 5000,
        "\n".join(["e|" + "-1-|" * 2000] * 8),
        "\n".join(["e|" + "-" * 20000 + "|"] * 6),
        "\n".join([":|" * 2000] * 6),
        "\n".join(["|" + "-12-" * 2000 + "||o"] * 7),
        "\n".join(["e|" + "-<30>-[7]-x-h12~-" * 500 + "|"] * 6),
        "\n".join(["e|" + "-(5)-(12)p10-((7)-(99)-" * 500 + "|"] * 6),
    ],
    ids=[
        "bar-lines",
        "digit-run",
        "open-brackets",
        "8-strings",
        "dashes",
        "marks",
        "repeat",
        "techniques",
        "ghosts",
    ],
)
def test_long_and_degenerate_lines_read_the_same(text: str) -> None:
    compiled, python = both(text)
    assert compiled == python


@needs_scan
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF) | st.sampled_from("\x7f\x85\u2028\U0001f600")))
def test_control_characters_are_counted_as_the_regex_counts_them(text: str) -> None:
    import re

    assert parse._scan.controls(text) == len(re.findall(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", text))
