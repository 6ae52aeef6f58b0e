"""A `Tab` to MusicXML through music21: one guitar part with a notation staff and a TAB staff.

Notation is written column by column, as Guitar Pro and MuseScore show tab: the notes struck
together form one chord lasting until the next column (or the end of the bar), so every measure is
full and valid; durations that no single note value spells become tied notes. (The MIDI renderer
lets each note ring until the next note on its string; the notation shows the rhythm of the attacks.)

Two gaps in music21's exporter are filled here. A chord's notes cannot carry their own
`FretIndication`, so chords carry `StringFingering`s (which music21 deals out one per note) and the
frets are added afterwards from pitch and string. And music21 writes no `<staff-tuning>` (nor, for a
two-staff part, any `<staff-details>`), without which notation programs show every note as fret 0:
`add_staff_details` writes them, in the schema's order, into the element tree music21's exporter
builds (the tree is written out once, by us).

music21 is imported only here, and only when this module is imported, so `tabgen render --midi`
never pays for it.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from fractions import Fraction

from music21 import (
    articulations,
    beam,
    chord,
    clef,
    duration,
    expressions,
    instrument,
    interval,
    layout,
    metadata,
    meter,
    note,
    pitch,
    spanner,
    stream,
    tempo,
)
from music21 import (
    bar as m21bar,
)
from music21.exceptions21 import Music21Exception
from music21.musicxml.m21ToXml import ScoreExporter

from tabgen import collector
from tabgen.atomic import atomic_write
from tabgen.render.settings import check_tempo, is_bass
from tabgen.render.timeline import bar_length, column_offsets, main_columns, meter_of, on_grid, split_duration
from tabgen.tab.types import SLIDES, Note, Tab

_STRING_MARK = "tabgen-string-"  # a chord note's string, rewritten to <string> and <fret> after export
_STEPS = ("C", "C", "D", "D", "E", "F", "F", "G", "G", "A", "A", "B")


def _sounding(tab: Tab, n: Note) -> note.Note:
    m21 = note.Note(tab.pitch(n))
    if m21.pitch.accidental is not None and m21.pitch.accidental.name == "natural":
        m21.pitch.accidental = None  # a pitch from a MIDI number carries an explicit natural sign
    if n.technique == "x":
        m21.notehead = "x"
    elif n.technique == "()":  # a ghost note: <notehead parentheses="yes">
        m21.noteheadParenthesis = True
    return m21


def _marks(tab: Tab, n: Note, prev: Note | None) -> list[articulations.Articulation]:
    """Technique marks that belong to the note itself (connecting techniques become spanners)."""
    t = n.technique
    if t in ("<>", "[]"):
        harmonic = articulations.StringHarmonic()
        harmonic.harmonicType = "natural" if t == "<>" else "artificial"
        return [harmonic]
    if t == "t":
        return [articulations.FretTap()]
    if t in ("b", "r") and prev is None:  # nothing to bend from: a pre-bend shown on the note
        return [articulations.FretBend(bendAlter=interval.Interval(2), preBend=True)]
    return []


def _column_elements(tab: Tab, notes: tuple[Note, ...], ql: Fraction) -> list[note.NotRest]:
    """One column as tied chords (or notes) adding up to `ql` quarter notes."""
    out: list[note.NotRest] = []
    parts = split_duration(ql)
    for k, part in enumerate(parts):
        if len(notes) == 1:
            el: note.NotRest = _sounding(tab, notes[0])
            el.articulations += [
                articulations.StringIndication(notes[0].string),
                articulations.FretIndication(notes[0].fret),
            ]
        else:
            el = chord.Chord([_sounding(tab, n) for n in notes])
            # music21 gives a chord's fingerings out one per note: carry each string in one
            el.articulations += [articulations.Fingering(f"{_STRING_MARK}{n.string}") for n in notes]
        el.duration = _spelled(part)
        if len(parts) > 1:
            el.tie = note.tie.Tie("start" if k == 0 else "stop" if k == len(parts) - 1 else "continue")
        out.append(el)
    return out


def _spelled(ql: Fraction) -> duration.Duration:
    """A duration with its note value (type, dots) worked out now, before a measure holds it:
    music21 works it out on first use, and then tells every stream holding the note that its
    contents changed: a fifth of the profile of an export, when that happens during the export."""
    value = duration.Duration(ql)
    _ = value.type
    return value


def _rests(ql: Fraction) -> list[note.Rest]:
    return [note.Rest(duration=_spelled(part)) for part in split_duration(ql)]


def _staff_measures(
    tab: Tab, part: stream.Stream, is_tab_staff: bool, first_staff: bool, tempo_bpm: float | None
) -> None:
    """Fill `part` with one measure per bar; connecting techniques become spanners in the part.
    The first staff of the part carries the instrument and the metronome mark."""
    length = bar_length(meter_of(tab))
    last: dict[int, tuple[Note, note.NotRest]] = {}  # string -> its latest note and the element ending it
    for b, bar in enumerate(tab.bars):
        m = stream.Measure(number=b + 1)
        if b == 0:
            if is_tab_staff:
                m.insert(0, clef.TabClef())
                m.insert(0, layout.StaffLayout(staffLines=tab.tuning.strings))
            else:
                m.insert(0, clef.Bass8vbClef() if is_bass(tab) else clef.Treble8vbClef())
            m.insert(0, meter.TimeSignature("{}/{}".format(*meter_of(tab))))
            if first_staff:
                m.insert(0, instrument.ElectricBass() if is_bass(tab) else instrument.AcousticGuitar())
                if tempo_bpm:
                    m.insert(0, tempo.MetronomeMark(number=tempo_bpm))
        offsets = column_offsets(bar, length)
        timed_cols, grace_cols = main_columns(bar)
        main = [i for i, t in enumerate(timed_cols) if t]
        onsets = [offsets[i] for i in main] + [length]
        if onsets[0] > 0:  # (all of an empty bar)
            for r in _rests(onsets[0]):
                m.append(r)
        pending_grace: list[Note] = []
        for i in range(len(bar.columns)):
            pending_grace += grace_cols[i]
            if not timed_cols[i]:
                continue
            k = main.index(i)
            if pending_grace:
                g = _column_elements(tab, tuple(pending_grace), Fraction(1, 2))[0]
                m.append(g.getGrace())
                pending_grace = []
            elements = _column_elements(tab, tuple(timed_cols[i]), onsets[k + 1] - onsets[k])
            for el in elements:
                m.append(el)
            _connect(tab, part, elements[0], elements[-1], timed_cols[i], last)
            if any(n.technique == "pm" for n in timed_cols[i]) and not is_tab_staff:
                m.insert(offsets[i], expressions.TextExpression("P.M."))
        if bar.repeat_start:
            m.leftBarline = m21bar.Repeat(direction="start")
        if bar.repeat_end:
            m.rightBarline = m21bar.Repeat(direction="end", times=bar.repeat_end)
        part.append(m)


def _connect(
    tab: Tab,
    part: stream.Stream,
    first: note.NotRest,
    final: note.NotRest,
    notes: list[Note],
    last: dict[int, tuple[Note, note.NotRest]],
) -> None:
    """Attach hammer-ons, pull-offs, slides and bends from the previous note on each string.
    `first` and `final` are the column's first and last tied element (the same when not tied)."""
    for n in notes:
        prev = last.get(n.string)
        t = n.technique
        if prev is not None:
            prev_note, prev_el = prev
            if t == "h":
                part.insert(0, articulations.HammerOn([prev_el, first]))
            elif t == "p":
                part.insert(0, articulations.PullOff([prev_el, first]))
            elif t in SLIDES:
                gl = spanner.Glissando([prev_el, first], lineType="solid")
                gl.slideType = "continuous"  # written as <slide>
                part.insert(0, gl)
            elif t in ("b", "r"):
                alter = interval.Interval(n.fret - prev_note.fret)
                prev_el.articulations.append(articulations.FretBend(bendAlter=alter))
        marks = _marks(tab, n, prev[0] if prev else None)
        if marks:
            first.articulations += marks
        last[n.string] = (n, final)


