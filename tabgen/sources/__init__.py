"""A path to pieces: the one place that reads tab files, for check, render, view, compose --prime
and the corpus (and so train).

`read_file` dispatches on the name: ``.gp3 .gp4 .gp5`` are Guitar Pro files, read by
`tabgen.sources.guitarpro`; anything else is text (a ``.gz`` file unpacked first), decoded from
any encoding (`tabgen.tab.decode`) and read by `tabgen.tab.parse`. Every input is a regular file
within TABGEN_MAX_INPUT_MB (`tabgen.inputs`).

Tracks and staves, the one rule:

* A text file holds staves, one after another in time. `Source.tabs` has one `Tab` per stave (what
  `tabgen check` lists); a piece is a run of consecutive staves of one title, tuning, meter and
  metadata, joined bar after bar (`join_staves`): a tune written over several staves is one piece.
* A Guitar Pro file holds tracks, which sound at the same time (lead and rhythm guitar, guitar and
  bass). `Source.tabs` has one `Tab` per guitar or bass track, and each track is a piece of its own:
  tracks are never joined, neither one after another (that would play the rhythm part after the
  lead) nor into one stave. So the corpus learns each track as its own piece, and `check` lists
  each track as a stave.
* Where one piece is wanted and none is named (`render`, `view`, `compose --prime`): a Guitar Pro
  file gives track 1 (with a note when it has more); a text file gives its pieces joined when they
  share one tuning and meter (the parts of one tab), else piece 1 with a note. `--piece N` (1-based)
  names one; `render --all-pieces` takes each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tabgen.errors import InputError
from tabgen.inputs import check_regular, gunzip, is_gzip_name, read_input
from tabgen.tab.decode import decode_bytes
from tabgen.tab.parse import ParseResult, join_staves, parse_text
from tabgen.tab.types import Tab

PathLike = str | os.PathLike[str]

GUITAR_PRO_SUFFIXES = frozenset({".gp3", ".gp4", ".gp5"})
# text files by name (and files without a suffix): what the corpus looks for in a folder
TEXT_SUFFIXES = frozenset({".txt", ".tab", ".md", ".html", ".htm", ".rst", ".text", ".gz"})


def is_guitar_pro(path: PathLike) -> bool:
    return Path(path).suffix.lower() in GUITAR_PRO_SUFFIXES


@dataclass
class Source(ParseResult):
    """What one file holds: `tabs` (its staves, or its tracks when `tracks`) in order, and the
    diagnostics of reading it."""

    tracks: bool = False  # a Guitar Pro file: each of `tabs` is a track, sounding with the others

    @property
    def what(self) -> str:
        """What a piece of this file is called: "track" or "piece"."""
        return "track" if self.tracks else "piece"

    def pieces(self) -> list[Tab]:
        """The file's pieces in order (the module's rule): its tracks, or its staves joined."""
        return list(self.tabs) if self.tracks else join_staves(self.tabs)

    def left_out(self) -> list[str]:
        """The diagnostics about notes that were left out (frets past the limit in a Guitar Pro file)."""
        return [str(d) for d in self.diagnostics if "left out" in d.message]


def read_file(path: PathLike) -> Source:
    """Read one tab file: text in any encoding, ``.gz``, or ``.gp3 .gp4 .gp5`` (one Tab per guitar
    or bass track). InputError for a missing file, a folder, a FIFO, binary data or a damaged file."""
    name = str(path)
    check_regular(path)  # a missing file, a folder, a FIFO, a device, a symlink loop: named as such
    if is_guitar_pro(path):
        # imported here: pyguitarpro takes about 0.1 s to import, which reading text need not pay
        from tabgen.sources.guitarpro import read_gp_result

        found = read_gp_result(path)
        return Source(found.tabs, found.diagnostics, tracks=True)
    data = read_input(path)  # at most TABGEN_MAX_INPUT_MB, and so is what a .gz unpacks to
    if is_gzip_name(path):
        data = gunzip(data, name)
    found = parse_text(decode_bytes(data, name), name)
    return Source(found.tabs, found.diagnostics)


def _read_pieces(path: PathLike) -> tuple[Source, list[Tab]]:
    source = read_file(path)
    if not source.tabs:
        why = f" ({source.diagnostics[0]})" if source.diagnostics else ""
        what = "guitar or bass track" if source.tracks else "tab staves"
        raise InputError(f"{path}: no {what} found{why}")
    return source, source.pieces()


def load_pieces(path: PathLike) -> list[Tab]:
    """The pieces of a tab file in order (the module's rule); InputError when there is none."""
    return _read_pieces(path)[1]


def load_piece(path: PathLike, number: int | None = None) -> tuple[Tab, str]:
    """The one piece of a tab file to render or continue, and a note on what was chosen or left out
    (empty when neither): piece `number` (1-based) of `load_pieces`, else as the module's rule says."""
    source, pieces = _read_pieces(path)
    notes = source.left_out()
    if number is not None:
        if not 1 <= number <= len(pieces):
            raise InputError(
                f"{path}: no {source.what} {number}; the file has {len(pieces)} (1..{len(pieces)})"
            )
        return pieces[number - 1], "\n".join(notes)
    tab, note = _choose(pieces, source.what)
    return tab, "\n".join(([note] if note else []) + notes)


def _choose(pieces: list[Tab], what: str) -> tuple[Tab, str]:
    """The piece to take when none was named, and a note on the choice."""
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
