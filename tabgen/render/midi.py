"""A `Tab` to a standard MIDI file, timed from the rhythm grid and played as a guitarist would.

The piece is one guitar (or bass) track, as a DAW expects, with a MIDI channel per string (string 1
on channel 1, string 2 on channel 2, ..., skipping the drum channel 10): pitch bends (bends,
releases, slide glides, vibrato) are channel-wide, so this keeps a bend on one string from bending
the notes ringing on the others. A string is monophonic (a note rings until the next note on it),
and every new picked note on a bent string first resets the wheel, so a bend never leaks onto a
later note.

The file is written with mido, not pretty_midi: pretty_midi imports numpy (and pyfluidsynth when
installed), which cost `tabgen render --midi` about 0.2 s of start-up for a 0.05 s job. The layout
follows pretty_midi's (a tempo track, then the instrument's track with its name and a program per
channel; events sorted by tick, then by kind and value; note-offs as velocity-0 note-ons).
`tab_to_midi` reads the file into a `pretty_midi.PrettyMIDI` for the callers that
want one (WAV rendering, the tests); only it imports pretty_midi.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mido

from tabgen.atomic import atomic_write
from tabgen.render.settings import (  # noqa: F401 (re-exported: callers import them from here)
    DEFAULT_TEMPO,
    MAX_TEMPO,
    MIN_TEMPO,
    check_tempo,
    is_bass,
    program_for,
)
from tabgen.render.timeline import Timed, meter_of, timeline
from tabgen.tab.types import SLIDES, Tab

if TYPE_CHECKING:
    import pretty_midi

RESOLUTION = 960  # ticks per quarter: every grid slot and bend step lands on a whole tick


VELOCITY = {"": 90, "legato": 70, "x": 40, "g": 70, "pm": 80, "()": 45}  # "()": a ghost note, half as loud
BEND_TIME = 0.12  # seconds a bend or release takes to reach its pitch
SLIDE_TIME = 0.08  # seconds of glide before a slide's target note
GRACE_TIME = 0.06  # seconds a grace note sounds before its main note
DEAD_TIME = 0.05  # a dead (x) note is a short click
PALM_MUTE_SHARE = 0.5  # a palm-muted note rings for this share of its length
VIBRATO_DEPTH, VIBRATO_RATE = 0.3, 5.5  # semitones, Hz
TICK_GUARD = 0.005  # seconds between wheel events that must not share a MIDI tick

# natural harmonic: fret of the node -> semitones above the open string (the partial's pitch)
NATURAL_HARMONICS = {12: 12, 7: 19, 19: 19, 5: 24, 24: 24, 4: 28, 9: 28, 16: 28, 3: 31}


def harmonic_pitch(open_pitch: int, fret: int, technique: str) -> int:
    """The sounding pitch of a harmonic: natural (<>) from the node's partial, artificial ([]) an octave
    over the fretted note. A natural harmonic at a fret with no strong node sounds fretted + 12."""
    if technique == "<>" and fret in NATURAL_HARMONICS:
        return open_pitch + NATURAL_HARMONICS[fret]
    return open_pitch + fret + 12


@dataclass(slots=True)
class _Note:
    """A sounding note, times in seconds (its end moves while later notes are played)."""

    pitch: int
    velocity: int
    start: float
    end: float


@dataclass
class _String:
    """What one string is doing: the notes played on it, the note ringing on it and the wheel."""

    name: str
    notes: list[_Note] = field(default_factory=list)
    controls: list[tuple[float, int, int]] = field(default_factory=list)  # (time, number, value)
    pitch_bends: list[tuple[float, int]] = field(default_factory=list)  # (time, wheel value)
    note: _Note | None = None
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


def midi_file(tab: Tab, tempo: float = DEFAULT_TEMPO, program: int | None = None) -> mido.MidiFile:
    """The tab as a mido MidiFile: a tempo track (tempo and time signature), then one track for the
    instrument with a channel per string used (`channel_for`)."""
    check_tempo(tempo)
    program = program_for(tab) if program is None else program
    events = timeline(tab)
    sec = 60.0 / tempo  # seconds per quarter note
    strings: dict[int, _String] = {}
    for i, ev in enumerate(events):
        s = ev.note.string
        if s not in strings:
            strings[s] = _String(f"string {s}")
        _play(tab, events, i, strings[s], sec)
    for st in strings.values():
        _write_bends(st)
    name = "Bass" if is_bass(tab) else "Guitar"
    return _to_file(sorted(strings.items()), tempo, meter_of(tab), program, name)


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
    elif t in ("h", "p", "t") or t in SLIDES:
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
    if t in SLIDES:
        if ringing is not None:
            # glide the ringing note toward this fret just before this note arrives
            glide = min(SLIDE_TIME, (ringing.end - ringing.start) / 2)
            st.ramp(start - glide, glide - TICK_GUARD, float(n.fret - st.base_fret), steps=3)
            st.wheel(start, 0.0)
        else:
            # slide in from two frets below (or above, for a slide down)
            st.wheel(start, 2.0 if t == "\\" else -2.0)
            st.ramp(start, min(SLIDE_TIME, (end - start) / 2), 0.0, steps=3)

    note = _Note(max(0, min(127, pitch)), velocity, start, end)
    st.notes.append(note)
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
            st.controls.append((time, cc, value))
    for time, semitones in st.bends:
        value = max(-8192, min(8191, round(semitones / rng * 8192)))
        st.pitch_bends.append((time, value))


# --- the file: pretty_midi's layout, written with mido ------------------------------------------------

# channels for strings 1, 2, ..., skipping 9 (General MIDI drums)
_CHANNELS = [c for c in range(16) if c != 9]


def channel_for(string: int) -> int:
    """The MIDI channel (0-based) of a string: string 1 on channel 0 (a DAW's channel 1), ..."""
    return _CHANNELS[(string - 1) % len(_CHANNELS)]


_KIND_RANK = {"set_tempo": 1, "time_signature": 2, "program_change": 6, "pitchwheel": 7, "control_change": 8,
              "note_on": 10}  # fmt: skip


def _rank(msg: mido.Message | mido.MetaMessage) -> int:
    """Where an event goes among those of its tick (pretty_midi's order): tempo, time signature,
    program, pitch wheel by value, control change by number and value, note-on by pitch and velocity
    (so a note-off, a velocity-0 note-on, comes before a new note of its pitch)."""
    rank = _KIND_RANK[msg.type] << 16
    if msg.type == "note_on":
        return rank + (msg.note << 8) + msg.velocity
    if msg.type == "pitchwheel":
        return rank + msg.pitch
    if msg.type == "control_change":
        return rank + (msg.control << 8) + msg.value
    return rank


def _track(events: list[tuple[int, mido.Message | mido.MetaMessage]], name: str = "") -> mido.MidiTrack:
    """Events at absolute ticks, sorted (stably) by tick and rank into a track of delta times: after
    its name, ending one tick after its last event."""
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)] if name else [])
    now = 0
    for at, msg in sorted(events, key=lambda e: (e[0], _rank(e[1]))):
        msg.time, now = at - now, at
        track.append(msg)
    track.append(mido.MetaMessage("end_of_track", time=1))
    return track


