"""What `tabgen check` prints for people: a summary line, a table of the staves, the diagnostics.

The CLI side of `tabgen.tab.report` (the same facts as `check --json`), drawn with rich, which the
tab model itself never imports."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tabgen.tab.parse import ParseResult
from tabgen.tab.report import tuning_text

MAX_SHOWN_DIAGNOSTICS = 20


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
