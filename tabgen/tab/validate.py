"""A `Tab` to the list of what is wrong with it; and a repair for what a hand cannot play.

`validate` never raises: it checks what the value classes cannot (they check each value alone):

- structure: a piece without notes; in a grid tab (one with a meter), bars whose width is neither
  the grid's ``slots_per_bar(meter)`` nor a power-of-two multiple of it (normalize's fine bars);
- range: a fret above ``max_fret``; a note on a string the tuning lacks;
- one note per string per column;
- reach: the fretted notes of a column more than ``max_span`` frets apart (open strings excluded;
  ``max_span=4`` allows, say, frets 5 and 9 together, a stretch most hands make).

`repair` re-frets unplayable columns with `tabgen.tab.fretting` (same pitches, other strings) and
drops, with a message, a note that no fingering can keep.
"""

from __future__ import annotations

from dataclasses import dataclass

from tabgen.tab.fretting import fret_pitches
from tabgen.tab.types import MAX_FRET, Bar, Column, Note, Tab, column_span, is_bar_width, slots_per_bar

KINDS = ("empty", "bar-width", "fret-range", "no-string", "same-string", "span")


@dataclass(frozen=True)
class Problem:
    """One problem: where (0-based bar index, column position, string; -1 where not one) and what."""

    bar: int
    position: int
    string: int
    kind: str  # one of KINDS
    message: str

    def __str__(self) -> str:
        where = f"bar {self.bar + 1}" if self.bar >= 0 else "piece"
        if self.position >= 0:
            where += f", column {self.position}"
        if self.string >= 0:
            where += f", string {self.string}"
        return f"{where}: {self.message}"


def _column_problems(tab: Tab, i: int, col: Column, max_span: int, max_fret: int) -> list[Problem]:
    out = []
    seen: set[int] = set()
    for n in col.notes:
        if n.string > tab.tuning.strings:
            msg = f"note on string {n.string}, but the tuning has {tab.tuning.strings} strings"
            out.append(Problem(i, col.position, n.string, "no-string", msg))
        if n.fret > max_fret:
            msg = f"fret {n.fret} is above the highest fret {max_fret}"
            out.append(Problem(i, col.position, n.string, "fret-range", msg))
        if n.string in seen:
            out.append(Problem(i, col.position, n.string, "same-string", "two notes on one string"))
        seen.add(n.string)
    span = column_span(n.fret for n in col.notes)
    if span > max_span:
        msg = f"fretted notes {span} frets apart; a hand reaches {max_span}"
        out.append(Problem(i, col.position, -1, "span", msg))
    return out


def validate(tab: Tab, max_span: int = 4, max_fret: int = MAX_FRET) -> list[Problem]:
    """Every problem of a tab, in reading order. Never raises."""
    try:
        problems: list[Problem] = []
        if not any(bar.columns for bar in tab.bars):
            problems.append(Problem(-1, -1, -1, "empty", "the piece has no notes"))
        slots = slots_per_bar(tab.meter) if tab.meter else None
        for i, bar in enumerate(tab.bars):
            if slots and tab.meter and not is_bar_width(bar.width, slots):
                msg = f"bar is {bar.width} slots wide; the grid of {tab.meter[0]}/{tab.meter[1]} has {slots}"
                problems.append(Problem(i, -1, -1, "bar-width", msg))
            for col in bar.columns:
                problems.extend(_column_problems(tab, i, col, max_span, max_fret))
        return problems
    except Exception as e:  # a value built around the checks (object.__setattr__): report, don't raise
        return [Problem(-1, -1, -1, "empty", f"cannot validate: {e}")]


def is_playable(tab: Tab, max_span: int = 4, max_fret: int = MAX_FRET) -> bool:
    """True when no note breaks the range, string or reach rules (structure aside)."""
    playable = {"fret-range", "no-string", "same-string", "span"}
    return not any(p.kind in playable for p in validate(tab, max_span, max_fret))


def _repair_column(
    tab: Tab, i: int, col: Column, max_span: int, max_fret: int
) -> tuple[Column | None, list[str]]:
    where = f"bar {i + 1}, column {col.position}"
    notes, messages = [], []
    for n in col.notes:
        if n.string > tab.tuning.strings:
            messages.append(f"{where}: dropped a note on string {n.string} (the tuning has no such string)")
        else:
            notes.append(n)
    if not notes:
        return None, messages
    pitches = [tab.pitch(n) for n in notes]
    fretting = fret_pitches([pitches], tab.tuning, max_fret=max_fret, max_span=max_span)
    new = fretting.chords[0]
    if fretting.octave_moves:
        messages.append(f"{where}: moved {fretting.octave_moves} note(s) by an octave to fit the hand")
    if fretting.dropped:
        messages.append(f"{where}: dropped {fretting.dropped} note(s) no hand can add to the chord")
    # keep each note's technique where its pitch survived
    technique = {tab.pitch(n): n.technique for n in notes}
    new = tuple(Note(n.string, n.fret, technique.get(tab.pitch(n), "")) for n in new)
    messages.append(f"{where}: re-fretted {len(notes)} note(s) within reach")
    return Column(col.position, new), messages


def repair(tab: Tab, max_span: int = 4, max_fret: int = MAX_FRET) -> tuple[Tab, list[str]]:
    """A playable tab: unplayable columns re-fretted (pitches kept where possible), with messages."""
    bars, messages = [], []
    for i, bar in enumerate(tab.bars):
        columns = []
        for col in bar.columns:
            if _column_problems(tab, i, col, max_span, max_fret):
                fixed, said = _repair_column(tab, i, col, max_span, max_fret)
                messages.extend(said)
                if fixed is None:
                    continue
                col = fixed
            columns.append(col)
        bars.append(Bar(bar.width, tuple(columns), bar.repeat_start, bar.repeat_end))
    return Tab(tab.tuning, tuple(bars), tab.meter, tab.title, tab.meta, tab.line), messages
