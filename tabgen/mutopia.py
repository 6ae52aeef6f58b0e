"""The classical-guitar collection: Mutopia's LilyPond scores as polyphonic guitar tabs.

One source piece (a `.ly` file listed in the folder's INDEX.tsv) becomes one tune per `\\score` that
LilyPond engraves (a file holding several movements gives several tunes):

- LilyPond runs on a copy of the piece's folder (after `convert-ly -e`), with a wrapper that
  includes `tabgen/data/tabgen-events.ly`: it unfolds every repeat (volta alternatives, percent
  and tremolo repeats played out) and writes one line per note event as the layout engraves it:
  voice, the measure's start and the note's position in it (so pickups and short bars need no
  guessing), the sounding MIDI pitch (the staff's `\\transposition` applied), the editor's string
  number (`\\1` .. `\\6`), ties and grace notes; and each staff's key;
- all voices are merged: the grid holds, per slot, every pitch struck there (tied continuations,
  rests and grace notes add nothing; unisons of two voices are one note). A slot is a sixteenth;
  a piece whose onsets are finer than that (32nd runs, sixteenth triplets) is written at twice its
  note values (2/4 becomes 2/2: the same music on a grid twice as fine, counted as `augmented`);
  an onset still between slots goes to the nearest free one (counted as `tuplets`); bars without
  onsets stay as empty bars; a score that changes meter becomes one tune per run of bars in one
  meter; one whose onsets no grid of either kind holds is skipped with the reason;
- the piece is fretted as polyphony by `tabgen.tab.fretting.fret_pitches` (every column a chord that
  one hand holds), in standard tuning, or in drop D / D-G-D-G-B-E when the score goes below E2;
- alternative tunings: pieces whose key and range suit them are fretted again in drop D, DADGAD and
  open G (`alternative_tunings`), as further tunes with the same title and `Source:`.

Every tune carries `Style: guitar`, its composer and its licence with the Mutopia maintainer's name
(the attribution CC BY and BY-SA ask for). The build caches each piece's result in
OUT_DIR/.cache and merges its entry into OUT_DIR/manifest.json beside the music21 collections.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from tabgen.errors import InputError
from tabgen.pdcorpus import _cache_path, _write_outputs, read_corpus, write_atomic
from tabgen.tab.fretting import fret_pitches, naive_fretting
from tabgen.tab.fretting import weights as fretting_weights
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning, slots_per_bar
from tabgen.tab.write import to_text

NAME = "mutopia-guitar"
BUILD_VERSION = 5  # bump when a tune's text would change: old cache entries are then ignored
EVENTS_VERSION = 2  # bump when tabgen-events.ly changes: LilyPond then runs again
DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "mutopia-guitar"
LILYPOND_TIMEOUT = 240  # seconds; the slowest piece here takes about 30
MIN_SECTION = 4  # bars: a shorter run in one meter (a bar of 2/4 in a piece in 3/4) is left out
GUITAR_LOW, GUITAR_HIGH = 40, 88  # E2 .. E6 (fret 24 on the top string)
STYLE = "guitar"


class Skip(Exception):
    """A piece (or movement) the collection leaves out; the message is the reason."""


@dataclass
class PieceStats:
    notes: int = 0
    chords: int = 0  # columns of two or more notes
    unisons: int = 0  # notes of two voices on one pitch, merged
    tuplets: int = 0  # onsets moved to the nearest free slot
    grace_notes: int = 0
    augmented: int = 0  # 1 when written at twice its note values
    transpose: int = 0  # semitones the whole piece moved (a multiple of 12)
    octave_moves: int = 0
    dropped: int = 0
    misfits: int = 0  # copies in another tuning not made: the music did not fit it
    bass_lowered: int = 0  # bass D3s moved to the low D2 of a D tuning
    string_marks: int = 0  # notes with an editor's string number
    string_agree: int = 0  # ... on the string the fretting chose
    string_agree_naive: int = 0  # ... on the string the naive lowest fret would take
    string_followed: int = 0  # ... on the editor's string in the tab (which follows the editor)
    cost: float = 0.0
    naive_cost: float = 0.0


# --- the source folder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    path: str  # relative to the folder, as INDEX.tsv has it
    composer: str
    title: str
    licence: str


def read_index(root: Path) -> list[Piece]:
    index = root / "INDEX.tsv"
    if not index.is_file():
        raise InputError(f"{index}: no INDEX.tsv (is {root} the mutopia-guitar folder?)")
    with open(index, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [Piece(r["path"], r["composer"], r["title"], r["licence"]) for r in rows if r.get("path")]


_HEADER_FIELD = re.compile(r'^\s*(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"', re.M)


def header_fields(text: str) -> dict[str, str]:
    """The string fields of a LilyPond file's \\header blocks (first value of each wins)."""
    out: dict[str, str] = {}
    for k, v in _HEADER_FIELD.findall(text):
        out.setdefault(k, " ".join(v.replace('\\"', '"').split()))
    return out


