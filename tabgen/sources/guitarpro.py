"""Guitar Pro files (.gp3/.gp4/.gp5) to `Tab`s, one per guitar or bass track, with pyguitarpro.

Drum tracks and tracks of too few or too many strings are skipped, with a diagnostic. Each
measure is one bar: beat onsets go onto the rhythm grid by normalize's rule (`normalize_bar`, a
finer grid where a run is faster than the grid), and the effects map back to techniques: hammer-on
and slide flags to the technique of the note after, bends (tied beats or points inside one beat)
to b and r notes, harmonics, dead notes, palm mute, vibrato, tapping and grace notes. Notes past
MAX_FRET are left out and reported. The writer, a `Tab` to .gp5, is `tabgen.render.gp`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import guitarpro as gp

from tabgen.errors import InputError
from tabgen.inputs import read_input
from tabgen.tab.labels import named_tuning
from tabgen.tab.normalize import normalize_bar
from tabgen.tab.parse import Diagnostic, ParseResult
from tabgen.tab.types import MAX_FRET, MAX_STRINGS, MIN_STRINGS, Bar, Column, Note, Tab, slots_per_bar

QUARTER = gp.Duration.quarterTime  # ticks per quarter note in pyguitarpro's timing
DROPPED_SHOWN = 5  # notes past the fret limit reported one by one, then counted

Put = Callable[[int, Note], None]  # place a note at a tick of the measure (the first one there wins)


def _technique(note: gp.Note, beat: gp.Beat) -> str:
    e = note.effect
    if note.type == gp.NoteType.dead:
        return "x"
    if isinstance(e.harmonic, gp.NaturalHarmonic):
        return "<>"
    if e.harmonic is not None:
        return "[]"
    if e.ghostNote:
        return "()"
    if e.palmMute:
        return "pm"
    if e.vibrato:
        return "~"
    if gp.SlideType.intoFromBelow in e.slides:
        return "/"
    if gp.SlideType.intoFromAbove in e.slides:
        return "\\"
    if beat.effect.slapEffect == gp.SlapEffect.tapping:  # a beat's effect: the note's own come first
        return "t"
    return ""


def _connected(prev: gp.Note, fret: int) -> str:
    """The technique a note gets from the note before it on its string (hammer and slide flags)."""
    if prev.effect.hammer:
        return "h" if fret >= prev.value else "p"
    if gp.SlideType.shiftSlideTo in prev.effect.slides:
        return "s"
    if gp.SlideType.legatoSlideTo in prev.effect.slides:
        return "/" if fret >= prev.value else "\\"
    return ""


def _bend_within_beat(note: gp.Note, tick: int, length: int, put: Put) -> None:
    """A bend drawn inside one beat (as Guitar Pro writes them): a b or r note at each turn."""
    points = note.effect.bend.points
    for before, point in zip(points, points[1:], strict=False):
        fret = note.value + point.value
        if point.value != before.value and 0 <= fret <= MAX_FRET:
            at = tick + length * point.position // gp.BendEffect.maxPosition
            put(at, Note(note.string, fret, "b" if point.value > before.value else "r"))


class _TrackReader:
    """One track's measures to bars; what it carries from note to note along each string."""

    def __init__(self, strings: int) -> None:
        self.strings = strings
        self.prev: dict[int, gp.Note] = {}  # string -> last picked note
        self.bend_step: dict[int, int] = {}  # string -> how many bend points its tied notes have used
        self.dropped: list[tuple[int, int, int]] = []  # (bar, string, fret) past MAX_FRET
        self.bars: list[Bar] = []

    def measure(self, measure: gp.Measure) -> Bar:
        ts = measure.header.timeSignature
        ticks = ts.numerator * QUARTER * 4 // ts.denominator.value
        placed: dict[int, dict[int, Note]] = {}  # tick -> string -> note

        def put(tick: int, n: Note) -> None:
            if 0 <= tick < ticks:
                placed.setdefault(tick, {}).setdefault(n.string, n)

        for voice in measure.voices:
            for j, beat in enumerate(voice.beats):
                after = voice.beats[j + 1] if j + 1 < len(voice.beats) else None
                self.beat(beat, beat.start - measure.header.start, after, put)
        fine = Bar(ticks, tuple(Column(t, tuple(placed[t].values())) for t in sorted(placed)))
        grid = normalize_bar(fine, slots_per_bar((ts.numerator, ts.denominator.value)))
        h = measure.header
        return Bar(grid.width, grid.columns, h.isRepeatOpen, h.repeatClose + 1 if h.repeatClose > 0 else 0)

    def beat(self, beat: gp.Beat, tick: int, after: gp.Beat | None, put: Put) -> None:
        for note in beat.notes:
            if not 1 <= note.string <= self.strings or note.type == gp.NoteType.rest:
                continue
            if note.type == gp.NoteType.tie:
                self.tied(note, tick, put)
                continue
            if not 0 <= note.value <= MAX_FRET:
                self.dropped.append((len(self.bars) + 1, note.string, note.value))
                continue
            technique = _technique(note, beat)
            before = self.prev.get(note.string)
            if not technique and before is not None:
                technique = _connected(before, note.value)
            put(tick, Note(note.string, note.value, technique))
            grace = note.effect.grace
            if grace is not None and tick > 0:
                put(max(0, tick - QUARTER // 4), Note(note.string, min(grace.fret, MAX_FRET), "g"))
            self.prev[note.string], self.bend_step[note.string] = note, 0
            tied_on = after is not None and any(
                t.string == note.string and t.type == gp.NoteType.tie for t in after.notes
            )
            if note.effect.bend is not None and not tied_on:
                _bend_within_beat(note, tick, beat.duration.time, put)

    def tied(self, note: gp.Note, tick: int, put: Put) -> None:
        """A tied note: the next point of the bend on the picked note it is tied to, if any."""
        base = self.prev.get(note.string)
        bend = base.effect.bend if base is not None else None
        k = self.bend_step.get(note.string, 0) + 1
        if base is None or bend is None or k >= len(bend.points):
            return
        self.bend_step[note.string] = k
        fret = base.value + bend.points[k].value
        up = bend.points[k].value >= bend.points[k - 1].value
        if 0 <= fret <= MAX_FRET:
            put(tick, Note(note.string, fret, "b" if up else "r"))


def _track_tab(song: gp.Song, track: gp.Track) -> tuple[Tab, list[tuple[int, int, int]]]:
    """The track as a Tab, and the notes left out past MAX_FRET as (bar, string, fret)."""
    strings = sorted(track.strings, key=lambda s: s.number)
    tuning = named_tuning(tuple(s.value for s in strings))
    first = song.measureHeaders[0].timeSignature
    reader = _TrackReader(tuning.strings)
    for measure in track.measures:
        reader.bars.append(reader.measure(measure))
    meta = (("artist", song.artist),) if song.artist else ()
    meter = (first.numerator, first.denominator.value)
    return Tab(tuning, tuple(reader.bars), meter, song.title or "", meta), reader.dropped


def read_gp_result(path: str | os.PathLike[str]) -> ParseResult:
    """Every guitar and bass track of a .gp3/.gp4/.gp5 file as a `Tab`, with a diagnostic for each
    track skipped (drums, too few or too many strings) and for notes left out."""
    name = str(path)
    data = read_input(path)  # a regular file of at most TABGEN_MAX_INPUT_MB
    try:
        song = gp.parse(io.BytesIO(data))
    except Exception as e:  # pyguitarpro raises many kinds on a damaged or foreign file
        raise InputError(f"{name}: not a readable Guitar Pro 3-5 file ({type(e).__name__})") from None
    result = ParseResult()

    def note(message: str) -> None:
        result.diagnostics.append(Diagnostic(name, 0, 0, message))

    for number, track in enumerate(song.tracks, start=1):
        label = f"track {number} {track.name!r}"
        if track.isPercussionTrack or track.channel.channel == 9:
            note(f"{label} skipped: a drum track")
            continue
        if not MIN_STRINGS <= len(track.strings) <= MAX_STRINGS:
            note(f"{label} skipped: {len(track.strings)} strings (tabgen reads {MIN_STRINGS}..{MAX_STRINGS})")
            continue
        tab, dropped = _track_tab(song, track)
        result.tabs.append(tab)
        for bar, string, fret in dropped[:DROPPED_SHOWN]:
            note(f"{label} bar {bar} string {string}: fret {fret} is past fret {MAX_FRET}, left out")
        if len(dropped) > DROPPED_SHOWN:
            note(f"{label}: {len(dropped) - DROPPED_SHOWN} more notes past fret {MAX_FRET} left out")
    return result


def read_gp(path: str | os.PathLike[str]) -> list[Tab]:
    """The guitar and bass tracks of a Guitar Pro 3-5 file, one `Tab` each; InputError when none."""
    result = read_gp_result(path)
    if not result.tabs:
        why = "; ".join(d.message for d in result.diagnostics) or "no tracks"
        raise InputError(f"{path}: no guitar or bass track ({why})")
    return result.tabs
