"""The `tabgen` command line: one Typer app. Each command is a thin call into the library;
tabgen's own errors become one clear line on stderr and a non-zero exit code."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from tabgen.errors import TabgenError

app = typer.Typer(
    help="Learn guitar music from ASCII tablature and compose new pieces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Turn a TabgenError into one line on stderr and exit code 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TabgenError as e:
            err.print(f"[bold red]error:[/] {e}", markup=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _root() -> None:
    """tabgen: learn guitar music from ASCII tabs and compose new pieces."""


@app.command()
def check(
    tabs: Annotated[
        list[Path],
        typer.Argument(help="Tab files to read (.txt .tab .md .html .rst, .gz).", metavar="TAB..."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One line of JSON per file (JSON Lines).")] = False,
) -> None:
    """Read tab files and report their staves, tunings, bars, notes and diagnostics.

    Exit 0 when at least one stave was read, 1 when none was or a file could not be read."""
    from tabgen.tab.parse import read_file
    from tabgen.tab.report import report_dict, report_renderable

    staves, failed = 0, False
    for path in tabs:
        try:
            result = read_file(path)
        except TabgenError as e:
            err.print(f"[bold red]error:[/] {e}", markup=True)
            if as_json:
                out.print(json.dumps({"file": str(path), "error": str(e)}), markup=False)
            failed = True
            continue
        staves += len(result.tabs)
        if as_json:
            out.print(json.dumps(report_dict(str(path), result)), markup=False, soft_wrap=True)
        else:
            out.print(report_renderable(str(path), result))
            if not result.tabs:
                err.print(f"[bold red]error:[/] {path}: no tab staves found", markup=True)
    if failed or staves == 0:
        raise typer.Exit(1)


corpus_app = typer.Typer(help="Build the public-domain training corpus.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("build")
@friendly_errors
def corpus_build(
    out_dir: Annotated[Path, typer.Argument(help="Folder for <collection>.tab.gz and manifest.json.")],
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="A music21 collection (repeatable); default: all."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N source files per collection.")] = None,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes; default: all cores.")] = None,
) -> None:
    """Turn music21's bundled public-domain tunes and chorales into guitar tabs (resumable)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from tabgen.pdcorpus import COLLECTIONS, build

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("source files", total=None)
        manifest = build(
            out_dir,
            source or COLLECTIONS,
            limit=limit,
            jobs=jobs,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for name, info in manifest["collections"].items():
        skipped = sum(info["skipped"].values())
        out.print(f"{name}: {info['tunes']} tunes, {info['duplicates']} duplicates, {skipped} skipped")
    out.print(f"{manifest['total']['tunes']} tunes in {manifest['build_seconds']} s -> {out_dir}")


def main() -> None:
    app()