def _to_file(
    strings: list[tuple[int, _String]], tempo: float, meter: tuple[int, int], program: int, name: str
) -> mido.MidiFile:
    """A type-1 file: a tempo track, then the instrument's track, each string on its own channel."""
    tick_scale = 60.0 / (tempo * RESOLUTION)  # seconds per tick

    def tick(time: float) -> int:
        return int(round(time / tick_scale)) if time > 0 else 0

    beats, unit = meter
    usec = int(6e7 / (60.0 / (tick_scale * RESOLUTION)))  # microseconds per quarter note
    mid = mido.MidiFile(ticks_per_beat=RESOLUTION, charset="latin1")
    tempo_map = [
        (0, mido.MetaMessage("set_tempo", tempo=usec)),
        (0, mido.MetaMessage("time_signature", numerator=beats, denominator=unit)),
    ]
    mid.tracks.append(_track(tempo_map))
    events: list[tuple[int, mido.Message | mido.MetaMessage]] = []
    for string, st in strings:
        ch = channel_for(string)
        events.append((0, mido.Message("program_change", channel=ch, program=program)))
        for note in st.notes:
            on = mido.Message("note_on", channel=ch, note=note.pitch, velocity=note.velocity)
            events += [(tick(note.start), on), (tick(note.end), on.copy(velocity=0))]
        for time, value in st.pitch_bends:
            events.append((tick(time), mido.Message("pitchwheel", channel=ch, pitch=value)))
        for time, number, value in st.controls:
            events.append(
                (tick(time), mido.Message("control_change", channel=ch, control=number, value=value))
            )
    mid.tracks.append(_track(events, name))
    return mid


def midi_bytes(tab: Tab, tempo: float = DEFAULT_TEMPO, program: int | None = None) -> bytes:
    """The tab as the bytes of a standard MIDI file."""
    buffer = io.BytesIO()
    midi_file(tab, tempo, program).save(file=buffer)
    return buffer.getvalue()


def write_midi(tab: Tab, path: str | os.PathLike[str], tempo: float = DEFAULT_TEMPO) -> None:
    """Render `tab` to a standard MIDI file at `path`, atomically."""
    atomic_write(path, midi_bytes(tab, tempo))


def tab_to_midi(tab: Tab, tempo: float = DEFAULT_TEMPO, program: int | None = None) -> pretty_midi.PrettyMIDI:
    """The tab's MIDI file read into a PrettyMIDI (for synthesis and analysis; imports pretty_midi)."""
    import pretty_midi

    return pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(tab, tempo, program)))
