"""A `Tab` to a Guitar Pro 5 file, with pyguitarpro (reading one is `tabgen.sources.guitarpro`).

One track in the tab's tuning (Guitar Pro holds up to 7 strings); each bar one measure;
each column one beat lasting until the next column, split into tied beats where no single note
value spells it. Techniques map onto Guitar Pro's effects: hammer-on/pull-off and slide flags on the
note before, bends as a bend on the picked note with the bent and released notes tied to it,
harmonics, dead notes, palm mute, vibrato, tapping, and grace notes on their main note.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from fractions import Fraction

import guitarpro as gp

from tabgen.atomic import atomic_write
from tabgen.errors import RenderError
from tabgen.render.settings import DEFAULT_TEMPO, ELECTRIC_BASS, check_tempo, program_for
from tabgen.render.timeline import bar_length, column_offsets, main_columns, meter_of, on_grid, split_duration
from tabgen.tab.types import MAX_FRET, SLIDES, Bar, Note, Tab

GP_MAX_STRINGS = 7


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
