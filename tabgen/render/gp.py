"""Guitar Pro files: a `Tab` to .gp5, and .gp3/.gp4/.gp5 tracks to `Tab`s, with pyguitarpro.

Writing: one track in the tab's tuning (Guitar Pro holds up to 7 strings); each bar one measure;
each column one beat lasting until the next column, split into tied beats where no single note
value spells it. Techniques map onto Guitar Pro's effects: hammer-on/pull-off and slide flags on the
note before, bends as a bend on the picked note with the bent and released notes tied to it,
harmonics, dead notes, palm mute, vibrato, tapping, and grace notes on their main note.

Reading: every guitar or bass track becomes a `Tab` (drum tracks are skipped, with a diagnostic);
beat onsets go onto the rhythm grid as `normalize` does; the effects map back to techniques.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import guitarpro as gp

from tabgen.atomic import atomic_write
from tabgen.errors import InputError, RenderError
from tabgen.render.settings import DEFAULT_TEMPO, ELECTRIC_BASS, check_tempo, program_for
from tabgen.render.timeline import bar_length, column_offsets, main_columns, meter_of, on_grid, split_duration
from tabgen.tab.normalize import normalize_bar
from tabgen.tab.parse import Diagnostic, ParseResult
from tabgen.tab.types import (
    MAX_FRET,
    MAX_STRINGS,
    MIN_STRINGS,
    NAMED_TUNINGS,
    SLIDES,
    Bar,
    Column,
    Note,
    Tab,
    Tuning,
    slots_per_bar,
)

GP_MAX_STRINGS = 7
QUARTER = gp.Duration.quarterTime  # ticks per quarter note in pyguitarpro's timing


# --- writing ---------------------------------------------------------------------------------------


def _gp_duration(ql: Fraction) -> gp.Duration:
    """A note value in quarter notes (one of NOTE_VALUES) as a Guitar Pro duration."""
    dotted = ql.numerator == 3  # 3/2, 3/4, ...: a dotted value
    plain = ql * 2 / 3 if dotted else ql
    value = int(4 / plain)
    if value not in (1, 2, 4, 8, 16, 32, 64) or Fraction(4, value) != plain:
        raise RenderError(f"a duration of {ql} quarter notes has no Guitar Pro note value")
    return gp.Duration(value=value, isDotted=dotted)


@dataclass
class _StringState:
    """The last picked Guitar Pro note on a string and the tied-on bend path after it."""

    note: gp.Note | None = None
    fret: int = 0
    bend_path: list[int] = field(default_factory=list)


def _set_bend(state: _StringState) -> None:
    """A bend (and release) path in semitones as Guitar Pro bend points over the picked note."""
    assert state.note is not None  # (called for a string with a picked note only)
    path = [0, *state.bend_path]
    step = gp.BendEffect.maxPosition // (len(path) - 1)
    points = [gp.BendPoint(position=i * step, value=v) for i, v in enumerate(path)]
    kind = gp.BendType.bend if len(path) == 2 else gp.BendType.bendRelease
    state.note.effect.bend = gp.BendEffect(type=kind, value=max(path) * 50, points=points)


def _note(beat: gp.Beat, n: Note, tab: Tab, states: dict[int, _StringState], ringing: bool) -> gp.Note:
    st = states.setdefault(n.string, _StringState())
    t = n.technique
    if t in ("b", "r") and ringing and st.note is not None:
        # the bent (or released) pitch: a tie to the picked note, whose bend path gets this step
        st.bend_path.append(n.fret - st.fret)
        _set_bend(st)
        return gp.Note(beat, value=st.fret, string=n.string, type=gp.NoteType.tie)
    note = gp.Note(beat, value=n.fret, string=n.string, type=gp.NoteType.normal)
    if t == "x":
        note.type = gp.NoteType.dead
    if ringing and st.note is not None:
        if t in ("h", "p"):
            st.note.effect.hammer = True
        elif t in SLIDES:  # "s" is the shift slide (the second note picked), / and \ the legato one
            slide = gp.SlideType.shiftSlideTo if t == "s" else gp.SlideType.legatoSlideTo
            st.note.effect.slides = [slide]
    elif t in SLIDES:  # nothing ringing: slide in from below, or from above for a slide down
        slide = gp.SlideType.intoFromAbove if t == "\\" else gp.SlideType.intoFromBelow
        note.effect.slides = [slide]
    if t == "<>":
        note.effect.harmonic = gp.NaturalHarmonic()
    elif t == "[]":
        pitch = tab.pitch(n) + 12
        note.effect.harmonic = gp.ArtificialHarmonic(pitch=gp.PitchClass(pitch % 12), octave=gp.Octave.ottava)
    elif t == "pm":
        note.effect.palmMute = True
    elif t == "~":
        note.effect.vibrato = True
    elif t == "()":
        note.effect.ghostNote = True
    states[n.string] = _StringState(note, n.fret)
    return note


def _gp_columns(bar: Bar) -> tuple[list[list[Note]], list[list[Note]]]:
    """`main_columns`, but a grace note whose main column has no note on its string is timed:
    Guitar Pro keeps a grace note on its main note, which must be on the same string."""
    timed_cols, grace_cols = main_columns(bar)
    changed = True
    while changed:
        changed = False
        for i, graces in enumerate(grace_cols):
            target = next((j for j in range(i + 1, len(timed_cols)) if timed_cols[j]), None)
            strings = {n.string for n in timed_cols[target]} if target is not None else set()
            orphans = [g for g in graces if g.string not in strings]
            if orphans:
                timed_cols[i] += orphans
                grace_cols[i] = [g for g in graces if g not in orphans]
                changed = True
    return timed_cols, grace_cols


def tab_to_song(tab: Tab, tempo: float = DEFAULT_TEMPO) -> gp.Song:
    """The tab as a pyguitarpro Song with one track in the tab's tuning."""
    if tab.tuning.strings > GP_MAX_STRINGS:
        raise RenderError(
            f"Guitar Pro holds at most {GP_MAX_STRINGS} strings; this tab has {tab.tuning.strings}"
        )
    check_tempo(tempo)
    tab = on_grid(tab)
    beats_per_bar, unit = meter_of(tab)
    length = bar_length((beats_per_bar, unit))
    song = gp.Song()
    song.title = tab.title
    song.tempo = round(tempo)
    track = song.tracks[0]
    program = program_for(tab)
    track.name = "Bass" if program == ELECTRIC_BASS else "Guitar"
    track.channel.instrument = program
    track.strings = [gp.GuitarString(i + 1, p) for i, p in enumerate(tab.tuning.pitches)]
    track.fretCount = MAX_FRET
    states: dict[int, _StringState] = {}
    last_end: dict[int, Fraction] = {}  # string -> when its latest note stops ringing
    for b, bar in enumerate(tab.bars):
        if b > 0:
            song.newMeasure()
        header = song.measureHeaders[b]
        header.timeSignature.numerator = beats_per_bar
        header.timeSignature.denominator = gp.Duration(value=unit)
        header.isRepeatOpen = bar.repeat_start
        header.repeatClose = bar.repeat_end - 1 if bar.repeat_end else -1
        voice = track.measures[b].voices[0]
        offsets = column_offsets(bar, length)
        timed_cols, grace_cols = _gp_columns(bar)
        main = [i for i, t in enumerate(timed_cols) if t]
        onsets = [offsets[i] for i in main] + [length]
        bar_start = length * b

        def rest(ql: Fraction, voice: gp.Voice = voice) -> None:
            for part in split_duration(ql):
                voice.beats.append(gp.Beat(voice, duration=_gp_duration(part), status=gp.BeatStatus.rest))

        if onsets[0] > 0:  # (all of an empty bar)
            rest(onsets[0])
        pending: list[Note] = []
        for i in range(len(bar.columns)):
            pending += grace_cols[i]
            if not timed_cols[i]:
                continue
            k = main.index(i)
            start = bar_start + onsets[k]
            for part_index, part in enumerate(split_duration(onsets[k + 1] - onsets[k])):
                beat = gp.Beat(voice, duration=_gp_duration(part), status=gp.BeatStatus.normal)
                voice.beats.append(beat)
                for n in timed_cols[i]:
                    if part_index:  # the tied-on part of a long column
                        st = states[n.string]
                        beat.notes.append(gp.Note(beat, value=st.fret, string=n.string, type=gp.NoteType.tie))
                        continue
                    ringing = last_end.get(n.string) == start
                    note = _note(beat, n, tab, states, ringing)
                    beat.notes.append(note)
                    if n.technique == "t":
                        beat.effect.slapEffect = gp.SlapEffect.tapping
                    grace = next((g for g in pending if g.string == n.string), None)
                    if grace is not None:
                        note.effect.grace = gp.GraceEffect(fret=grace.fret, duration=32)
                        pending.remove(grace)
            for n in timed_cols[i]:
                last_end[n.string] = bar_start + onsets[k + 1]
    return song