def tab_to_score(
    tab: Tab, title: str | None = None, tab_only: bool = False, tempo_bpm: float | None = None
) -> stream.Score:
    """The tab as a music21 Score: one guitar part, a notation staff over a TAB staff (or TAB only)."""
    tab = on_grid(tab)
    score = stream.Score()
    score.metadata = metadata.Metadata()
    score.metadata.title = title if title is not None else (tab.title or "Untitled")
    meta = dict(tab.meta)
    composer = meta.get("composer") or meta.get("artist") or meta.get("author")
    if composer:
        score.metadata.composer = composer
    name = "Bass" if is_bass(tab) else "Guitar"
    if tab_only:
        part = stream.Part()
        part.partName = name
        _staff_measures(tab, part, is_tab_staff=True, first_staff=True, tempo_bpm=tempo_bpm)
        score.insert(0, part)
        return score
    notation, tablature = stream.PartStaff(), stream.PartStaff()
    notation.partName = name
    _staff_measures(tab, notation, is_tab_staff=False, first_staff=True, tempo_bpm=tempo_bpm)
    _staff_measures(tab, tablature, is_tab_staff=True, first_staff=False, tempo_bpm=tempo_bpm)
    score.insert(0, notation)
    score.insert(0, tablature)
    score.insert(0, layout.StaffGroup([notation, tablature], symbol="brace", barTogether=True))
    return score


