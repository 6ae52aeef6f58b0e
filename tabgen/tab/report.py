"""What `tabgen check` tells about a file, as plain data: the JSON-ready dict of `check --json` and
the words for a tuning. (The table for people is drawn with rich on the CLI side: `tabgen.cli_report`.)"""

from __future__ import annotations

from typing import Any

from tabgen.tab.parse import ParseResult
from tabgen.tab.types import Tab, pitch_name


def report_dict(path: str, result: ParseResult) -> dict[str, Any]:
    """The JSON object of DESIGN.md's `check --json`: staves, notes in reading order (stave, bar
    and column are 0-based; column is the column's character offset in its bar; a dead note has
    fret and pitch null) and diagnostics."""
    notes = []
    for i, tab in enumerate(result.tabs):
        for j, bar in enumerate(tab.bars):
            for col in bar.columns:
                for n in col.notes:
                    dead = n.technique == "x"  # a muted hit: no fret, no pitch (its fret 0 is a placeholder)
                    notes.append(
                        {
                            "stave": i,
                            "bar": j,
                            "column": col.position,
                            "string": n.string,
                            "fret": None if dead else n.fret,
                            "pitch": None if dead else tab.pitch(n),
                            "technique": n.technique,
                        }
                    )
    return {
        "file": path,
        "staves": [{"tuning": list(t.tuning.pitches), "bars": len(t.bars)} for t in result.tabs],
        "notes": notes,
        "diagnostics": [
            {"line": d.line, "column": d.column, "message": d.message} for d in result.diagnostics
        ],
    }


def tuning_text(tab: Tab) -> str:
    """'standard (E2 A2 D3 G3 B3 E4)': the tuning's name, if it has one, and its open strings low to high."""
    notes = " ".join(pitch_name(p) for p in reversed(tab.tuning.pitches))
    return f"{tab.tuning.name} ({notes})" if tab.tuning.name else notes
