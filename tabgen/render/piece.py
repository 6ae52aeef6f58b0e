"""One tab file to one piece, and one piece to the files asked for: what `tabgen render` does.

The renderers are imported only for the formats asked for, so writing MIDI never imports music21.
"""

from __future__ import annotations

import os
from pathlib import Path

from tabgen.errors import InputError
from tabgen.tab.types import Tab

PathLike = str | os.PathLike[str]


def load_piece(path: PathLike) -> tuple[Tab, str]:
    """The piece in a tab file, and a note on what was chosen (empty when there was no choice).

    Staves that share one tuning and meter are joined into one piece; otherwise the first piece
    (consecutive staves of one title and tuning) is taken. Guitar Pro files give their first track.
    """
    p = Path(path)
    if p.suffix.lower() in (".gp3", ".gp4", ".gp5"):
        from tabgen.render.gp import read_gp

        tracks = read_gp(p)
        note = f"rendering track 1 of {len(tracks)}" if len(tracks) > 1 else ""
        return tracks[0], note
    from tabgen.tab.parse import join_staves, read_file

    result = read_file(p)
    if not result.tabs:
        why = f" ({result.diagnostics[0]})" if result.diagnostics else ""
        raise InputError(f"{path}: no tab staves found{why}")
    pieces = join_staves(result.tabs)
    first = pieces[0]
    if all(t.tuning == first.tuning and t.meter == first.meter for t in pieces):
        bars = tuple(b for t in pieces for b in t.bars)
        return Tab(first.tuning, bars, first.meter, first.title, first.meta, first.line), ""
    return first, f"rendering piece 1 of {len(pieces)} (the pieces differ in tuning or meter)"


def render_files(
    tab: Tab,
    *,
    text: PathLike | None = None,
    midi: PathLike | None = None,
    musicxml: PathLike | None = None,
    gp5: PathLike | None = None,
    wav: PathLike | None = None,
    tempo: float = 100.0,
    tab_only: bool = False,
) -> list[Path]:
    """Write each asked-for format of `tab` (atomically); returns the paths written."""
    written: list[Path] = []
    if text is not None:
        from tabgen.atomic import atomic_write
        from tabgen.tab.normalize import normalize
        from tabgen.tab.write import to_text

        atomic_write(text, to_text(normalize(tab)))
        written.append(Path(text))
    if midi is not None:
        from tabgen.render.midi import write_midi

        write_midi(tab, midi, tempo)
        written.append(Path(midi))
    if musicxml is not None:
        from tabgen.render.musicxml import write_musicxml

        write_musicxml(tab, musicxml, tab_only=tab_only, tempo_bpm=tempo)
        written.append(Path(musicxml))
    if gp5 is not None:
        from tabgen.render.gp import write_gp5

        write_gp5(tab, gp5, tempo)
        written.append(Path(gp5))
    if wav is not None:
        from tabgen.render.audio import write_wav

        write_wav(tab, wav, tempo)
        written.append(Path(wav))
    return written
