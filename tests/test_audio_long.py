"""Long pieces to audio: past pretty_midi's tick limit, and trimmed a block at a time."""

from __future__ import annotations

import wave
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from tabgen.errors import RenderError
from tabgen.render import audio
from tests.tab_fixtures import make_tab

LONG = 2700  # bars of 4/4 at 100 BPM: past the 10,000,000 ticks pretty_midi reads


def long_tab():
    bar = [(0, [(1, 0)]), (8, [(6, 3)])]
    return make_tab([bar] * LONG)


def test_a_piece_past_pretty_midis_tick_limit_gets_its_midi_for_fluidsynth(tmp_path):
    tab = long_tab()
    with pytest.raises(ValueError, match="largest tick"):  # why pretty_midi cannot be used for it
        audio.tab_to_midi(tab, 100.0)
    path = tmp_path / "piece.mid"
    length = audio._write_with_tail(tab, 100.0, path)
    assert length == pytest.approx(LONG * 2.4 + audio.TAIL)
    mid = mido.MidiFile(str(path))
    assert mid.length == pytest.approx(length, abs=0.01)  # the sustain-off at the very end keeps the tail
    assert sum(1 for t in mid.tracks for m in t if m.type == "note_on" and m.velocity) == 2 * LONG


def test_without_the_fluidsynth_program_a_too_long_piece_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "check_synth", lambda: (Path("/x.sf2"), None))
    with pytest.raises(RenderError, match=f"{LONG} bars are too long for pyfluidsynth's MIDI reader"):
        audio.write_wav(long_tab(), tmp_path / "x.wav")
    assert list(tmp_path.iterdir()) == []


def test_trim_copies_block_by_block_and_fades_the_end(tmp_path):
    rate, seconds = 8000, 3.5
    src, dst = tmp_path / "raw.wav", tmp_path / "out.wav"
    samples = np.full((int(rate * 5), 2), 1000, dtype="<i2")
    with wave.open(str(src), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    audio._trim(src, dst, seconds)
    with wave.open(str(dst), "rb") as r:
        assert r.getnchannels() == 2 and r.getframerate() == rate
        got = np.frombuffer(r.readframes(r.getnframes()), dtype="<i2").reshape(-1, 2)
    assert len(got) == int(rate * seconds)
    fade = round(audio.FADE * rate)
    assert (got[:-fade] == 1000).all()  # untouched before the fade
    tail = got[-fade:, 0]
    assert (np.diff(tail.astype(int)) <= 0).all() and tail[-1] < 10  # then down to silence


def test_pretty_midi_is_still_what_reads_a_short_piece():
    assert isinstance(audio.tab_to_midi(make_tab([[(0, [(1, 0)])]]), 100.0), pretty_midi.PrettyMIDI)