def gp5_bytes(tab: Tab, tempo: float = DEFAULT_TEMPO) -> bytes:
    """The tab as the bytes of a Guitar Pro 5 file."""
    buffer = io.BytesIO()
    gp.write(tab_to_song(tab, tempo), buffer, version=(5, 1, 0))
    return buffer.getvalue()


def write_gp5(tab: Tab, path: str | os.PathLike[str], tempo: float = DEFAULT_TEMPO) -> None:
    """Render `tab` to a Guitar Pro 5 file at `path`, atomically."""
    atomic_write(path, gp5_bytes(tab, tempo))


# --- reading ---------------------------------------------------------------------------------------


def _technique(note: gp.Note, beat: gp.Beat) -> str:
    e = note.effect
    if note.type == gp.NoteType.dead:
        return "x"
    if isinstance(e.harmonic, gp.NaturalHarmonic):
        return "<>"
    if e.harmonic is not None:
        return "[]"
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


def _bend_within_beat(note: gp.Note, tick: int, length: int, put: Callable[[int, Note], None]) -> None:
    """A bend drawn inside one beat (as Guitar Pro writes them): a b or r note at each turn."""
    points = note.effect.bend.points
    for before, point in zip(points, points[1:], strict=False):
        fret = note.value + point.value
        if point.value != before.value and 0 <= fret <= MAX_FRET:
            at = tick + length * point.position // gp.BendEffect.maxPosition
            put(at, Note(note.string, fret, "b" if point.value > before.value else "r"))


