"""One set of slide techniques (tab.types.SLIDES) for every renderer: each of them slides in MIDI,
MusicXML and Guitar Pro alike, and a hammer-on slides in none."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import guitarpro as gp
import mido
import pytest

from tabgen.render.gp import gp5_bytes
from tabgen.render.midi import midi_bytes
from tabgen.render.musicxml import tab_to_musicxml
from tabgen.tab.types import SLIDES, TECHNIQUES
from tests.tab_fixtures import make_tab


def two_notes(technique: str):
    """Fret 5 on the G string, then fret 7 reached with `technique` while the first still rings."""
    return make_tab([[(0, [(3, 5)]), (8, [(3, 7, technique)])]])


def midi_glides(tab) -> bool:
    """A pitch-wheel move away from centre before the second note starts (slot 8 of 16)."""
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(tab)))
    second = midi.ticks_per_beat * 2
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "pitchwheel" and msg.pitch != 0 and tick < second:
                return True
    return False


def musicxml_slides(tab) -> list[str | None]:
    root = ET.fromstring(tab_to_musicxml(tab, tab_only=True))
    return [s.get("type") for s in root.iter("slide")]


def gp_slides(tab) -> list[list[gp.SlideType]]:
    song = gp.parse(io.BytesIO(gp5_bytes(tab)))
    beats = song.tracks[0].measures[0].voices[0].beats
    return [n.effect.slides for b in beats for n in b.notes]


@pytest.mark.parametrize("technique", sorted(SLIDES))
def test_every_slide_technique_slides_in_every_renderer(technique):
    tab = two_notes(technique)
    assert midi_glides(tab)
    assert musicxml_slides(tab) == ["start", "stop"]
    first, _ = gp_slides(tab)
    want = gp.SlideType.shiftSlideTo if technique == "s" else gp.SlideType.legatoSlideTo
    assert first == [want]


def test_a_hammer_on_slides_in_none():
    tab = two_notes("h")
    assert not midi_glides(tab)
    assert musicxml_slides(tab) == []
    assert gp_slides(tab) == [[], []]


def test_slides_are_the_slide_techniques_of_the_tab_model():
    assert {t for t, name in TECHNIQUES.items() if "slide" in name} == SLIDES