# --- LilyPond to note events -------------------------------------------------------------------


@dataclass
class NoteEvent:
    voice: int
    bar_start: Fraction  # the measure's start, in whole notes from the beginning
    position: Fraction  # within the measure, in whole notes
    pitch: int
    string: int  # the editor's string number, 0 when none
    tied: bool
    meter: tuple[int, int]


@dataclass
class ScoreEvents:
    notes: list[NoteEvent] = field(default_factory=list)
    ties: set[tuple[int, Fraction]] = field(default_factory=set)  # (voice, moment) of chord ties
    key: str = ""
    grace_notes: int = 0


_STEPS = (0, 2, 4, 5, 7, 9, 11)


def _key_name(step: int, alteration: Fraction, third: Fraction) -> str:
    name = "CDEFGAB"[step] + ("#" if alteration > 0 else "b" if alteration < 0 else "")
    interval = (_STEPS[(step + 2) % 7] + 2 * third - _STEPS[step] - 2 * alteration) % 12
    return f"{name} {'major' if interval == 4 else 'minor' if interval == 3 else 'major'}"


def parse_events(text: str) -> list[ScoreEvents]:
    """The listener's output (tabgen-events.ly) as one ScoreEvents per engraved score."""
    scores: list[ScoreEvents] = []
    for line in text.splitlines():
        f = line.split("\t")
        if f[0] == "score":
            scores.append(ScoreEvents())
        elif not scores:
            continue
        elif f[0] == "note":
            voice, bar, pos, mom, pitch, string, tied, grace, meter = f[1:10]
            if grace != "0":
                scores[-1].grace_notes += 1
                continue
            num, den = meter.split("/")
            position = Fraction(pos)
            if position < 0:  # a pickup (\partial): LilyPond counts it before the first measure
                position += Fraction(int(num), int(den))
            scores[-1].notes.append(
                NoteEvent(
                    int(voice),
                    Fraction(mom) - position,
                    position,
                    int(pitch),
                    int(string),
                    tied == "1",
                    (int(num), int(den)),
                )
            )
        elif f[0] == "tie":
            scores[-1].ties.add((int(f[1]), Fraction(f[2])))
        elif f[0] == "key" and not scores[-1].key:
            scores[-1].key = _key_name(int(f[2]), Fraction(f[3]), Fraction(f[4]))
    return scores


def _listener() -> Path:
    return Path(str(resources.files("tabgen") / "data" / "tabgen-events.ly"))


def compile_events(ly_file: Path, timeout: float = LILYPOND_TIMEOUT) -> str:
    """Compile one LilyPond file (a copy of its folder, after convert-ly): the listener's text."""
    if shutil.which("lilypond") is None:
        raise InputError("LilyPond is not installed (Debian package `lilypond`)")
    with tempfile.TemporaryDirectory(prefix="tabgen-ly-") as tmp:
        work = Path(tmp) / "piece"
        shutil.copytree(ly_file.parent, work)
        for ly in work.rglob("*.ly"):
            subprocess.run(["convert-ly", "-e", ly.name], cwd=ly.parent, capture_output=True, timeout=timeout)
        target = work / ly_file.name
        wrapper = target.parent / "tabgen-wrapper.ly"
        wrapper.write_text(f'\\include "{_listener()}"\n\\include "{target.name}"\n', encoding="utf-8")
        events = Path(tmp) / "events.tsv"
        env = dict(os.environ, TABGEN_EVENTS=str(events))
        try:
            run = subprocess.run(
                ["lilypond", "-dno-print-pages", "-o", str(Path(tmp) / "out"), wrapper.name],
                cwd=target.parent, capture_output=True, timeout=timeout, env=env,
            )  # fmt: skip
        except subprocess.TimeoutExpired as e:
            raise Skip("LilyPond timed out") from e
        text = events.read_text(encoding="utf-8") if events.exists() else ""
        if not text and run.returncode:
            raise Skip("LilyPond failed")
    return text


