"""WAV rendering through FluidSynth: the right length, audible, and a clear line when it cannot run."""

from __future__ import annotations

import os
import shutil
import wave

import numpy as np
import pytest

from tabgen.errors import RenderError
from tabgen.render import audio
from tabgen.render.audio import find_soundfont, write_wav
from tabgen.tab.types import Bar, Column, Note, Tab, Tuning

HAS_SYNTH = find_soundfont() is not None and shutil.which("fluidsynth") is not None


def piece(meter=None, width=16):
    # two bars: an open E minor chord, then a bass walk (3/4 or 4/4)
    bar1 = Bar(width, (Column(0, (Note(6, 0), Note(5, 2), Note(4, 2), Note(3, 0))),))
    bar2 = Bar(width, (Column(0, (Note(6, 3),)), Column(width // 2, (Note(5, 2),))))
    return Tab(Tuning.named("standard"), (bar1, bar2), meter=meter)


def read_wav(path):
    with wave.open(str(path), "rb") as w:
        rate, frames, channels = w.getframerate(), w.getnframes(), w.getnchannels()
        data = np.frombuffer(w.readframes(frames), dtype="<i2").reshape(-1, channels) / 32768.0
    return rate, data


@pytest.mark.skipif(not HAS_SYNTH, reason="fluidsynth or a General MIDI soundfont not installed")
@pytest.mark.parametrize(
    ("meter", "width", "tempo", "seconds"), [(None, 16, 100.0, 4.8), ((3, 4), 12, 120.0, 3.0)]
)
def test_wav_length_is_the_piece_plus_the_tail_and_it_is_audible(tmp_path, meter, width, tempo, seconds):
    path = tmp_path / "out.wav"
    write_wav(piece(meter, width), path, tempo)
    rate, data = read_wav(path)
    assert rate == 44100
    assert abs(len(data) / rate - (seconds + audio.TAIL)) < 0.01  # two bars, then a one-second tail
    rms = float(np.sqrt(np.mean(data**2)))
    assert rms > 0.01  # music, not silence
    first_half = data[: int(rate * seconds / 2)]
    assert float(np.sqrt(np.mean(first_half**2))) > 0.01  # the chord sounds from the start
    assert float(np.abs(data[-10:]).max()) < 0.01  # faded out at the very end


def test_missing_soundfont_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "SOUNDFONTS", ())
    monkeypatch.delenv("TABGEN_SOUNDFONT", raising=False)
    with pytest.raises(RenderError, match="apt-get install fluidsynth fluid-soundfont-gm"):
        write_wav(piece(), tmp_path / "x.wav")
    assert os.listdir(tmp_path) == []


def test_missing_synthesizer_says_what_to_install(tmp_path, monkeypatch):
    font = tmp_path / "font.sf2"
    font.write_bytes(b"RIFF")
    monkeypatch.setenv("TABGEN_SOUNDFONT", str(font))
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)

    def no_pyfluidsynth(*args, **kwargs):
        raise ImportError("fluidsynth")

    monkeypatch.setattr(audio.pretty_midi.PrettyMIDI, "fluidsynth", no_pyfluidsynth)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RenderError, match="no synthesizer found: install FluidSynth"):
        write_wav(piece(), out / "x.wav")
    assert os.listdir(out) == []


@pytest.mark.skipif(not HAS_SYNTH, reason="fluidsynth or a General MIDI soundfont not installed")
def test_a_ghost_note_sounds_much_softer_than_the_same_note_plain(tmp_path):
    # bar 1: A3 plain; bar 2: the same A3 as a ghost note (each rings its whole bar, 2.4 s)
    tab = Tab(
        Tuning.named("standard"),
        (Bar(16, (Column(0, (Note(3, 2),)),)), Bar(16, (Column(0, (Note(3, 2, "()"),)),))),
    )
    path = tmp_path / "ghost.wav"
    write_wav(tab, path, 100.0)
    rate, data = read_wav(path)
    plain = float(np.abs(data[: int(rate * 0.5)]).max())
    ghost = float(np.abs(data[int(rate * 2.4) : int(rate * 2.9)]).max())
    assert plain > 0.01 and ghost > 0.001  # both sound
    assert ghost < 0.6 * plain