def _pitch_parts(midi: int) -> tuple[str, int, int]:
    """MIDI pitch to (step, alter, octave), sharps for black keys: 42 -> ('F', 1, 2)."""
    step = _STEPS[midi % 12]
    alter = 1 if midi % 12 in (1, 3, 6, 8, 10) else 0
    return step, alter, midi // 12 - 1


_ALTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _note_pitch(el: ET.Element) -> int | None:
    p = el.find("pitch")
    if p is None:
        return None
    step, octave = p.findtext("step", "C"), int(p.findtext("octave", "4"))
    alter = round(float(p.findtext("alter", "0")))
    return (octave + 1) * 12 + _ALTER[step] + alter


def _make_stable(root: ET.Element) -> None:
    """Same tab, same bytes: music21's random part and instrument ids become P1, I1, ... in order of
    appearance, and the encoding date and music21's stand-in composer go."""
    ident = root.find("identification")
    if ident is not None:
        for creator in ident.findall("creator"):
            if creator.text == "Music21":
                ident.remove(creator)
        encoding = ident.find("encoding")
        if encoding is not None:
            for date in encoding.findall("encoding-date"):
                encoding.remove(date)
    renamed: dict[str, str] = {}
    counts: dict[str, int] = {}
    for el in root.iter():
        old = el.get("id")
        if old is None:
            continue
        if old not in renamed:
            prefix = "I" if el.tag in ("score-instrument", "midi-instrument", "instrument") else "P"
            counts[prefix] = counts.get(prefix, 0) + 1
            renamed[old] = f"{prefix}{counts[prefix]}"
        el.set("id", renamed[old])


# <attributes> children in schema order: staff-details goes after these
_BEFORE_STAFF_DETAILS = ("footnote", "level", "divisions", "key", "time", "staves", "part-symbol",
                         "instruments", "clef", "staff-details")  # fmt: skip


def add_staff_details(root: ET.Element, tab: Tab, tab_staff: int | None) -> None:
    """Write `<staff-details>` (string count and tuning) for the TAB staff and the fret of every note
    that has a string but no fret, into the `<score-partwise>` tree `root`. `tab_staff` is the staff
    number in a two-staff part, else None."""
    tuning = tab.tuning.pitches
    for part in root.iter("part"):
        first = part.find("measure")
        attrs = first.find("attributes") if first is not None else None
        if attrs is None:
            continue
        for old in attrs.findall("staff-details"):
            attrs.remove(old)
        details = ET.Element("staff-details")
        if tab_staff is not None:
            details.set("number", str(tab_staff))
        ET.SubElement(details, "staff-lines").text = str(len(tuning))
        for line, open_pitch in enumerate(reversed(tuning), start=1):  # line 1: the lowest string
            st = ET.SubElement(details, "staff-tuning", line=str(line))
            step, alter, octave = _pitch_parts(open_pitch)
            ET.SubElement(st, "tuning-step").text = step
            if alter:
                ET.SubElement(st, "tuning-alter").text = str(alter)
            ET.SubElement(st, "tuning-octave").text = str(octave)
        children = list(attrs)
        at = max((i + 1 for i, c in enumerate(children) if c.tag in _BEFORE_STAFF_DETAILS), default=0)
        attrs.insert(at, details)
        for n in part.iter("note"):
            tech = n.find("notations/technical")
            if tech is None:
                continue
            for fing in tech.findall("fingering"):
                if (fing.text or "").startswith(_STRING_MARK):
                    marked = ET.Element("string")
                    marked.text = (fing.text or "")[len(_STRING_MARK) :]
                    tech.insert(list(tech).index(fing), marked)
                    tech.remove(fing)
            string_el = tech.find("string")
            if string_el is None or tech.find("fret") is not None:
                continue
            pitch = _note_pitch(n)
            s = int(string_el.text or 0)
            if pitch is None or not 1 <= s <= len(tuning):
                continue
            fret = ET.Element("fret")
            fret.text = str(pitch - tuning[s - 1])
            tech.insert(list(tech).index(string_el) + 1, fret)


def fit_for_readers(root: ET.Element, tab_staff: int | None) -> None:
    """What alphaTab (and any reader that takes the file literally) needs beyond the schema: the
    title once (work title, no movement title); in a two-staff part, the TAB staff's notes as voice 1
    (alphaTab draws a rest over the first fret of a bar whose TAB notes are voice 2), and no
    `<string>`/`<fret>` on the notation staff (a staff without a tuning: alphaTab misplaces chord
    notes that carry them). MuseScore reads the file as before."""
    if root.findtext("work/work-title") is not None:
        for movement in root.findall("movement-title"):
            root.remove(movement)
    if tab_staff is None:
        return
    staff = str(tab_staff)
    for el in root.iter("note"):
        if el.findtext("staff") == staff:
            voice = el.find("voice")
            if voice is not None:
                voice.text = "1"
            continue
        notations = el.find("notations")
        tech = notations.find("technical") if notations is not None else None
        if notations is None or tech is None:
            continue
        for child in tech.findall("string") + tech.findall("fret"):
            tech.remove(child)
        if not len(tech):
            notations.remove(tech)
        if not len(notations):
            el.remove(notations)
    for forward in root.iter("forward"):  # (rests music21 skips over) on the TAB staff: voice 1 too
        if forward.findtext("staff") == staff and (voice := forward.find("voice")) is not None:
            voice.text = "1"


