"""A `Tab` to MIDI with pretty_midi, timed from the rhythm grid and played as a guitarist would.

Each string gets its own instrument, and so its own MIDI channel: pitch bends (bends, releases,
slide glides, vibrato) are channel-wide, so this keeps a bend on one string from bending the notes
ringing on the others. A string is monophonic (a note rings until the next note on it), and every
new picked note on a bent string first resets the wheel, so a bend never leaks onto a later note.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field

import pretty_midi

from tabgen.atomic import atomic_write
from tabgen.render.settings import (  # noqa: F401 (re-exported: callers import them from here)
    DEFAULT_TEMPO,
    MAX_TEMPO,
    MIN_TEMPO,
    check_tempo,
    program_for,
)
from tabgen.render.timeline import Timed, meter_of, timeline
from tabgen.tab.types import Tab

RESOLUTION = 960  # ticks per quarter: every grid slot and bend step lands on a whole tick


VELOCITY = {"": 90, "legato": 70, "x": 40, "g": 70, "pm": 80}
BEND_TIME = 0.12  # seconds a bend or release takes to reach its pitch
SLIDE_TIME = 0.08  # seconds of glide before a slide's target note
GRACE_TIME = 0.06  # seconds a grace note sounds before its main note
DEAD_TIME = 0.05  # a dead (x) note is a short click
PALM_MUTE_SHARE = 0.5  # a palm-muted note rings for this share of its length
VIBRATO_DEPTH, VIBRATO_RATE = 0.3, 5.5  # semitones, Hz
TICK_GUARD = 0.005  # seconds between wheel events that must not share a MIDI tick
SLIDE_TECHNIQUES = frozenset({"/", "\\", "s"})

# natural harmonic: fret of the node -> semitones above the open string (the partial's pitch)
NATURAL_HARMONICS = {12: 12, 7: 19, 19: 19, 5: 24, 24: 24, 4: 28, 9: 28, 16: 28, 3: 31}


def harmonic_pitch(open_pitch: int, fret: int, technique: str) -> int:
    """The sounding pitch of a harmonic: natural (<>) from the node's partial, artificial ([]) an octave
    over the fretted note. A natural harmonic at a fret with no strong node sounds fretted + 12."""
    if technique == "<>" and fret in NATURAL_HARMONICS:
        return open_pitch + NATURAL_HARMONICS[fret]
    return open_pitch + fret + 12


@dataclass
class _String:
    """What one string is doing: its instrument, the note ringing on it and the wheel position."""

    instrument: pretty_midi.Instrument
    note: pretty_midi.Note | None = None
    base_fret: int = 0
    bend: float = 0.0  # semitones the wheel is at now
    bends: list[tuple[float, float]] = field(default_factory=list)  # (time, semitones)

    def wheel(self, time: float, semitones: float) -> None:
        # MIDI files sort same-tick wheel events by value, so one time holds one value: the last set
        if self.bends and abs(self.bends[-1][0] - time) < TICK_GUARD:
            self.bends.pop()
        self.bends.append((time, semitones))
        self.bend = semitones

    def ramp(self, start: float, duration: float, to: float, steps: int = 4) -> None:
        frm = self.bend
        for k in range(1, steps + 1):
            self.wheel(start + duration * k / steps, frm + (to - frm) * k / steps)


def tab_to_midi(tab: Tab, tempo: float = DEFAULT_TEMPO, program: int | None = None) -> pretty_midi.PrettyMIDI:
    """The tab as a PrettyMIDI: tempo and time-signature events, one instrument per string used."""
    check_tempo(tempo)
    program = program_for(tab) if program is None else program
    beats, unit = meter_of(tab)
    midi = pretty_midi.PrettyMIDI(resolution=RESOLUTION, initial_tempo=tempo)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(beats, unit, 0.0))
    events = timeline(tab)
    sec = 60.0 / tempo  # seconds per quarter note
    strings: dict[int, _String] = {}
    for i, ev in enumerate(events):
        s = ev.note.string
        if s not in strings:
            inst = pretty_midi.Instrument(program, name=f"string {s}")
            midi.instruments.append(inst)
            strings[s] = _String(inst)
        _play(tab, events, i, strings[s], sec)
    for st in strings.values():
        _write_bends(st)
    return midi


def _main_onset_after(events: list[Timed], i: int) -> float | None:
    """The onset (in quarters) of the next column of event i's bar that holds a non-grace note."""
    ev = events[i]
    for later in events[i + 1 :]:
        if later.bar != ev.bar:
            break
        if later.column > ev.column and later.note.technique != "g":
            return float(later.start)
    return None


