import random

import numpy as np
import pytest
from formats_strategies import SMALL_METERS, tabs, tunings
from hypothesis import given, settings
from hypothesis import strategies as st

from tabgen.errors import TabValueError
from tabgen.formats import ALPHABET, FORMATS, get_format
from tabgen.formats.base import FIRST_ALPHABET
from tabgen.tab.normalize import normalize
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning, column_span, slots_per_bar

FORMAT_NAMES = sorted(FORMATS)
STANDARD = Tuning.named("standard")


def walk(grammar, rng: random.Random, limit: int = 100_000) -> str:
    """Pick uniformly among the allowed characters until the grammar is done."""
    out = []
    while not grammar.done:
        allowed = np.flatnonzero(grammar.allowed_mask())
        assert allowed.size, f"dead end after {''.join(out)!r}"
        ch = ALPHABET[rng.choice(allowed.tolist())]
        grammar.advance(ch)
        out.append(ch)
        assert len(out) < limit
    return "".join(out)


@pytest.mark.parametrize("name", FORMAT_NAMES)
@settings(max_examples=60, deadline=None)
@given(
    tuning=tunings,
    meter=st.sampled_from(SMALL_METERS),
    bars=st.integers(1, 6),
    max_span=st.integers(0, 6),
    max_fine=st.sampled_from([1, 1, 2, 4]),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_walks_finish_and_decode_valid(name, tuning, meter, bars, max_span, max_fine, seed):
    fmt = get_format(name)
    grammar = fmt.grammar(tuning, meter, bars, max_span, max_fine)
    text = walk(grammar, random.Random(seed))
    assert text.startswith(fmt.header(tuning, meter)) and text.endswith("$\n")
    assert not grammar.allowed_mask().any()
    decoded = fmt.decode(text, max_span=max_span)
    assert decoded.problems == []
    assert decoded.bars_total == decoded.bars_valid == bars == len(decoded.tab.bars) == fmt.bars_in(text)
    assert decoded.tab.tuning.pitches == tuning.pitches and decoded.tab.meter == meter
    slots = slots_per_bar(meter)
    for bar in decoded.tab.bars:
        assert bar.width in {slots * k for k in (1, 2, 4) if k <= max_fine}
        for col in bar.columns:
            assert column_span([n.fret for n in col.notes]) <= max_span
            assert all(1 <= n.string <= tuning.strings for n in col.notes)
    assert fmt.encode(decoded.tab) == text  # the grammar accepts only the one spelling encode writes


@pytest.mark.parametrize("name", FORMAT_NAMES)
@settings(max_examples=30, deadline=None)
@given(tab=tabs(playable=True, max_bars=3, max_span=4, fine=True), span_extra=st.integers(0, 2))
def test_grammar_accepts_every_encoded_playable_tab(name, tab, span_extra):
    fmt = get_format(name)
    grammar = fmt.grammar(tab.tuning, tab.meter, len(tab.bars), max_span=4 + span_extra, max_fine=4)
    grammar.feed(fmt.encode(tab))
    assert grammar.done


@pytest.mark.parametrize("name", FORMAT_NAMES)
@settings(max_examples=20, deadline=None)
@given(
    tab=tabs(playable=True, meters=SMALL_METERS, max_bars=5),
    extra=st.integers(-2, 3),
    seed=st.integers(0, 99),
)
def test_priming_continues_the_prime(name, tab, extra, seed):
    fmt = get_format(name)
    bars = max(1, len(tab.bars) + extra)
    prime = fmt.prime(tab, bars)
    grammar = fmt.grammar(tab.tuning, tab.meter, bars)
    grammar.feed(prime)
    out = prime + walk(grammar, random.Random(seed))
    decoded = fmt.decode(out, max_span=4)
    assert decoded.problems == [] and len(decoded.tab.bars) == bars
    kept = len(tab.bars) if name == "time" or len(tab.bars) >= bars else len(tab.bars) // 4 * 4
    assert decoded.tab.bars[: min(kept, bars)] == tab.bars[: min(kept, bars)]


def test_time_grammar_takes_any_prefix_as_a_prime():
    fmt = get_format("time")
    tab = Tab(STANDARD, (Bar(16, (Column(0, (Note(1, 3), Note(2, 5, "h"))),)),) * 2)
    text = fmt.prime(tab, 3)  # the bar lines count the bars to come of a 3-bar piece
    for cut in range(len(text) - 2):
        grammar = fmt.grammar(STANDARD, None, 3)
        grammar.feed(text[:cut])
        assert fmt.decode(text[:cut] + walk(grammar, random.Random(cut))).problems == []


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_disallowed_characters_raise_and_the_end_is_forced(name):
    fmt = get_format(name)
    tab = Tab(STANDARD, (Bar(16, (Column(0, (Note(1, 3),)),)),))
    text = fmt.encode(tab)
    grammar = fmt.grammar(STANDARD, None, 1)
    with pytest.raises(TabValueError, match="not allowed at character 0"):
        grammar.advance("x")
    grammar.feed(text[:-2])
    mask = grammar.allowed_mask()
    assert [ALPHABET[i] for i in np.flatnonzero(mask)] == ["$"]
    with pytest.raises(TabValueError):
        grammar.advance("0")
    grammar.feed("$\n")
    assert grammar.done
    with pytest.raises(TabValueError, match="after the end"):
        grammar.advance("\n")
    with pytest.raises(TabValueError, match="bars must be >= 1"):
        fmt.grammar(STANDARD, None, 0)


def allowed_after(fmt_name: str, prime: str, max_span: int = 4) -> set[str]:
    grammar = get_format(fmt_name).grammar(STANDARD, (4, 4), 1, max_span)
    grammar.feed(prime)
    return {ALPHABET[i] for i in np.flatnonzero(grammar.allowed_mask())}


def test_time_grammar_keeps_columns_playable():
    head = "%E2A2D3G3B3E4 4/4\n"
    after = allowed_after("time", head + "-3")  # fret 3 on B: G may take 0 and 1..7 (span 4)
    assert {"0", "1", "7", "-", "\n", "H", "/"} <= after and not {"8", "9", "a"} & after
    after = allowed_after("time", head + "-3-")  # a dash cannot end a line
    assert "\n" not in after and {"0", "7", "-"} <= after
    after = allowed_after("time", head + "-3---")  # string 6: '-' would be a trailing dash
    assert "-" not in after and "\n" not in after and "7" in after
    first = {"\n", "H", "P", "B", "R", "/", "\\", "S", "~", "X", "T", "G", "N", "A", "M"}
    assert allowed_after("time", head + "-30000") == first | {"("}  # "(": a ghost note (v3)
    grammar = get_format("time", 2).grammar(STANDARD, (4, 4), 1)  # the first alphabet: no ghost notes
    grammar.feed(head + "-30000")
    assert {FIRST_ALPHABET[i] for i in np.flatnonzero(grammar.allowed_mask())} == first


def test_line_grammar_keeps_columns_playable_across_string_lines():
    head = "%E2A2D3G3B3E4 4/4\ne|" + "-" * 16 + "|\nB|--"
    after = allowed_after("line", head + "c" + "-" * 13 + "|\nG|--")  # fret 12 on B, slot 3
    assert {"0", "8", "c", "g", "-"} <= after and not {"1", "7", "h"} & after
    after = allowed_after("line", head + "c" + "-" * 13 + "|\nG|---")  # slot 4 is free
    assert {"1", "o"} <= after
    assert allowed_after("line", "%E2A2D3G3B3E4 4/4\ne|" + "-" * 16) == {"|"}


def test_masks_are_shared_and_read_only():
    a = get_format("time").grammar(STANDARD, None, 2)
    b = get_format("time").grammar(STANDARD, None, 2)
    a.feed("%E2A2D3G3B3E4 -\n")
    b.feed("%E2A2D3G3B3E4 -\n")
    assert a.allowed_mask() is b.allowed_mask()
    with pytest.raises(ValueError):
        a.allowed_mask()[0] = True


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_fine_bars_only_when_allowed(name):
    fmt = get_format(name)
    busy = Bar(32, tuple(Column(i, (Note(1, 0),)) for i in range(20)))
    text = fmt.encode(Tab(STANDARD, (busy,), (4, 4)))
    strict = fmt.grammar(STANDARD, (4, 4), 1)
    with pytest.raises(TabValueError):
        strict.feed(text)
    fine = fmt.grammar(STANDARD, (4, 4), 1, max_fine=2)
    fine.feed(text)
    assert fine.done
    with pytest.raises(TabValueError, match="max_fine"):
        fmt.grammar(STANDARD, (4, 4), 1, max_fine=0)


@settings(max_examples=30, deadline=None)
@given(
    tuning=tunings,
    meter=st.sampled_from(SMALL_METERS),
    bars=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_time_v1_walks_are_what_v1_encode_writes(tuning, meter, bars, seed):
    fmt = get_format("time", 1)  # the version of models trained before bar repeats and counts
    text = walk(fmt.grammar(tuning, meter, bars), random.Random(seed))
    decoded = fmt.decode(text, max_span=4)
    assert decoded.problems == [] and len(decoded.tab.bars) == bars
    body = text.splitlines()[1:]  # the header may hold a sharp
    assert not any(line.startswith("#") for line in body) and all(
        line == "|" for line in body if line[:1] == "|"
    )
    assert fmt.encode(decoded.tab) == text


@settings(max_examples=40, deadline=None)
@given(tab=tabs(playable=True, meters=SMALL_METERS), seed=st.integers(0, 2**32 - 1))
def test_time_v2_text_of_a_tab_is_accepted_and_repeated_bars_are_written_short(tab, seed):
    fmt = get_format("time")
    rng = random.Random(seed)
    bars = list(tab.bars)
    for i in range(1, len(bars)):  # copy some bars from up to 8 back
        if rng.random() < 0.5:
            bars[i] = bars[max(0, i - rng.randint(1, 8))]
    tab = Tab(tab.tuning, tuple(bars), tab.meter)
    text = fmt.encode(tab)
    grammar = fmt.grammar(tab.tuning, tab.meter, len(tab.bars))
    grammar.feed(text)
    assert grammar.done
    decoded = fmt.decode(text, max_span=4)
    assert decoded.problems == [] and decoded.tab.bars == normalize(tab).bars
    n = normalize(tab).bars
    shortened = sum(1 for i, b in enumerate(n) if b.columns and b in n[max(0, i - 8) : i])
    assert text.count("\n#") == shortened