def lilypond_events(ly_file: Path, cache: Path | None = None) -> list[ScoreEvents]:
    """The note events of every score in one LilyPond file (the listener's text kept in `cache`)."""
    if cache is not None and cache.exists():
        text = gzip.decompress(cache.read_bytes()).decode()
    else:
        text = compile_events(ly_file)
        if cache is not None:
            write_atomic(cache, gzip.compress(text.encode(), mtime=0))
    scores = [s for s in parse_events(text) if s.notes]
    if not scores:
        raise Skip("no notes")
    return scores


# --- note events to the grid -------------------------------------------------------------------


@dataclass
class Grid:
    meter: tuple[int, int]
    bars: list[dict[int, list[tuple[int, int]]]]  # per bar: slot -> [(pitch, editor's string)]
    stats: PieceStats


def _onsets(score: ScoreEvents) -> list[NoteEvent]:
    """The struck notes: ties' continuations removed (per voice: a pitch tied from the voice's
    previous onset is not struck again)."""
    by_voice: dict[int, dict[Fraction, list[NoteEvent]]] = defaultdict(dict)
    for n in score.notes:
        by_voice[n.voice].setdefault(n.bar_start + n.position, []).append(n)
    out: list[NoteEvent] = []
    for voice, groups in by_voice.items():
        tied: set[int] = set()
        for moment in sorted(groups):
            chord_tie = (voice, moment) in score.ties
            now: set[int] = set()
            for n in groups[moment]:
                if n.pitch not in tied:
                    out.append(n)
                if n.tied or chord_tie:
                    now.add(n.pitch)
            tied = now
    return out


def score_grids(score: ScoreEvents) -> list[Grid]:
    """Merge the voices of one score onto the grid: one Grid per run of bars in one meter (a piece
    that changes meter gives several; a run shorter than MIN_SECTION bars is left out)."""
    onsets = _onsets(score)
    if not onsets:
        raise Skip("no notes")
    bar_meter: dict[Fraction, tuple[int, int]] = {}
    for n in onsets:
        bar_meter.setdefault(n.bar_start, n.meter)
    runs: list[list[Fraction]] = []
    for start in sorted(bar_meter):
        if runs and bar_meter[runs[-1][-1]] == bar_meter[start]:
            runs[-1].append(start)
        else:
            runs.append([start])
    if len(runs) > 1:
        runs = [r for r in runs if len(r) >= MIN_SECTION]
        if not runs:
            raise Skip("meter changes")
    grids = []
    for run in runs:
        bars = set(run)
        section = [n for n in onsets if n.bar_start in bars]
        grids.append(_grid(section, bar_meter[run[0]], score.grace_notes if run is runs[0] else 0))
    return grids


def score_grid(score: ScoreEvents) -> Grid:
    """The grid of a score in one meter (Skip when it changes meter)."""
    grids = score_grids(score)
    if len(grids) > 1:
        raise Skip("meter changes")
    return grids[0]