def _play(tab: Tab, events: list[Timed], i: int, st: _String, sec: float) -> None:
    ev = events[i]
    n, t = ev.note, ev.note.technique
    start, end = float(ev.start) * sec, float(ev.end) * sec
    ringing = st.note if ev.prev is not None and st.note is not None else None

    if t in ("b", "r") and ringing is not None:
        # the previous note goes on sounding and is bent to (or released to) this fret's pitch
        ringing.end = end
        st.ramp(start, min(BEND_TIME, (end - start) / 2), float(n.fret - st.base_fret))
        return

    if st.bend:
        st.wheel(start, 0.0)  # a fresh note: wheel back to centre first (it sorts before the note-on)
    open_pitch = tab.tuning.pitches[n.string - 1]
    pitch = open_pitch + n.fret
    velocity = VELOCITY[""]
    base_fret = n.fret
    if t in ("<>", "[]"):
        pitch = harmonic_pitch(open_pitch, n.fret, t)
    elif t in ("h", "p", "t") or t in SLIDE_TECHNIQUES:
        velocity = VELOCITY["legato"] if t != "t" else VELOCITY[""]
    elif t in VELOCITY:
        velocity = VELOCITY[t]

    if t == "b":  # a bend with nothing ringing: pick a whole step below and bend up
        base_fret = max(0, n.fret - 2)
        pitch = open_pitch + base_fret
    if t == "x":
        end = start + min(DEAD_TIME, end - start)
    elif t == "pm":
        end = start + (end - start) * PALM_MUTE_SHARE
    elif t == "g":
        main = _main_onset_after(events, i)
        if main is not None:
            main_time = main * sec
            start = max(start, main_time - GRACE_TIME)
            end = main_time
            if st.note is not None and st.note.end == float(ev.start) * sec:
                st.note.end = start  # the note before rings up to the grace note
    if t in SLIDE_TECHNIQUES:
        if ringing is not None:
            # glide the ringing note toward this fret just before this note arrives
            glide = min(SLIDE_TIME, (ringing.end - ringing.start) / 2)
            st.ramp(start - glide, glide - TICK_GUARD, float(n.fret - st.base_fret), steps=3)
            st.wheel(start, 0.0)
        else:
            # slide in from two frets below (or above, for a slide down)
            st.wheel(start, 2.0 if t == "\\" else -2.0)
            st.ramp(start, min(SLIDE_TIME, (end - start) / 2), 0.0, steps=3)

    note = pretty_midi.Note(velocity=velocity, pitch=max(0, min(127, pitch)), start=start, end=end)
    st.instrument.notes.append(note)
    st.note, st.base_fret = note, base_fret
    if t == "b":
        st.ramp(start, min(BEND_TIME, (end - start) / 2), float(n.fret - base_fret))
    elif t == "~":
        _vibrato(st, start, end)


def _vibrato(st: _String, start: float, end: float) -> None:
    step = 1.0 / (VIBRATO_RATE * 8)
    k = 1
    while start + k * step < end - step:
        st.wheel(start + k * step, VIBRATO_DEPTH * math.sin(2 * math.pi * VIBRATO_RATE * k * step))
        k += 1
    st.wheel(end - step / 2, 0.0)


def bend_range(bends: list[tuple[float, float]]) -> int:
    """Pitch-bend range in semitones a string's channel needs: GM's default 2, more for wide bends."""
    return max(2, math.ceil(max((abs(b) for _, b in bends), default=0.0)))


def _write_bends(st: _String) -> None:
    if not st.bends:
        return
    rng = bend_range(st.bends)
    if rng != 2:
        # RPN 0 (pitch-bend sensitivity) to `rng` semitones, then the null RPN; three distinct times,
        # as MIDI files sort control changes of one tick by number
        rpn = [
            (0.0, 101, 0),
            (0.0, 100, 0),
            (0.002, 6, rng),
            (0.002, 38, 0),
            (0.004, 101, 127),
            (0.004, 100, 127),
        ]
        for time, cc, value in rpn:
            st.instrument.control_changes.append(pretty_midi.ControlChange(cc, value, time))
    for time, semitones in st.bends:
        value = max(-8192, min(8191, round(semitones / rng * 8192)))
        st.instrument.pitch_bends.append(pretty_midi.PitchBend(value, time))


def midi_bytes(tab: Tab, tempo: float = DEFAULT_TEMPO) -> bytes:
    """The tab as the bytes of a standard MIDI file."""
    buffer = io.BytesIO()
    tab_to_midi(tab, tempo).write(buffer)
    return buffer.getvalue()


def write_midi(tab: Tab, path: str | os.PathLike[str], tempo: float = DEFAULT_TEMPO) -> None:
    """Render `tab` to a standard MIDI file at `path`, atomically."""
    atomic_write(path, midi_bytes(tab, tempo))