def _copy_beams(beams: beam.Beams) -> beam.Beams:
    """A note's own copy of a rhythm's beams (copy.deepcopy of music21 objects is far slower)."""
    out = beam.Beams()
    out.feathered = beams.feathered
    for b in beams:
        copied = beam.Beam(b.type, b.direction, b.number)
        copied.independentAngle = b.independentAngle
        out.beamsList.append(copied)
    return out


def _beam_and_spell(measures: list[stream.Measure], ts: meter.TimeSignature) -> None:
    """Beams from the time signature, and accidentals shown only where they change within a
    measure: the cheap parts of music21's makeNotation that a grid-built score needs."""
    patterns: dict[tuple[tuple[float, bool], ...], list[beam.Beams | None]] = {}  # rhythm -> beams
    for m in measures:
        notes = [n for n in m.notesAndRests if not n.duration.isGrace]
        rhythm = tuple((n.quarterLength, n.isRest) for n in notes)
        if rhythm not in patterns:
            try:
                patterns[rhythm] = ts.getBeams(notes)
            except Music21Exception:  # a group music21 cannot beam: leave its notes flagged
                patterns[rhythm] = [None] * len(notes)
        for n, beams in zip(notes, patterns[rhythm], strict=True):
            if beams is not None:
                n.beams = _copy_beams(beams)
        shown: dict[tuple[str, int | None], float] = {}  # (step, octave) -> alter in force
        for el in m.notes:
            for p in el.pitches:
                alter = p.accidental.alter if p.accidental is not None else 0.0
                key = (p.step, p.octave)
                tied_on = el.tie is not None and el.tie.type != "start"
                if alter != shown.get(key, 0.0) and not tied_on:
                    if p.accidental is None:
                        p.accidental = pitch.Accidental("natural")
                    p.accidental.displayStatus = True
                elif p.accidental is not None:
                    p.accidental.displayStatus = False
                shown[key] = alter


def score_to_tree(score: stream.Score, ts: meter.TimeSignature) -> tuple[str, ET.Element]:
    """The MusicXML declaration and doctype, and the `<score-partwise>` tree, of a score that is
    already well formed (full measures, durations spelled). music21's makeNotation pass (a deep copy
    of the score, then rests, ties, beams and accidentals) is skipped: it is several times slower
    than the export itself. The tree is taken from music21's exporter as it is, not written out as
    text and parsed back, so that our additions cost no second round of serializing and parsing."""
    for part in score.parts:
        _beam_and_spell(list(part.getElementsByClass(stream.Measure)), ts)
    exporter = ScoreExporter(score, makeNotation=False)
    root = exporter.parse()
    for el in list(root.iter()):
        for divider in [c for c in el if c.tag is ET.Comment]:  # music21's "Measure N" comments
            el.remove(divider)
        if len(el.attrib) > 1:  # attributes in name order, as music21 writes them
            attributes = sorted(el.attrib.items())
            el.attrib.clear()
            el.attrib.update(attributes)
    return exporter.xmlHeader().decode("utf-8"), root


def tab_to_musicxml(
    tab: Tab, title: str | None = None, tab_only: bool = False, tempo_bpm: float | None = None
) -> str:
    """The tab as MusicXML 4.0 text with a complete TAB staff (tuning included)."""
    if tempo_bpm is not None:
        check_tempo(tempo_bpm)
    with collector.paused():  # (for a 64-bar piece 147 collections, about 0.1 s of 1 s)
        score = tab_to_score(tab, title, tab_only, tempo_bpm)
        head, root = score_to_tree(score, meter.TimeSignature("{}/{}".format(*meter_of(tab))))
        _make_stable(root)
        add_staff_details(root, tab, None if tab_only else 2)
        fit_for_readers(root, None if tab_only else 2)
        ET.indent(root, space="  ")
        return head + ET.tostring(root, encoding="unicode") + "\n"


def write_musicxml(
    tab: Tab, path: str | os.PathLike[str], tab_only: bool = False, tempo_bpm: float | None = None
) -> None:
    """Render `tab` to a MusicXML file at `path`, atomically."""
    atomic_write(path, tab_to_musicxml(tab, tab_only=tab_only, tempo_bpm=tempo_bpm))
