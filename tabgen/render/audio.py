"""A `Tab` to audio: our MIDI rendered by FluidSynth with a General MIDI soundfont.

The fluidsynth program is used when installed (it renders a minute of music in well under a second);
otherwise pyfluidsynth through pretty_midi. Either needs a soundfont: the first found of
$TABGEN_SOUNDFONT and the usual Debian and Fedora locations.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import pretty_midi

from tabgen.atomic import atomic_path
from tabgen.errors import RenderError
from tabgen.render.midi import tab_to_midi
from tabgen.render.settings import DEFAULT_TEMPO
from tabgen.tab.types import Tab

SAMPLE_RATE = 44100
TAIL = 1.0  # seconds after the piece's last bar, so the last notes' release rings out
FADE = 0.2  # seconds of fade-out at the very end (FluidSynth renders the release tails for seconds)
SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)
INSTALL_HINT = (
    "install FluidSynth and a General MIDI soundfont (Debian: apt-get install fluidsynth fluid-soundfont-gm)"
)


def find_soundfont() -> Path | None:
    candidates = [os.environ.get("TABGEN_SOUNDFONT", ""), *SOUNDFONTS]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def _with_tail(midi: pretty_midi.PrettyMIDI, end: float) -> None:
    """Make the MIDI file last until `end` (a harmless sustain-off there), so the synthesizer
    renders the tail even after a rest."""
    if not midi.instruments:
        midi.instruments.append(pretty_midi.Instrument(0, name="silence"))
    midi.instruments[0].control_changes.append(pretty_midi.ControlChange(64, 0, end))


def _render_with_program(binary: str, soundfont: Path, midi_path: Path, wav_path: Path) -> None:
    cmd = [binary, "-ni", "-q", "-g", "1.0", "-r", str(SAMPLE_RATE), "-T", "wav", "-F", str(wav_path)]
    done = subprocess.run([*cmd, str(soundfont), str(midi_path)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not wav_path.exists() or wav_path.stat().st_size <= 44:
        why = (done.stderr or done.stdout).strip().splitlines()
        raise RenderError(f"fluidsynth failed: {why[-1] if why else f'exit code {done.returncode}'}")


def _render_with_library(midi: pretty_midi.PrettyMIDI, soundfont: Path, wav_path: Path) -> None:
    import numpy as np

    try:
        audio = midi.fluidsynth(fs=SAMPLE_RATE, sf2_path=str(soundfont))
    except ImportError:
        raise RenderError(f"no synthesizer found: {INSTALL_HINT}") from None
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    samples = (audio / peak * 0.9 if peak > 0 else audio) * 32767
    with wave.open(str(wav_path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(samples.astype("<i2").tobytes())


def _trim(src: Path, dst: Path, seconds: float) -> None:
    """Copy the first `seconds` of a 16-bit WAV, fading out over the last FADE seconds.

    Streamed a second at a time, so memory stays flat however long the piece (2,000 bars is over an
    hour of audio: held whole as floats that was gigabytes)."""
    import numpy as np

    with wave.open(str(src), "rb") as r, wave.open(str(dst), "wb") as w:
        channels, rate = r.getnchannels(), r.getframerate()
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = min(r.getnframes(), round(seconds * rate))
        fade_from = frames - min(frames, round(FADE * rate))
        done = 0
        while done < frames:
            block = r.readframes(min(rate, frames - done))
            if not block:
                break
            audio = np.frombuffer(block, dtype="<i2").reshape(-1, channels)
            n = len(audio)
            if done + n > fade_from:  # this block holds (part of) the fade-out
                at = np.arange(done, done + n)
                gain = np.clip((frames - at) / max(1, frames - fade_from), 0.0, 1.0).astype(np.float32)
                gain[at < fade_from] = 1.0
                audio = (audio.astype(np.float32) * gain[:, None]).astype("<i2")
            w.writeframes(audio.tobytes())
            done += n


def check_synth() -> tuple[Path, str | None]:
    """The soundfont and the fluidsynth program (None: use pyfluidsynth) to render with;
    RenderError saying what to install when there is no soundfont."""
    soundfont = find_soundfont()
    if soundfont is None:
        raise RenderError(f"no General MIDI soundfont found: {INSTALL_HINT}, or set TABGEN_SOUNDFONT")
    return soundfont, shutil.which("fluidsynth")


def write_wav(tab: Tab, path: str | os.PathLike[str], tempo: float = DEFAULT_TEMPO) -> None:
    """Render `tab` to a WAV file at `path` (44.1 kHz), atomically; RenderError saying what to install
    when FluidSynth or a soundfont is missing."""
    with atomic_path(path) as tmp:
        render_wav(tab, tmp, tempo)


def render_wav(tab: Tab, out: Path, tempo: float = DEFAULT_TEMPO) -> None:
    """Render `tab` into the file `out` (not atomically: for a caller that stages its outputs)."""
    soundfont, binary = check_synth()
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "raw.wav"
        if binary is None:
            try:
                midi = tab_to_midi(tab, tempo)
            except ValueError as e:  # pretty_midi refuses files past 10,000,000 ticks (~2,600 bars)
                raise RenderError(
                    f"{len(tab.bars)} bars are too long for pyfluidsynth's MIDI reader ({e}); "
                    "install the fluidsynth program, or render fewer bars"
                ) from None
            length = max(_played(tab) * 60.0 / tempo * _quarters_per_bar(tab), midi.get_end_time()) + TAIL
            _with_tail(midi, length)
            _render_with_library(midi, soundfont, raw)
        else:  # mido only: no tick limit, and the audio streams from fluidsynth to disk
            midi_path = Path(d) / "piece.mid"
            length = _write_with_tail(tab, tempo, midi_path)
            _render_with_program(binary, soundfont, midi_path, raw)
        _trim(raw, out, length)


def _write_with_tail(tab: Tab, tempo: float, path: Path) -> float:
    """Write the tab's MIDI file lasting until the end of its last bar plus TAIL (a sustain-off there,
    so the synthesizer renders the tail even after a rest); returns that length in seconds."""
    import mido

    from tabgen.render.midi import midi_file

    mid = midi_file(tab, tempo)
    seconds_per_tick = 60.0 / tempo / mid.ticks_per_beat
    end_tick = max(sum(m.time for m in track) for track in mid.tracks)
    length = max(_played(tab) * 60.0 / tempo * _quarters_per_bar(tab), end_tick * seconds_per_tick) + TAIL
    track = mid.tracks[-1]
    eot = track.pop() if track and track[-1].type == "end_of_track" else mido.MetaMessage("end_of_track")
    at = sum(m.time for m in track)
    channel = next((m.channel for m in track if hasattr(m, "channel")), 0)
    tail_tick = max(at, round(length / seconds_per_tick))
    track.append(mido.Message("control_change", channel=channel, control=64, value=0, time=tail_tick - at))
    eot.time = 0
    track.append(eot)
    mid.save(str(path))
    return length


def _played(tab: Tab) -> int:
    """Bars played, repeats played out."""
    from tabgen.render.timeline import played_bars

    return len(played_bars(tab))


def _quarters_per_bar(tab: Tab) -> float:
    from tabgen.render.timeline import bar_length, meter_of

    return float(bar_length(meter_of(tab)))