def _track_tab(song: gp.Song, track: gp.Track, dropped: list[tuple[int, int, int]] | None = None) -> Tab:
    """The track as a Tab; notes past MAX_FRET are left out and listed in `dropped` (bar, string, fret)."""
    strings = sorted(track.strings, key=lambda s: s.number)
    pitches = tuple(s.value for s in strings)
    tuning = next((t for t in NAMED_TUNINGS.values() if t.pitches == pitches), Tuning(pitches))
    first = song.measureHeaders[0].timeSignature
    meter = (first.numerator, first.denominator.value)
    bars: list[Bar] = []
    prev: dict[int, gp.Note] = {}  # string -> last picked note
    bend_step: dict[int, int] = {}  # string -> how many bend points its tied notes have used
    for measure in track.measures:
        ts = measure.header.timeSignature
        ticks = ts.numerator * QUARTER * 4 // ts.denominator.value
        placed: dict[int, dict[int, Note]] = {}  # tick -> string -> note

        def put(tick: int, n: Note, placed: dict[int, dict[int, Note]] = placed, ticks: int = ticks) -> None:
            if 0 <= tick < ticks:
                placed.setdefault(tick, {}).setdefault(n.string, n)

        for voice in measure.voices:
            for j, beat in enumerate(voice.beats):
                tick = beat.start - measure.header.start
                after = voice.beats[j + 1] if j + 1 < len(voice.beats) else None
                for note in beat.notes:
                    if not 1 <= note.string <= tuning.strings:
                        continue
                    if note.type == gp.NoteType.tie:
                        base = prev.get(note.string)
                        bend = base.effect.bend if base is not None else None
                        k = bend_step.get(note.string, 0) + 1
                        if base is not None and bend is not None and k < len(bend.points):
                            bend_step[note.string] = k
                            fret = base.value + bend.points[k].value
                            up = bend.points[k].value >= bend.points[k - 1].value
                            if 0 <= fret <= MAX_FRET:
                                put(tick, Note(note.string, fret, "b" if up else "r"))
                        continue
                    if note.type == gp.NoteType.rest:
                        continue
                    if not 0 <= note.value <= MAX_FRET:
                        if dropped is not None:
                            dropped.append((len(bars) + 1, note.string, note.value))
                        continue
                    technique = _technique(note, beat)
                    before = prev.get(note.string)
                    if not technique and before is not None:
                        technique = _connected(before, note.value)
                    put(tick, Note(note.string, note.value, technique))
                    grace = note.effect.grace
                    if grace is not None and tick > 0:
                        put(max(0, tick - QUARTER // 4), Note(note.string, min(grace.fret, MAX_FRET), "g"))
                    prev[note.string], bend_step[note.string] = note, 0
                    tied_on = after is not None and any(
                        t.string == note.string and t.type == gp.NoteType.tie for t in after.notes
                    )
                    if note.effect.bend is not None and not tied_on:
                        _bend_within_beat(note, tick, beat.duration.time, put)
        fine = Bar(ticks, tuple(Column(t, tuple(placed[t].values())) for t in sorted(placed)))
        h = measure.header
        slots = slots_per_bar((ts.numerator, ts.denominator.value))
        busiest = max(Counter(n.string for n in fine.notes).values(), default=0)
        while slots < busiest:  # a run faster than the grid: keep it on a finer one
            slots *= 2
        grid = normalize_bar(fine, slots)
        bars.append(
            Bar(grid.width, grid.columns, h.isRepeatOpen, h.repeatClose + 1 if h.repeatClose > 0 else 0)
        )
    meta = (("artist", song.artist),) if song.artist else ()
    return Tab(tuning, tuple(bars), meter, song.title or "", meta)


DROPPED_SHOWN = 5  # notes past the fret limit reported one by one, then counted


def read_gp_result(path: str | os.PathLike[str]) -> ParseResult:
    """Every guitar and bass track of a .gp3/.gp4/.gp5 file as a `Tab`, with a diagnostic for each
    track skipped (drums, too few or too many strings)."""
    name = str(path)
    p = Path(path)
    from tabgen.inputs import read_input

    data = read_input(p)  # a regular file of at most TABGEN_MAX_INPUT_MB
    try:
        song = gp.parse(io.BytesIO(data))
    except Exception as e:  # pyguitarpro raises many kinds on a damaged or foreign file
        raise InputError(f"{name}: not a readable Guitar Pro 3-5 file ({type(e).__name__})") from None
    result = ParseResult()
    for number, track in enumerate(song.tracks, start=1):
        label = f"track {number} {track.name!r}"
        if track.isPercussionTrack or track.channel.channel == 9:
            result.diagnostics.append(Diagnostic(name, 0, 0, f"{label} skipped: a drum track"))
            continue
        if not MIN_STRINGS <= len(track.strings) <= MAX_STRINGS:
            why = f"{len(track.strings)} strings (tabgen reads {MIN_STRINGS}..{MAX_STRINGS})"
            result.diagnostics.append(Diagnostic(name, 0, 0, f"{label} skipped: {why}"))
            continue
        dropped: list[tuple[int, int, int]] = []
        result.tabs.append(_track_tab(song, track, dropped))
        for bar, string, fret in dropped[:DROPPED_SHOWN]:
            why = f"{label} bar {bar} string {string}: fret {fret} is past fret {MAX_FRET}, left out"
            result.diagnostics.append(Diagnostic(name, 0, 0, why))
        if len(dropped) > DROPPED_SHOWN:
            more = f"{label}: {len(dropped) - DROPPED_SHOWN} more notes past fret {MAX_FRET} left out"
            result.diagnostics.append(Diagnostic(name, 0, 0, more))
    return result


def read_gp(path: str | os.PathLike[str]) -> list[Tab]:
    """The guitar and bass tracks of a Guitar Pro 3-5 file, one `Tab` each; InputError when none."""
    result = read_gp_result(path)
    if not result.tabs:
        why = "; ".join(d.message for d in result.diagnostics) or "no tracks"
        raise InputError(f"{path}: no guitar or bass track ({why})")
    return result.tabs
