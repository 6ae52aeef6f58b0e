"""The model's text formats: how a piece is written as characters for the char-level model.

Every format writes one piece as a header line (tuning, meter), a body and an end marker, over one
shared alphabet (`ALPHABET`, index = token id), and brings a `Grammar` that masks sampling so that
every sampled text decodes to a well formed, playable tab with exactly the bars asked for.

- ``time`` (`TimeMajor`): one short line per grid slot; alignment holds by construction.
- ``line`` (`LineMajor`): the article's stave text, one string line after another.

>>> from tabgen.tab.types import Bar, Column, Note, Tab, Tuning
>>> tab = Tab(Tuning.named("standard"), (Bar(12, (Column(0, (Note(1, 0), Note(6, 3))),)),), meter=(3, 4))
>>> print(get_format("time").encode(tab), end="")
%E2A2D3G3B3E4 3/4
0----3
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
<BLANKLINE>
|0
$
"""

from __future__ import annotations

from tabgen.errors import TabValueError
from tabgen.formats.base import ALPHABET, Decoded, Grammar, TextFormat
from tabgen.formats.linemajor import LineMajor
from tabgen.formats.timemajor import TimeMajor

FORMATS: dict[str, TextFormat] = {f.name: f for f in (TimeMajor(), LineMajor())}
DEFAULT_FORMAT = "time"
# Earlier versions that still read, so that models trained on them keep sampling.
_OLDER: dict[tuple[str, int], TextFormat] = {
    ("time", 1): TimeMajor(version=1),
    ("time", 2): TimeMajor(version=2),  # the bundled model's: the first alphabet, no ghost notes
    ("line", 1): LineMajor(version=1),
}


def get_format(name: str, version: int | None = None) -> TextFormat:
    """The format called `name` (its current version, or `version`); TabValueError listing the
    known ones otherwise."""
    try:
        fmt = FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise TabValueError(f"unknown text format {name!r}; known formats: {known}") from None
    if version is None or version == fmt.version:
        return fmt
    try:
        return _OLDER[(name, version)]
    except KeyError:
        raise TabValueError(f"the {name!r} format has no version {version}") from None


__all__ = ["ALPHABET", "DEFAULT_FORMAT", "FORMATS", "Decoded", "Grammar", "TextFormat", "get_format"]
