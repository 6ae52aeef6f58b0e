"""The `tabgen` command line: one Typer app. Each command is a thin call into the library;
tabgen's own errors become one clear line on stderr and a non-zero exit code."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

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


def main() -> None:
    app()
