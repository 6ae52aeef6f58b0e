"""What every renderer agrees on: the tempo range and the instrument a tuning calls for.

Kept apart from midi.py so that Guitar Pro and MusicXML rendering (and the corpus reading Guitar Pro
files) do not import pretty_midi and numpy.
"""

from __future__ import annotations

import re

from tabgen.errors import RenderError
from tabgen.tab.types import Tab

DEFAULT_TEMPO = 100.0
MIN_TEMPO, MAX_TEMPO = 20, 400

# General MIDI programs (0-based): acoustic nylon, acoustic steel, electric bass (finger)
NYLON_GUITAR, STEEL_GUITAR, ELECTRIC_BASS = 24, 25, 33


def check_tempo(tempo: float) -> None:
    if not MIN_TEMPO <= tempo <= MAX_TEMPO:
        raise RenderError(f"tempo must be in range {MIN_TEMPO}..{MAX_TEMPO} BPM, got {tempo:g}")


_BPM = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)", re.IGNORECASE)
_MARKED = re.compile(r"(?:=|\bc(?:a)?\.|\bcirca)\s*(\d{2,3}(?:\.\d+)?)", re.IGNORECASE)


def tempo_of(tab: Tab) -> float | None:
    """The tempo a tab's ``Tempo:`` line gives in BPM (``55 bpm``, ``= c.60``, ``ca. 60``, a bare
    ``120``), or None when it gives none in range (``Allegretto``)."""
    value = next((v for k, v in tab.meta if k == "tempo"), "")
    for pattern in (_BPM, _MARKED):
        m = pattern.search(value)
        if m:
            bpm = float(m.group(1))
            return bpm if MIN_TEMPO <= bpm <= MAX_TEMPO else None
    bare = re.fullmatch(r"\s*(\d{2,3}(?:\.\d+)?)\s*", value)
    if bare and MIN_TEMPO <= float(bare.group(1)) <= MAX_TEMPO:
        return float(bare.group(1))
    return None


def is_bass(tab: Tab) -> bool:
    """A bass tuning: at most 5 strings, the lowest below B1."""
    return tab.tuning.strings <= 5 and min(tab.tuning.pitches) < 35


def program_for(tab: Tab) -> int:
    """Electric bass for bass tunings, nylon guitar when the tab's metadata says classical or nylon,
    else steel-string guitar."""
    if is_bass(tab):
        return ELECTRIC_BASS
    hints = " ".join(v for _, v in tab.meta).lower()
    return NYLON_GUITAR if "nylon" in hints or "classical" in hints else STEEL_GUITAR
