"""What `tabgen check` tells about a file: a JSON-ready dict, or a rich table for people."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tabgen.tab.parse import ParseResult
from tabgen.tab.types import Tab, pitch_name

MAX_SHOWN_DIAGNOSTICS = 20


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
    notes = " ".join(pitch_name(p) for p in reversed(tab.tuning.pitches))
    return f"{tab.tuning.name} ({notes})" if tab.tuning.name else notes


def report_renderable(path: str, result: ParseResult) -> Group:
    """A readable report: a summary line, one row per stave, then the diagnostics with line numbers."""
    tabs = result.tabs
    bars = sum(len(t.bars) for t in tabs)
    notes = sum(len(t.notes) for t in tabs)
    head = Text.assemble(
        (path, "bold"),
        f": {len(tabs)} staves, {bars} bars, {notes} notes, {len(result.diagnostics)} diagnostics",
    )
    parts: list[Any] = [head]
    if tabs:
        table = Table(box=None, pad_edge=False, header_style="dim")
        for name in ("stave", "line", "title", "meter", "tuning", "bars", "notes"):
            table.add_column(name, justify="right" if name in ("stave", "line", "bars", "notes") else "left")
        for i, t in enumerate(tabs, start=1):
            meter = f"{t.meter[0]}/{t.meter[1]}" if t.meter else ""
            table.add_row(
                str(i), str(t.line), t.title, meter, tuning_text(t), str(len(t.bars)), str(len(t.notes))
            )
        parts.append(table)
    else:
        parts.append(Text("no tab staves found", style="yellow"))
    for d in result.diagnostics[:MAX_SHOWN_DIAGNOSTICS]:
        where = f"line {d.line}" + (f":{d.column}" if d.column else "")
        parts.append(Text.assemble(("  " + where, "cyan"), f": {d.message}"))
    hidden = len(result.diagnostics) - MAX_SHOWN_DIAGNOSTICS
    if hidden > 0:
        parts.append(Text(f"  ... and {hidden} more diagnostics (--json lists them all)", style="dim"))
    return Group(*parts)
