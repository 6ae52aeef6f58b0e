"""One piece to the files asked for: what `tabgen render` does once `tabgen.sources` has read the
piece from its file.

The renderers are imported only for the formats asked for, so writing MIDI never imports music21.
"""

from __future__ import annotations

import os
from pathlib import Path

from tabgen.errors import RenderError, TabgenError
from tabgen.render.settings import DEFAULT_TEMPO, check_tempo, tempo_of
from tabgen.tab.types import Tab

PathLike = str | os.PathLike[str]


def numbered(path: PathLike, number: int) -> Path:
    """`path` with the piece number before its suffix: out.mid, 2 -> out-2.mid."""
    p = Path(path)
    return p.with_name(f"{p.stem}-{number}{p.suffix}")


def piece_tempo(tab: Tab, tempo: float | None) -> float:
    """The tempo asked for, else the tab's own (its ``Tempo:`` line), else the default."""
    if tempo is not None:
        return tempo
    found = tempo_of(tab)
    return found if found is not None else DEFAULT_TEMPO


def render_files(
    tab: Tab,
    *,
    text: PathLike | None = None,
    midi: PathLike | None = None,
    musicxml: PathLike | None = None,
    gp5: PathLike | None = None,
    wav: PathLike | None = None,
    tempo: float = DEFAULT_TEMPO,
    tab_only: bool = False,
) -> list[Path]:
    """Write each asked-for format of `tab`; returns the paths written.

    All outputs or none: every format is made first (in memory, the WAV into a temporary file), so a
    tab that one format cannot take (a bad tempo, eight strings for Guitar Pro, no synthesizer for
    WAV, a missing folder) stops the run before any file is put in place; then all are renamed into
    place together. An error names the output it is about."""
    from tabgen.atomic import atomic_paths, write_payload

    if not tab.bars:
        raise RenderError("the tab has no bars: nothing to render")
    check_tempo(tempo)

    def named(path: PathLike, make):  # an error about one output names that output
        try:
            return make()
        except TabgenError as e:
            if str(path) in str(e):
                raise
            raise RenderError(f"{path}: {e}") from None

    # imported only for the formats asked for: --midi alone never imports music21
    payloads: list[tuple[PathLike, bytes | str]] = []
    if text is not None:
        from tabgen.render.timeline import on_grid
        from tabgen.tab.write import to_text

        payloads.append((text, named(text, lambda: to_text(on_grid(tab)))))
    if midi is not None:
        from tabgen.render.midi import midi_bytes

        payloads.append((midi, named(midi, lambda: midi_bytes(tab, tempo))))
    if musicxml is not None:
        from tabgen.render.musicxml import tab_to_musicxml

        payloads.append(
            (musicxml, named(musicxml, lambda: tab_to_musicxml(tab, tab_only=tab_only, tempo_bpm=tempo)))
        )
    if gp5 is not None:
        from tabgen.render.gp import gp5_bytes

        payloads.append((gp5, named(gp5, lambda: gp5_bytes(tab, tempo))))
    if wav is not None:
        from tabgen.render.audio import check_synth, render_wav

        named(wav, check_synth)
    outputs = [p for p, _ in payloads] + ([wav] if wav is not None else [])
    with atomic_paths(outputs) as tmps:
        for (_, data), tmp in zip(payloads, tmps, strict=False):
            write_payload(tmp, data)
        if wav is not None:
            named(wav, lambda: render_wav(tab, tmps[-1], tempo))
    return [Path(p) for p in outputs]