def _grid(onsets: list[NoteEvent], meter: tuple[int, int], grace_notes: int) -> Grid:
    stats = PieceStats(grace_notes=grace_notes)
    if meter[1] not in (1, 2, 4, 8, 16, 32) or meter[0] < 1:
        raise Skip("unusual meter")
    bar_len = Fraction(meter[0], meter[1])
    if any(n.position >= bar_len or n.position < 0 for n in onsets):
        raise Skip("overfull bar")
    for factor in (16, 32):
        try:
            bars, tuplets, unisons = _place(onsets, bar_len, factor)
            break
        except Skip:
            if factor == 32 or meter[1] == 1:
                raise
    if factor == 32:
        meter = (meter[0], meter[1] // 2)
        stats.augmented = 1
    stats.tuplets, stats.unisons = tuplets, unisons
    return Grid(meter, bars, stats)


def _bar_index(starts: list[Fraction], bar_len: Fraction) -> dict[Fraction, int]:
    """Each measure start with onsets -> its bar's index, counting the bars between them that hold
    no onset (rests, held notes) as empty bars."""
    index = {starts[0]: 0}
    for a, b in pairwise(starts):
        index[b] = index[a] + max(1, round((b - a) / bar_len))
    return index


def _place(
    onsets: list[NoteEvent], bar_len: Fraction, factor: int
) -> tuple[list[dict[int, list[tuple[int, int]]]], int, int]:
    """The onsets on a grid of `factor` slots per whole note; how many moved, how many unisons merged.

    An onset between slots goes to the nearest one, or the next when its voice's previous onset
    took that one (a triplet of eighths lands on three slots); moving by a whole slot or more means
    the grid is too coarse (Skip)."""
    slots = int(bar_len * factor)
    index = _bar_index(sorted({n.bar_start for n in onsets}), bar_len)
    bars: list[dict[int, list[tuple[int, int]]]] = [{} for _ in range(max(index.values()) + 1)]
    last: dict[tuple[int, int], tuple[int, Fraction]] = {}  # (bar, voice) -> (slot, exact) last used
    tuplets = unisons = 0
    for n in sorted(onsets, key=lambda n: (n.bar_start, n.position, n.voice)):
        b = index[n.bar_start]
        exact = n.position * factor
        slot = round(exact)
        prev = last.get((b, n.voice))
        if prev and prev[1] != exact and prev[0] >= slot:
            slot = prev[0] + 1
        if slot >= slots or abs(slot - exact) >= 1:
            raise Skip("finer than the grid")
        tuplets += slot != exact
        last[(b, n.voice)] = (slot, exact)
        column = bars[b].setdefault(slot, [])
        if any(p == n.pitch for p, _ in column):
            unisons += 1
            if n.string:
                column[:] = [(p, s or n.string) if p == n.pitch else (p, s) for p, s in column]
            continue
        column.append((n.pitch, n.string))
    return bars, tuplets, unisons


# --- the grid to a tab -------------------------------------------------------------------------

STANDARD = Tuning.named("standard")


def _best_transpose(pitches: list[int]) -> int:
    """The octave shift that puts most pitches on the guitar (E2..E6), 0 where that ties."""

    def score(k: int) -> tuple[int, int]:
        return sum(GUITAR_LOW - 2 <= p + k <= GUITAR_HIGH for p in pitches), -abs(k)

    return max((0, -12, 12, -24), key=score)


def primary_tuning(pitches: list[int]) -> Tuning:
    """Standard tuning, or drop D where the piece plays D2 or D#2 (the editor's `6 = D`)."""
    low = min(pitches)
    if low >= 40:
        return STANDARD
    if low == 36 or low == 37:  # 6 = C: rare; the lowest D cannot hold it either
        return Tuning.named("cgdgbe")
    return Tuning.named("drop-d")


def grid_tab(
    grid: Grid,
    tuning: Tuning,
    title: str,
    meta: tuple[tuple[str, str], ...],
    transpose: int = 0,
    low_d: bool = False,
    editor: bool = False,
) -> tuple[Tab, PieceStats]:
    """Fret a grid as polyphony (its pitches moved by `transpose`) and lay it out as a canonical tab.

    `low_d`: a bass D3 (the lowest note of a chord, or of a downbeat) moves down to D2, the open
    sixth string of the D tunings. `editor`: the tuning is the score's own, so the editor's
    string numbers count: the cost model's own fingering is compared with them (string_marks,
    string_agree; string_agree_naive for the naive lowest fret), then the tab is fretted with
    them as constraints (`fret_pitches(strings=...)`; string_followed)."""
    stats = PieceStats(**asdict(grid.stats))
    slots = slots_per_bar(grid.meter)
    keys: list[tuple[int, int]] = []
    chords: list[list[int]] = []
    marks: list[list[tuple[int, int]]] = []
    for b, bar in enumerate(grid.bars):
        for s in sorted(bar):
            keys.append((b, s))
            chords.append([p for p, _ in bar[s]])
            marks.append(bar[s])
    k = transpose
    stats.transpose = k
    chords = [[p + k for p in c] for c in chords]
    if low_d:
        for (_, slot), c in zip(keys, chords, strict=True):
            if min(c) == 50 and (len(c) > 1 or slot == 0):
                c[c.index(50)] = 38
                stats.bass_lowered += 1
    fretting = fret_pitches(chords, tuning)
    naive = naive_fretting(chords, tuning)
    if editor:  # the cost model alone against the editor; then the tab follows the editor
        moved = [[(p + k, s) for p, s in m] for m in marks]
        stats.string_agree, stats.string_marks = string_agreement(moved, fretting.chords, tuning)
        stats.string_agree_naive = string_agreement(moved, naive.chords, tuning)[0]
        wanted = [{p: s for p, s in m if s} for m in moved]
        if any(wanted):
            fretting = fret_pitches(chords, tuning, strings=wanted)
        stats.string_followed = string_agreement(moved, fretting.chords, tuning)[0]
    stats.notes = sum(len(c) for c in chords)
    stats.chords = sum(len(c) > 1 for c in fretting.chords)
    stats.octave_moves = fretting.octave_moves
    stats.dropped = fretting.dropped
    stats.cost = round(fretting.cost, 3)
    stats.naive_cost = round(naive.cost, 3)
    columns: list[list[Column]] = [[] for _ in grid.bars]
    for (b, s), fingering in zip(keys, fretting.chords, strict=True):
        if fingering:
            columns[b].append(Column(s, fingering))
    bars = tuple(Bar(slots, tuple(cols)) for cols in columns)
    return Tab(tuning, bars, grid.meter, title, meta), stats


def string_agreement(
    marks: list[list[tuple[int, int]]], chords: tuple[tuple[Note, ...], ...], tuning: Tuning
) -> tuple[int, int]:
    """(notes on the editor's string, notes the editor gave a string): pitch by pitch, per column."""
    agree = total = 0
    for want, got in zip(marks, chords, strict=True):
        where = {tuning.pitch(n.string, n.fret): n.string for n in got}
        for pitch, string in want:
            if string:
                total += 1
                agree += where.get(pitch) == string
    return agree, total


ALTERNATIVES = {  # tonic -> the tunings a piece in that key is fretted again in
    "D": ("drop-d", "dadgad", "open-g"),
    "G": ("open-g", "dadgad"),
}
MISFIT = 0.01  # a copy that must move or drop more than this share of its notes is not made


def alternative_tunings(key: str, primary: Tuning) -> list[Tuning]:
    """The other tunings a piece is fretted in: by its key (D: drop D, DADGAD, open G; G: open G,
    DADGAD), none for a piece whose score already asks for a tuning other than standard and drop D."""
    tonic = key.split()[0] if key else ""
    if primary not in (STANDARD, Tuning.named("drop-d")):
        return []
    return [Tuning.named(n) for n in ALTERNATIVES.get(tonic, ()) if Tuning.named(n) != primary]


def score_tabs(
    score: ScoreEvents, title: str, meta: tuple[tuple[str, str], ...], written: bool = False
) -> list[tuple[Tab, PieceStats]]:
    """Every tune of one score: each section in the score's own tuning, then its alternative
    tunings (`written`: the score is entered at written pitch, see `written_pitch`). A copy is
    made only where the music fits the tuning: it moves or drops at most
    MISFIT of its notes, and it plays what the tuning is for at least once: its open low D, or in
    a piece in G the open G2 of open G (else it is counted in the first tune's stats as one of
    its `misfits`)."""
    grids = score_grids(score)
    pitches = [p for g in grids for bar in g.bars for col in bar.values() for p, _ in col]
    # guitar music is written an octave above its sound: a score entered as written (`written`)
    # whose lowest note is the written low D or above sounds an octave below its MIDI pitches
    down = -12 if written and min(pitches) >= 50 else 0
    k = down + _best_transpose([p + down for p in pitches])
    own = primary_tuning([p + k for p in pitches])
    out = []
    for j, grid in enumerate(grids, start=1):
        name = title + (f", part {j} of {len(grids)}" if len(grids) > 1 else "")
        tab, stats = grid_tab(grid, own, name, meta, k, editor=True)
        out.append((tab, stats))
        for alt in alternative_tunings(score.key, own):
            copy, st = grid_tab(grid, alt, name, meta, k, low_d=score.key.startswith("D "))
            if st.octave_moves + st.dropped > MISFIT * st.notes or not _plays_open_bass(copy, score.key):
                stats.misfits += 1
                continue
            out.append((copy, st))
    return out


def _plays_open_bass(tab: Tab, key: str) -> bool:
    """True when the tab plays an open bass string (below C3) tuned to D or to its key's tonic."""
    tonic = "CDEFGAB".index(key[0]) if key[:1] in tuple("CDEFGAB") else -1
    classes = {2, (_STEPS[tonic] + (key[1:2] == "#") - (key[1:2] == "b")) % 12 if tonic >= 0 else 2}
    opens = {tab.tuning.pitches[n.string - 1] for n in tab.notes if n.fret == 0}
    return any(p < 48 and p % 12 in classes for p in opens)


# --- one piece ---------------------------------------------------------------------------------


def piece_meta(piece: Piece, fields: dict[str, str], source: str, key: str) -> tuple[tuple[str, str], ...]:
    maintainer = fields.get("maintainer", "")
    licence = piece.licence
    if maintainer:
        licence += f"; score typeset for the Mutopia Project by {maintainer}"
    meta = [("key", key), ("source", source), ("composer", piece.composer), ("license", licence)]
    meta.append(("style", STYLE))
    return tuple((k, v.replace("|", "/")) for k, v in meta if v)


def piece_title(piece: Piece, fields: dict[str, str], movement: int, movements: int) -> str:
    parts = [fields.get("title") or piece.title]
    for k in ("subtitle", "opus", "piece"):
        v = fields.get(k, "")
        if v and v not in parts:
            parts.append(v)
    title = ", ".join(parts)
    if movements > 1:
        title += f" ({movement} of {movements})"
    return " ".join(title.replace("|", "/").split())


_SOUNDING = re.compile(r'\\clef\s*"?(?:\w*_8|\w*tab)\b|\\transposition|TabStaff|TabVoice')


def written_pitch(folder: Path) -> bool:
    """True when a score's files enter guitar music at written pitch: no octave-down clef
    (`treble_8`, `G_8`), no `\\transposition`, no tab staff (whose frets need sounding pitches)."""
    texts = (p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*.ly")))
    return not any(_SOUNDING.search(t) for t in texts)


def build_piece(root: Path, piece: Piece, events_cache: Path | None = None) -> dict[str, Any]:
    """One source piece to its tunes: {'tunes': [{text, stats}], 'skipped': {reason: n}, 'info': ...}."""
    ly = root / piece.path
    fields = header_fields(ly.read_text(encoding="utf-8", errors="replace"))
    info: dict[str, Any] = {
        "path": piece.path,
        "composer": piece.composer,
        "title": piece.title,
        "licence": piece.licence,
        "maintainer": fields.get("maintainer", ""),
        "mutopia_id": fields.get("footer", ""),
    }
    skipped: Counter[str] = Counter()
    tunes: list[dict[str, Any]] = []
    t0, cached = time.monotonic(), events_cache is not None and events_cache.exists()
    try:
        scores = lilypond_events(ly, events_cache)
    except Skip as e:
        return {"tunes": [], "skipped": {str(e): 1}, "info": {**info, "skipped": str(e)}}
    if not cached:
        info["lilypond_seconds"] = round(time.monotonic() - t0, 1)
    reasons = []
    written = info["written_pitch"] = written_pitch(ly.parent)
    for i, score in enumerate(scores, start=1):
        source = "mutopia:" + piece.path.removesuffix(".ly") + (f"#{i}" if len(scores) > 1 else "")
        title = piece_title(piece, fields, i, len(scores))
        try:
            tabs = score_tabs(score, title, piece_meta(piece, fields, source, score.key), written)
        except Skip as e:
            skipped[str(e)] += 1
            reasons.append(str(e))
            continue
        tunes.extend({"text": to_text(tab), "stats": asdict(st)} for tab, st in tabs)
    info["tunes"] = len(tunes)
    info["tunings"] = dict(Counter(_tuning_line(t["text"]) for t in tunes))
    if reasons:
        info["skipped"] = "; ".join(sorted(set(reasons)))
    return {"tunes": tunes, "skipped": dict(skipped), "info": info}


# --- the build ---------------------------------------------------------------------------------


def _work(job: tuple[str, str, Piece]) -> tuple[str, dict[str, Any]]:
    out_dir, root, piece = job
    result = build_piece(Path(root), piece, _events_cache(Path(out_dir), piece))
    write_atomic(_cache(Path(out_dir), piece), json.dumps(result).encode())
    return piece.path, result


def _events_cache(out_dir: Path, piece: Piece) -> Path:
    return _cache_path(out_dir, f"{NAME}-events-v{EVENTS_VERSION}", piece.path).with_suffix(".tsv.gz")


def _cache(out_dir: Path, piece: Piece) -> Path:
    # keyed by the fretting's weights too: a change of the cost model re-frets every piece
    digest = hashlib.sha1(json.dumps(fretting_weights(), sort_keys=True).encode()).hexdigest()[:8]
    return _cache_path(out_dir, f"{NAME}-v{BUILD_VERSION}.{EVENTS_VERSION}-{digest}", piece.path)


def build(
    out_dir: Path,
    root: Path | None = None,
    limit: int | None = None,
    jobs: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Build OUT_DIR/mutopia-guitar.tab.gz and merge its entry into OUT_DIR/manifest.json."""
    import multiprocessing

    start = time.monotonic()
    root = Path(root) if root else DEFAULT_DIR
    if not root.is_dir():
        raise InputError(f"{root}: no such folder (the Mutopia guitar scores; see --mutopia-dir)")
    pieces = read_index(root)[:limit] if limit else read_index(root)
    results: dict[tuple[str, str], dict[str, Any]] = {}
    todo = []
    for p in pieces:
        cache = _cache(out_dir, p)
        if cache.exists():
            results[(NAME, p.path)] = json.loads(cache.read_text())
        else:
            todo.append((str(out_dir), str(root), p))
    done = len(results)
    if on_progress:
        on_progress(done, len(pieces))
    todo.sort(key=lambda j: -(root / j[2].path).stat().st_size)  # big scores first
    if todo:
        with multiprocessing.Pool(jobs or os.cpu_count() or 1) as pool:
            for path, result in pool.imap_unordered(_work, todo, chunksize=1):
                results[(NAME, path)] = result
                done += 1
                if on_progress:
                    on_progress(done, len(pieces))
    paths = [p.path for p in pieces]
    part = _write_outputs(out_dir, {NAME: paths}, results)
    info = part["collections"][NAME]
    compiled = [r["info"]["lilypond_seconds"] for r in results.values() if "lilypond_seconds" in r["info"]]
    info["lilypond_runs"], info["lilypond_seconds"] = len(compiled), round(sum(compiled), 1)
    shipped = read_corpus(out_dir / f"{NAME}.tab.gz")
    info["tunings"] = dict(Counter(_tuning_line(t) for t in shipped).most_common())
    info["pieces"] = [results[(NAME, p)]["info"] for p in paths]
    info["build_version"] = BUILD_VERSION
    info["build_seconds"] = round(time.monotonic() - start, 1)
    info["files_from_cache"] = len(pieces) - len(todo)
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"collections": {}}
    manifest["collections"][NAME] = info
    write_atomic(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def _tuning_line(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("Tuning: "):
            return line.removeprefix("Tuning: ")
    return ""
