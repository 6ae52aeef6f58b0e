"""One tab file to one piece, and one piece to the files asked for: what `tabgen render` does.

The renderers are imported only for the formats asked for, so writing MIDI never imports music21.
"""

from __future__ import annotations

import os
from pathlib import Path

from tabgen.errors import InputError, RenderError, TabgenError
from tabgen.render.settings import DEFAULT_TEMPO, check_tempo, tempo_of
from tabgen.tab.types import Tab

PathLike = str | os.PathLike[str]


def load_pieces(path: PathLike) -> list[Tab]:
    """The pieces of a tab file in order: consecutive staves of one title, tuning, meter and
    metadata joined (`join_staves`); a Guitar Pro file's guitar and bass tracks. InputError when
    there is none."""
    return _read_pieces(path)[0]


def _read_pieces(path: PathLike) -> tuple[list[Tab], list[str]]:
    """`load_pieces`, and the notes on what was left out (frets past the limit in a Guitar Pro file)."""
    from tabgen.tab.parse import GUITAR_PRO_SUFFIXES, join_staves, read_file

    p = Path(path)
    result = read_file(p)  # (a Guitar Pro file: one Tab per guitar or bass track)
    guitar_pro = p.suffix.lower() in GUITAR_PRO_SUFFIXES
    if not result.tabs:
        why = f" ({result.diagnostics[0]})" if result.diagnostics else ""
        raise InputError(f"{path}: no {'guitar or bass track' if guitar_pro else 'tab staves'} found{why}")
    notes = [str(d) for d in result.diagnostics if "left out" in d.message]
    if guitar_pro:  # tracks play together: they are never joined one after another
        return result.tabs, notes
    return join_staves(result.tabs), notes


def load_piece(path: PathLike, number: int | None = None) -> tuple[Tab, str]:
    """The piece in a tab file, and a note on what was chosen or left out (empty when neither).

    `number` (1-based) picks one of `load_pieces`. Without it, staves that share one tuning and
    meter are joined into one piece; otherwise the first piece (consecutive staves of one title and
    tuning) is taken. Guitar Pro files give their first track.
    """
    from tabgen.tab.parse import GUITAR_PRO_SUFFIXES

    pieces, notes = _read_pieces(path)
    what = "track" if Path(path).suffix.lower() in GUITAR_PRO_SUFFIXES else "piece"
    if number is not None:
        if not 1 <= number <= len(pieces):
            raise InputError(f"{path}: no {what} {number}; the file has {len(pieces)} (1..{len(pieces)})")
        return pieces[number - 1], "\n".join(notes)
    tab, note = _choose(pieces, what)
    return tab, "\n".join(([note] if note else []) + notes)


def _choose(pieces: list[Tab], what: str) -> tuple[Tab, str]:
    """The piece to render when none was named, and a note on the choice."""
    first = pieces[0]
    if what == "track":
        return first, f"rendering track 1 of {len(pieces)}" if len(pieces) > 1 else ""
    if all(t.tuning == first.tuning and t.meter == first.meter for t in pieces):
        bars = tuple(b for t in pieces for b in t.bars)
        return Tab(first.tuning, bars, first.meter, first.title, first.meta, first.line), ""
    return first, (
        f"rendering piece 1 of {len(pieces)} (the pieces differ in tuning or meter; "
        "--piece N picks one, --all-pieces renders each)"
    )


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
