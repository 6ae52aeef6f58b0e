"""Rhythm from spacing: a parsed bar's character offsets to slots of the rhythm grid.

ASCII tab has no durations; writers space notes evenly within a bar (so many characters a note
value) and pad the bar with a dash or two after (and before) its bar lines. A parsed bar holds the
character offsets where its columns' digits start; this module finds the grid that best explains
them and gives each column its slot.

The rule, for one bar of ``width`` characters and a grid of ``slots`` slots (16 in 4/4):

1. Canonical text. A bar of ``k * slots`` characters (k >= 2) whose onsets all sit at ``1 + k * s``
   is read as `tabgen.tab.write` writes a grid bar: onset ``s`` at slot ``s``. (Nothing else could
   tell three dashes of padding from a rest: ``---0`` is slot 1 of a grid written two characters a
   slot.)
2. Onsets. A column that starts inside the digits of the column before it (the ``8`` under the
   ``0`` of a ``10`` on the string above) on strings the cluster does not use yet is the same onset.
   An onset's time is where its first column's digits start.
3. Candidate grids. A grid is slot 0 at character ``a`` (the padding: 0 up to 3 characters, never
   past the first onset) and ``c`` characters a slot. ``c`` is taken from the bar's length
   (``slots * c`` spans the bar from ``a`` to its end, or up to ``a`` characters past it: the last
   note's cell is often shorter by the padding) and from the spacing between onsets (each gap read
   as 1, 2, 3, 4, 6 or 8 slots).
4. Best grid. Each onset goes to its nearest slot; a grid that puts two onsets on one slot, or one
   outside the bar, is out. The grid chosen has the least cost: the onsets' distance from their
   slots (weight 4 a slot), how far the grid's end is from the bar's end beyond the tolerance in 3
   (weight 2 a slot), how far off the beat the onsets sit (0 on the bar's first slot, 0.3 on a beat,
   0.6 on an eighth, 0.9 on a sixteenth; an eighth of 6/8 counts as a beat), and the padding (0.1
   a character). Ties go to the smaller padding, then to the coarser grid.
5. Grace notes (``g0h1``, ``0g``) take no part in the fit: their main note is timed where its
   grace notes start (the writer's cell begins there) and stays on that beat; the grace notes go
   on the slots right before it. Where those slots are taken (a grace note before the bar's first
   slot), the main note and what follows move on a slot.
6. Fallback. When no grid fits (more onsets than slots), each onset goes to
   ``floor(offset * slots / width)`` as before, the later of two on one slot moved to a free one.

Limits: a bar exactly as wide as the grid (16 characters in 4/4) is taken to be on the grid
already, one character a slot (so that the canonical form, a grid tab, is left as it is); tuplets
have no slots of their own (a triplet is read as the nearest sixteenths); spacing that changes
within a bar (a writer who squeezes the fast notes) is read as the one grid that fits best.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from tabgen.tab.types import Bar, Column, Note

MAX_PAD = 3  # characters of padding after a bar line
GAP_SLOTS = (1, 2, 3, 4, 6, 8)  # note values a gap between onsets may be, in sixteenths
FIT_WEIGHT = 4.0
SPAN_WEIGHT = 2.0
PAD_WEIGHT = 0.1
LEVEL_COST = (0.0, 0.3, 0.6, 0.9)  # first slot, beat, eighth, sixteenth


def onsets(bar: Bar) -> list[tuple[int, list[Note]]]:
    """The bar's columns as onsets: (offset, notes), a column that starts inside the digits of the
    previous one (on other strings) merged into it."""
    found: list[tuple[int, list[Note]]] = []
    end = -1  # first offset after the current onset's digits
    strings: set[int] = set()
    for col in bar.columns:
        on = {n.string for n in col.notes}
        if found and col.position < end and not on & strings:
            found[-1][1].extend(col.notes)
            strings |= on
        else:
            found.append((col.position, list(col.notes)))
            strings = on
        end = max(end, *(col.position + _digits(n) for n in col.notes))
    return found


def _digits(note: Note) -> int:
    return 1 if note.technique == "x" else len(str(note.fret))


def beat_slots(meter: tuple[int, int] | None) -> int:
    """Slots in one beat: 4 for x/4 (a quarter), 2 for x/8 (an eighth), 8 for x/2."""
    unit = 4 if meter is None else meter[1]
    return max(1, 16 // unit)


def _level(slot: int, beat: int) -> int:
    if slot == 0:
        return 0
    if slot % beat == 0:
        return 1
    if slot % 2 == 0:
        return 2
    return 3


@lru_cache(maxsize=65536)
def fit_slots(positions: tuple[int, ...], width: int, slots: int, beat: int) -> tuple[int, ...] | None:
    """The slots of onsets at character `positions` in a bar `width` characters wide, on the grid
    of `slots` slots that explains them best (the module's rule), or None when none fits."""
    n = len(positions)
    if n == 0:
        return ()
    if n > slots:
        return None
    canonical = _canonical(positions, width, slots)
    if canonical is not None:
        return canonical
    first, last = positions[0], positions[-1]
    gaps = {b - a for a, b in zip(positions, positions[1:], strict=False)}
    best: tuple[float, int, float] | None = None
    chosen: tuple[int, ...] | None = None
    for a in range(min(first, MAX_PAD) + 1):
        sizes = {(width - a + j) / slots for j in range(a + 1)}
        sizes.update(g / k for g in gaps for k in GAP_SLOTS)
        for c in sizes:
            if c <= 0 or (last - a) / c >= slots - 0.5:
                continue
            cost = 0.0
            out = []
            previous = -1
            for p in positions:
                x = (p - a) / c
                s = int(x + 0.5)
                if s <= previous:
                    break
                out.append(s)
                previous = s
                cost += FIT_WEIGHT * abs(x - s) + LEVEL_COST[_level(s, beat)]
            else:
                over = a + slots * c - width  # how far the grid's end lies past the bar's end
                miss = -over if over < 0 else max(0.0, over - a)
                cost += SPAN_WEIGHT * miss / c + PAD_WEIGHT * a
                key = (round(cost, 9), a, -c)
                if best is None or key < best:
                    best, chosen = key, tuple(out)
    return chosen


def _canonical(positions: tuple[int, ...], width: int, slots: int) -> tuple[int, ...] | None:
    """The slots of a bar in the layout `tabgen.tab.write` gives a grid bar (k characters a slot,
    slot s at 1 + k * s), or None when the bar is not in it."""
    k = width // slots
    if k >= 2 and width == k * slots and all(p % k == 1 for p in positions):
        return tuple((p - 1) // k for p in positions)
    return None


def _graces(found: list[tuple[int, list[Note]]]) -> list[bool]:
    """Which onsets are grace notes leaning on a later onset (all their notes grace notes, with a
    note that is not one after them in the bar)."""
    flags = [False] * len(found)
    later = False
    for i in range(len(found) - 1, -1, -1):
        grace = all(n.technique == "g" for n in found[i][1])
        flags[i] = grace and later
        later = later or not grace
    return flags


def _with_graces(flags: list[bool], main: tuple[int, ...], slots: int) -> list[int] | None:
    """Slots for every onset: the main onsets' slots, each run of grace notes on the slots right
    before its main note; where those are taken (the bar's first slot), the main note and what
    follows move on a slot at a time. None when that runs past the bar."""
    out: list[int] = []
    mains = iter(main)
    run = 0
    for grace in flags:
        if grace:
            run += 1
            continue
        m = next(mains)
        start = max(m - run, out[-1] + 1 if out else 0)
        out.extend(range(start, start + run))
        out.append(max(m, start + run))
        run = 0
    return out if not out or out[-1] < slots else None


def place_bar(bar: Bar, slots: int, beat: int) -> Bar | None:
    """`bar` on a grid of `slots` slots by the module's rule, or None when no grid fits. Grace notes
    take no part in the fit: they go on the slots just before their main note."""
    found = onsets(bar)
    canonical = _canonical(tuple(p for p, _ in found), bar.width, slots)
    if canonical is not None:  # (grace notes included: the writer put them on their slots)
        return _placed(bar, slots, canonical, found)
    flags = _graces(found)
    # a main note's time is where its grace notes start: the writer's cell begins there
    mains = []
    start = None
    for (p, _), grace in zip(found, flags, strict=True):
        if grace:
            start = p if start is None else start
        else:
            mains.append(p if start is None else start)
            start = None
    main = fit_slots(tuple(mains), bar.width, slots, beat)
    if main is None:
        return None
    where = _with_graces(flags, main, slots)
    if where is None:
        return None
    return _placed(bar, slots, where, found)


def _placed(bar: Bar, slots: int, where: Sequence[int], found: list[tuple[int, list[Note]]]) -> Bar:
    columns = tuple(Column(s, tuple(sorted(notes))) for s, (_, notes) in zip(where, found, strict=True))
    return Bar(slots, columns, bar.repeat_start, bar.repeat_end)
