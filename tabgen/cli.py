"""The `tabgen` command line: one Typer app. Each command is a thin call into the library;
tabgen's own errors become one clear line on stderr and a non-zero exit code.

Start-up time counts (`tabgen render --midi` of a long piece is a fraction of a second of work), so
this module imports only typer: rich's Console is made on first use, and each command imports what
it needs."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from tabgen.compose import DEFAULT_CANDIDATES, DEFAULT_TEMPERATURE
from tabgen.errors import InputError, TabgenError
from tabgen.render.settings import DEFAULT_TEMPO, MAX_TEMPO, MIN_TEMPO

if TYPE_CHECKING:
    from rich.console import Console

    from tabgen.tab.types import Tab

app = typer.Typer(
    help="Learn guitar music from ASCII tablature and compose new pieces.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
)


class LazyConsole:
    """A rich Console made on first use: importing rich takes about 0.1 s, which a command that
    prints only plain lines (`render`, through typer.echo) need not pay."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def get(self) -> Console:
        """The Console itself, for rich objects that take one (a Progress)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


err = LazyConsole(stderr=True, highlight=False, soft_wrap=True)
out = LazyConsole(highlight=False, soft_wrap=True)

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
        except OSError as e:  # what the library did not turn into its own error: still one line
            where = f"{e.filename}: " if e.filename else ""
            err.print(f"[bold red]error:[/] {where}{e.strerror or e}", markup=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        from tabgen import __version__

        typer.echo(f"tabgen {__version__}")
        raise typer.Exit()


def _positive_finite(value: float | None) -> float | None:
    """Typer's range checks let NaN through (every comparison with NaN is false): refuse it here."""
    import math

    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value} is not a positive number")
    return value


# options compose and eval share
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="A checkpoint file or a run folder (default: the bundled model)."),
]
TemperatureOption = Annotated[
    float, typer.Option(min=0.01, max=10.0, callback=_positive_finite, help="Sampling temperature.")
]
TopKOption = Annotated[int | None, typer.Option("--top-k", min=1, help="Sample from the k likeliest.")]


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print tabgen's version and exit."),
    ] = False,
) -> None:
    """tabgen: learn guitar music from ASCII tabs and compose new pieces."""


@app.command()
def check(
    tabs: Annotated[
        list[Path],
        typer.Argument(help="Tab files to read (text, .gz, .gp3 .gp4 .gp5).", metavar="TAB"),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One line of JSON per file (JSON Lines).")] = False,
) -> None:
    """Read tab files and report their staves, tunings, bars, notes and diagnostics.

    Exit 0 when at least one stave was read, 1 when none was or a file could not be read."""
    import json

    from tabgen.cli_report import report_renderable
    from tabgen.sources import read_file
    from tabgen.tab.report import report_dict

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
        typer.Option(
            "--source", help="A music21 collection or mutopia-guitar (repeatable); default: music21's."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N source files per collection.")] = None,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes; default: all cores.")] = None,
    mutopia_dir: Annotated[
        Path | None, typer.Option(help="The Mutopia guitar scores; default: ../shared/mutopia-guitar.")
    ] = None,
) -> None:
    """Turn music21's public-domain tunes and chorales, or Mutopia's guitar scores, into tabs (resumable)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from tabgen import mutopia
    from tabgen.pdcorpus import COLLECTIONS, build

    sources = list(source or COLLECTIONS)

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err.get(),
    ) as progress:
        task = progress.add_task("source files", total=None)
        report = lambda done, total: progress.update(task, completed=done, total=total)  # noqa: E731
        if mutopia.NAME in sources:
            sources.remove(mutopia.NAME)
            manifest = mutopia.build(out_dir, mutopia_dir, limit=limit, jobs=jobs, on_progress=report)
        if sources:
            manifest = build(out_dir, sources, limit=limit, jobs=jobs, on_progress=report)
    built = [*sources, mutopia.NAME] if mutopia.NAME in (source or ()) else sources
    for name, info in manifest["collections"].items():
        if name not in built:
            continue
        skipped = sum(info["skipped"].values())
        out.print(f"{name}: {info['tunes']} tunes, {info['duplicates']} duplicates, {skipped} skipped")
    out.print(f"{sum(manifest['collections'][n]['tunes'] for n in built)} tunes -> {out_dir}")


@app.command()
@friendly_errors
def compose(
    model: ModelOption = None,
    bars: Annotated[int, typer.Option(min=1, max=1024, help="Bars in the piece (exactly).")] = 16,
    tab: Annotated[Path | None, typer.Option("--tab", help="Write the tab text here.")] = None,
    midi: Annotated[Path | None, typer.Option("--midi", help="Write a MIDI file here.")] = None,
    musicxml: Annotated[Path | None, typer.Option("--musicxml", help="Write MusicXML here.")] = None,
    gp5: Annotated[Path | None, typer.Option("--gp5", help="Write a Guitar Pro 5 file here.")] = None,
    wav: Annotated[Path | None, typer.Option("--wav", help="Write audio here (needs FluidSynth).")] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write one page: notation, tab, player, downloads.")
    ] = None,
    svg: Annotated[Path | None, typer.Option("--svg", help="Write the score as SVG (needs verovio).")] = None,
    png: Annotated[
        Path | None, typer.Option("--png", help="Write the score as PNG (needs Chromium).")
    ] = None,
    temperature: TemperatureOption = DEFAULT_TEMPERATURE,
    top_k: TopKOption = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, help="Random seed: same seed, same piece (default: a fresh one, printed)."),
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="The piece's title (default: what made it, model and seed).")
    ] = None,
    prime: Annotated[
        Path | None, typer.Option("--prime", help="A tab file to continue (its bars count toward --bars).")
    ] = None,
    tempo: Annotated[
        float, typer.Option(min=MIN_TEMPO, max=MAX_TEMPO, help="Beats per minute for MIDI/MusicXML.")
    ] = DEFAULT_TEMPO,
    tuning: Annotated[
        str | None,
        typer.Option(
            help='A named tuning (standard, drop-d, dadgad, ...) or its notes, low to high: "D A D G B E", '
            'DADGBE or "D2 A2 D3 G3 B3 E4"; default: the model\'s.'
        ),
    ] = None,
    meter: Annotated[
        str | None, typer.Option(help="Time signature such as 3/4 or 6/8 (default 4/4).")
    ] = None,
    candidates: Annotated[
        int, typer.Option(min=1, max=64, help="Samples to choose the best from.")
    ] = DEFAULT_CANDIDATES,
    style: Annotated[
        str | None,
        typer.Option(
            help="A style the model learned (guitar, folk, chorale, or one named with train --style); "
            "default: the one it was fine-tuned in, else guitar."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show candidates and repairs.")] = False,
) -> None:
    """Compose a new piece and print its tab; write tab, MIDI, MusicXML, Guitar Pro or WAV files if asked."""
    from tabgen.tab.write import to_text

    asked = dict(bars=bars, temperature=temperature, top_k=top_k, candidates=candidates, style=style)
    piece = _compose_piece(model, seed, title, prime, tuning, meter, verbose, asked)
    out.print(to_text(piece), markup=False, emoji=False, end="")
    outputs = dict(text=tab, midi=midi, musicxml=musicxml, gp5=gp5, wav=wav, html=html, svg=svg, png=png)
    for path in _write_piece(piece, tempo, **outputs):
        err.print(f"wrote {path}", markup=False)


def _compose_piece(
    model: Path | None,
    seed: int | None,
    title: str | None,
    prime: Path | None,
    tuning: str | None,
    meter: str | None,
    verbose: bool,
    options: dict[str, Any],
) -> Tab:
    """tabgen.compose.compose with the command's options parsed, errors naming the option or file;
    a drawn seed (and with `verbose` the candidates and repairs) printed on stderr."""
    from dataclasses import replace

    from tabgen.compose import compose as run_compose
    from tabgen.compose import describe, parse_meter, read_prime
    from tabgen.tab.labels import parse_tuning

    drawn = seed is None
    if seed is None:
        import random

        seed = random.SystemRandom().randrange(2**31)
    try:
        asked = parse_tuning(tuning) if tuning else None
    except TabgenError as e:
        raise TabgenError(f"--tuning: {e}") from None
    try:
        result = run_compose(
            model,
            tuning=asked,
            meter=parse_meter(meter) if meter else None,
            seed=seed,
            prime=read_prime(prime) if prime else None,
            **options,
        )
    except TabgenError as e:  # a prime that does not fit the piece: say which file
        if prime is None or "prime" not in str(e) or str(prime) in str(e):
            raise
        raise TabgenError(f"{prime}: {e}") from None
    if drawn:  # after the piece is made: a failure stays one line
        err.print(f"seed {seed} (--seed {seed} makes this piece again)", markup=False)
    if verbose:
        for line in describe(result):
            err.print(line, markup=False)
    return replace(result.tab, title=title if title is not None else composed_title(model, seed))


def _write_piece(piece: Tab, tempo: float, *, text: Path | None, midi: Path | None, musicxml: Path | None,
                 gp5: Path | None, wav: Path | None, html: Path | None, svg: Path | None,
                 png: Path | None) -> list[Path]:  # fmt: skip
    """Write the composed piece's files: those of render_files, the HTML page, the pictures."""
    from tabgen.render.piece import render_files

    written = render_files(piece, text=text, midi=midi, musicxml=musicxml, gp5=gp5, wav=wav, tempo=tempo)
    if html is not None:
        written.append(_write_page(piece, html, tempo))
    if svg is not None or png is not None:
        from tabgen.render.svg import write_pictures

        written += write_pictures(piece, svg=svg, png=png, tempo_bpm=tempo)
    return written


def composed_title(model: Path | None, seed: int) -> str:
    """What made a composed piece, as its default title: 'Composed by tabgen (bundled model, seed 7)'."""
    return f"Composed by tabgen ({model.name if model is not None else 'bundled model'}, seed {seed})"


@app.command("eval")
@friendly_errors
def eval_command(
    model: ModelOption = None,
    samples: Annotated[int, typer.Option(min=1, max=10_000, help="Pieces to sample.")] = 32,
    bars: Annotated[int, typer.Option(min=4, max=256, help="Bars per piece.")] = 16,
    temperature: TemperatureOption = DEFAULT_TEMPERATURE,
    top_k: TopKOption = None,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    candidates: Annotated[
        int, typer.Option(min=1, max=64, help="Each masked piece the best of K, as compose chooses.")
    ] = DEFAULT_CANDIDATES,
    style: Annotated[str | None, typer.Option(help="The style to ask for (default: the model's).")] = None,
    meter: Annotated[str | None, typer.Option(help="Time signature of the pieces (default 4/4).")] = None,
    tuning: Annotated[
        str | None, typer.Option(help="A named tuning or the open strings as notes; default: the model's.")
    ] = None,
    form: Annotated[
        bool, typer.Option("--form/--no-form", help="Choose among candidates by form too, as compose does.")
    ] = True,
    corpus: Annotated[
        Path | None,
        typer.Option(
            help="The training tabs (or their prepared folder), when the checkpoint's are not on disk."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
) -> None:
    """Sample pieces and report validity, playability, novelty, form and musical statistics."""
    import json

    from rich.progress import Progress

    from tabgen.compose import parse_meter
    from tabgen.evaluate import evaluate, report_lines
    from tabgen.tab.labels import parse_tuning

    with Progress(console=err.get(), transient=True) as bar:
        task = bar.add_task("sampling", total=samples * (1 + candidates))
        report = evaluate(
            model,
            samples=samples,
            bars=bars,
            temperature=temperature,
            top_k=top_k,
            seed=seed,
            candidates=candidates,
            corpus=corpus,
            style=style,
            meter=parse_meter(meter) if meter else None,
            tuning=parse_tuning(tuning) if tuning else None,
            form=form,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    if as_json:
        out.print(json.dumps(report), markup=False, soft_wrap=True)
    else:
        for line in report_lines(report):
            out.print(line, markup=False)


# --- train ------------------------------------------------------------------------------------------------


def _print_corpus_summary(summary: dict) -> None:
    """Files read and skipped (with reasons), staves, pieces, bars and the split (Prepared.summary())."""
    pieces, bars, chars = summary["pieces"], summary["bars"], summary["chars"]
    out.print(
        f"corpus ({summary['format']} format{', cached' if summary['cached'] else ''}): "
        f"{summary['files_read']} files read, {len(summary['files_skipped'])} skipped; "
        f"{summary['staves']} staves, {pieces['total']} pieces ({pieces.get('duplicates', 0)} duplicates), "
        f"{bars['total']:,} bars; train {bars['train']:,} bars / {chars['train']:,} chars, "
        f"validation {bars['val']:,} bars / {chars['val']:,} chars"
    )
    if replay := summary.get("replay"):
        names = ", ".join(Path(f).name for f in replay["files"])
        out.print(
            f"  and replayed, in training only, from {names}: {replay['pieces']} pieces, "
            f"{replay['bars']:,} bars / {replay['chars']:,} chars (--replay {replay['share']:g}; "
            "--replay 0 leaves them out)"
        )
        if chords := replay.get("chord_share"):  # corpora prepared before the likeness order lack it
            out.print(
                "  taken most like your tabs first (meter, tuning, texture): "
                f"{100 * chords['replayed']:.0f}% of their onsets are chords, "
                f"of yours {100 * chords['user']:.0f}%"
            )
    for path, reason in summary["files_skipped"]:
        out.print(f"  skipped {path}: {reason}", markup=False)


def _prepare_with_progress(
    prepare: Callable[..., Any], paths: list[Path], fmt: str, show: bool, **options: Any
) -> Any:
    """corpus.prepare with a transient progress bar over the files read."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]reading tabs"), BarColumn(), MofNCompleteColumn(), console=err.get(),
        transient=True, disable=not show,
    ) as progress:  # fmt: skip
        task = progress.add_task("read", total=None)
        return prepare(
            paths,
            fmt,
            progress=lambda done, total, _: progress.update(task, completed=done, total=total),
            **options,
        )


class _TrainProgress:
    """Turns train()'s progress events into a rich progress bar (loss, val bpc, chars/s, ETA)."""

    def __init__(self, show: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

        self.show = show
        self.progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  val bpc {task.fields[val]}  {task.fields[cps]} chars/s"),
            TextColumn("ETA {task.fields[eta]}"),
            console=out.get(),
            transient=False,
            disable=not show,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> _TrainProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, e: dict) -> None:
        kind = e["event"]
        if kind == "start" and self.show:
            m = e["model"]
            self.progress.console.print(
                f"model: {m['layers']} x {m['hidden']} LSTM, {e['params']:,} parameters on {e['device']}"
                + (f" x {e['world_size']} ranks" if e["world_size"] > 1 else "")
                + (" (resumed)" if e["resumed"] else "")
            )
            for note in e["notes"]:
                self.progress.console.print(f"note: {note}")
            self.task = self.progress.add_task(
                "train", total=e["total_steps"], completed=e["step"], loss="-", val="-", cps="-", eta="-"
            )
        elif kind == "step" and self.task is not None:
            eta = int(e["eta"])
            self.progress.update(
                self.task,
                completed=e["step"],
                total=e["total_steps"],
                loss=f"{e['loss']:.3f}",
                val=f"{e['val_bpc']:.3f}" if e["val_bpc"] is not None else "-",
                cps=f"{e['chars_per_sec']:,.0f}",
                eta=f"{eta // 60}:{eta % 60:02d}",
            )
        elif kind == "eval" and self.task is not None:
            self.progress.update(self.task, val=f"{e['val_bpc']:.3f}")


@app.command()
@friendly_errors
def train(
    ctx: typer.Context,
    data: Annotated[list[Path], typer.Argument(help="Folders or files of tabs to learn from.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Run folder: checkpoints, metrics.json, loss.png.")
    ] = Path("runs/tabgen"),
    steps: Annotated[int | None, typer.Option(help="Optimizer steps to train (default 2000).")] = None,
    minutes: Annotated[float | None, typer.Option(help="Train for this many minutes instead.")] = None,
    size: Annotated[
        str | None,
        typer.Option(
            help="Model size: small, base or large (default base; from scratch only; on --resume the run's)."
        ),
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Fine-tune this checkpoint or run folder, 'bundled', or 'none' (from scratch). "
            "Default: the bundled model when the tabs are under 1 MB.",
        ),
    ] = None,
    style: Annotated[
        str | None,
        typer.Option(help="Your name for the style of these tabs (compose --style NAME asks for it)."),
    ] = None,
    patience: Annotated[
        int, typer.Option(min=0, help="Stop after this many validations without a new best (0: never).")
    ] = 5,
    replay: Annotated[
        float | None,
        typer.Option(
            help="Share of the training text taken from the shipped guitar corpus (the pieces most like "
            "yours), to keep what the model knew (default 0.25 fine-tuning, 0 from scratch)."
        ),
    ] = None,
    format: Annotated[str | None, typer.Option("--format", help="The model's text format.")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out where it stopped.")
    ] = False,
    device: Annotated[
        str, typer.Option(help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps.")
    ] = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1337,
    batch: Annotated[
        int | None,
        typer.Option(min=1, help="Sequences per step, per rank under torchrun (default 32, 16 fine-tuning)."),
    ] = None,
    seq_len: Annotated[int, typer.Option("--seq-len", help="Characters per sequence per step.")] = 128,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default 3e-3).")] = None,
    eval_interval: Annotated[
        int | None,
        typer.Option(
            "--eval-interval", help="Steps between validations (default: once a pass, at most 250)."
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="CPU threads (default: the cores other processes leave idle).")
    ] = None,
) -> None:
    """Train a model on your tabs (runs under torchrun for several processes or GPUs)."""
    from tabgen import finetune
    from tabgen.train import distributed
    from tabgen.train import train as run_training

    params = {**ctx.params, "data": data, "out_dir": out_dir}  # click's values, with typer's Paths
    source = _train_source(from_, data, format, size, resume, out_dir)
    share = finetune.replay_share(replay, source)
    style_name, letter = finetune.style_for(source, style, share)
    with distributed(device) as ranks:  # rank 0 prepares the corpus first, then all ranks train
        cfg = _train_config(params, source, style_name, letter, share, show=ranks.main)
        with _TrainProgress(show=ranks.main) as progress:
            metrics = run_training(cfg, on_progress=progress)
    if not ranks.main:
        return
    _print_run(metrics, out_dir, style_name)
    if metrics["interrupted"]:
        # a style replay named is read from the run; one the user named is given again
        resume_with = _resume_command(ctx, {**params, "style": style_name if style else None})
        out.print(f"interrupted: checkpoint saved. resume with: {resume_with}")
        # like a shell: 128 + the signal's number, so a script tells an interrupted run from a finished one
        raise typer.Exit(143 if metrics["stop_reason"] == "SIGTERM" else 130)


def _train_config(
    params: dict[str, Any], source: Any, style: str | None, letter: str | None, share: float, show: bool
) -> Any:
    """Prepare the corpus (rank 0 first: the others then find it in the cache), print its summary and
    make the TrainConfig of the `train` command's options."""
    from tabgen import finetune
    from tabgen.corpus import prepare
    from tabgen.formats import DEFAULT_FORMAT
    from tabgen.train import TrainConfig, rank_zero_first, run_format

    p = params
    resumed_format = run_format(p["out_dir"]) if p["resume"] and p["out_dir"].is_dir() else None
    fmt = p["format"] or source.format or resumed_format or DEFAULT_FORMAT
    if show and source.note:
        out.print(source.note)
    options = dict(version=source.format_version, style=style, style_letter=letter)
    options.update(replay=finetune.replay_files() if share else None, replay_share=share)
    prepared = rank_zero_first(lambda: _prepare_with_progress(prepare, p["data"], fmt, show=show, **options))
    if show:
        _print_corpus_summary(prepared.summary())
    peak, warmup = finetune.schedule(p["lr"], source)
    return TrainConfig(
        data=prepared.dir, out_dir=p["out_dir"], steps=p["steps"], minutes=p["minutes"], size=p["size"],
        batch=finetune.batch_size(p["batch"], source), seq_len=p["seq_len"], eval_interval=p["eval_interval"],
        lr=peak, warmup=warmup, dropout=finetune.dropout(source),
        device=p["device"], seed=p["seed"], resume=p["resume"], format=fmt, threads=p["threads"],
        init_from=source.path if not p["resume"] else None, patience=p["patience"],
    )  # fmt: skip


def _print_run(metrics: dict, out_dir: Path, style: str | None) -> None:
    bpb = metrics["val_bits_per_bar"]
    out.print(
        f"steps {metrics['steps']:,}  val bpc {metrics['val_bpc'] or float('nan'):.3f}"
        + (f"  val bits/bar {bpb:.1f}" if bpb else "")
        + f"  {metrics['chars_per_sec']:,.0f} chars/s  {metrics['seconds']:.0f} s"
    )
    for line in _fit_summary(metrics):
        out.print(line)
    out.print(f"run folder: {out_dir}  (compose --model {out_dir}" + (f" --style {style})" if style else ")"))


# The `train` options an interrupted run must be given again to resume as it would have gone on (the same
# threads keep it bit-identical). Their flags and defaults are read from the command's own definition,
# the one table of them: an option given at its default is left out.
RESUMED_OPTIONS = (
    "steps", "minutes", "size", "style", "patience", "replay", "format", "device", "seed", "batch", "seq_len",
    "lr", "eval_interval", "threads",
)  # fmt: skip


def _resume_command(ctx: typer.Context, values: dict[str, Any]) -> str:
    """The command line that resumes this run: its tabs, --out, the RESUMED_OPTIONS whose `values`
    differ from their defaults, --resume."""
    import os
    import shlex

    args = [str(p) for p in values["data"]] + ["--out", str(values["out_dir"])]
    for param in ctx.command.params:
        value = values.get(param.name or "")
        if param.name in RESUMED_OPTIONS and value is not None and value != param.default:
            args += [param.opts[0], str(value)]
    prog = "torchrun ... -m tabgen train" if os.environ.get("WORLD_SIZE") else "tabgen train"
    return f"{prog} {shlex.join(args)} --resume"


def _train_source(
    spec: str | None, data: list[Path], fmt: str | None, size: str | None, resume: bool, out_dir: Path
) -> Any:
    """What the run starts from (tabgen.finetune.resolve_source); a resumed run reads its format and
    styles from its own last.pt instead."""
    from tabgen import finetune
    from tabgen.checkpoint import load_checkpoint

    last = out_dir / "last.pt"
    if not resume or not last.is_file():
        return finetune.resolve_source(spec, data, fmt, size)
    return finetune.resumed_source(load_checkpoint(last))


def _fit_summary(metrics: dict) -> list[str]:
    """How the run went over the data: passes, where validation was best, why it stopped."""
    lines = []
    best, bpb = metrics.get("best_step"), metrics.get("best_val_bits_per_bar")
    if metrics.get("passes") is not None:
        line = f"{metrics['passes']:.1f} passes over the training data"
        if best is not None:
            line += f"; validation best at step {best:,}: {metrics['best_val_bpc']:.3f} bits/char" + (
                f", {bpb:.1f} bits/bar" if bpb else ""
            )
        lines.append(line + " (best.pt)")
    if metrics.get("stop_reason") == "patience":
        lines.append(
            f"stopped early at step {metrics['steps']:,}: validation did not improve in "
            f"{metrics['patience']} evaluations (it was overfitting; --patience 0 trains on)"
        )
    elif best is not None and best < metrics["steps"]:
        lines.append(f"validation was no better after step {best:,}: the last steps may have overfitted")
    return lines


@app.command()
@friendly_errors
def render(
    tab: Annotated[Path, typer.Argument(help="A tab file (text, or .gp3/.gp4/.gp5).")],
    midi: Annotated[Path | None, typer.Option(help="Write a MIDI file.")] = None,
    musicxml: Annotated[Path | None, typer.Option(help="Write MusicXML with a TAB staff.")] = None,
    tab_only: Annotated[bool, typer.Option(help="MusicXML with the TAB staff only.")] = False,
    gp5: Annotated[Path | None, typer.Option(help="Write a Guitar Pro 5 file.")] = None,
    wav: Annotated[Path | None, typer.Option(help="Write audio (needs FluidSynth).")] = None,
    text: Annotated[Path | None, typer.Option("--tab", help="Write the canonical stave text.")] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write one page: notation, tab, player, downloads.")
    ] = None,
    svg: Annotated[Path | None, typer.Option(help="Write the score as SVG (needs verovio).")] = None,
    png: Annotated[
        Path | None, typer.Option(help="Write the score as PNG (needs verovio, Chromium).")
    ] = None,
    tempo: Annotated[
        float | None,
        typer.Option(
            help=f"Beats (quarter notes) per minute (default: the tab's Tempo: line, else {DEFAULT_TEMPO:g})."
        ),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title for the score (default: the tab's).")] = None,
    piece_number: Annotated[
        int | None, typer.Option("--piece", help="Render piece N of the file (1 = the first).")
    ] = None,
    all_pieces: Annotated[
        bool,
        typer.Option(
            help="Render every piece of the file, numbering the outputs (out-1.mid, out-2.mid, ...)."
        ),
    ] = False,
) -> None:
    """Render a tab to MIDI, MusicXML, Guitar Pro or WAV; with no output given, print its stave text."""
    from dataclasses import replace

    from tabgen.render.piece import numbered, piece_tempo, render_files
    from tabgen.sources import load_piece, load_pieces

    if all_pieces and piece_number is not None:
        raise typer.BadParameter("give --piece N or --all-pieces, not both")
    if all_pieces:
        pieces: list[tuple[int | None, Tab]] = list(enumerate(load_pieces(tab), 1))
    else:
        piece, note = load_piece(tab, piece_number)
        if note:
            typer.echo(note, err=True)
        pieces = [(None, piece)]
    for number, piece in pieces:
        if title is not None:
            piece = replace(piece, title=title)
        if not any((midi, musicxml, gp5, wav, text, html, svg, png)):
            from tabgen.tab.normalize import normalize
            from tabgen.tab.write import to_text

            out.print(to_text(normalize(piece)), markup=False)
            continue
        paths = {"text": text, "midi": midi, "musicxml": musicxml, "gp5": gp5, "wav": wav}
        pictures = {"html": html, "svg": svg, "png": png}
        if number is not None:
            paths = {k: None if v is None else numbered(v, number) for k, v in paths.items()}
            pictures = {k: None if v is None else numbered(v, number) for k, v in pictures.items()}
        bpm = piece_tempo(piece, tempo)
        for path in render_files(piece, **paths, tempo=bpm, tab_only=tab_only):
            typer.echo(f"wrote {path}", err=True)  # stdout may be an output (/dev/stdout)
        if pictures["html"] is not None:
            typer.echo(f"wrote {_write_page(piece, pictures['html'], bpm)}", err=True)
        if pictures["svg"] is not None or pictures["png"] is not None:
            from tabgen.render.svg import write_pictures

            for path in write_pictures(piece, svg=pictures["svg"], png=pictures["png"], tempo_bpm=bpm):
                typer.echo(f"wrote {path}", err=True)


def _write_page(piece: Any, path: Path, tempo: float) -> Path:
    from tabgen.view.page import tab_bundle, write_html

    write_html(tab_bundle(piece, path.stem, tempo), path)
    return path


@app.command()
@friendly_errors
def view(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A tab (text or .gp3-.gp5), a MusicXML file, or a checkpoint or run folder to compose "
            "a piece with (default: the bundled model)."
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free one).")] = 0,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    tempo: Annotated[float, typer.Option(help="Beats (quarter notes) per minute.")] = DEFAULT_TEMPO,
    bars: Annotated[int, typer.Option(min=1, max=1024, help="Bars of a composed piece.")] = 16,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed of a composed piece.")] = None,
) -> None:
    """Show a piece in the browser: notation over TAB, playback with a cursor, loop, tempo, downloads."""
    from tabgen.view import alphatab, serve
    from tabgen.view.page import file_bundle, tab_bundle

    if file is not None and not file.exists():
        raise InputError(f"{file}: no such file or folder")
    dist = alphatab.installed()
    if dist is None:
        err.print(f"installing alphaTab {alphatab.VERSION} into {alphatab.cache_dir()} (once) ...")
        dist = alphatab.ensure()
    if file is not None and file.is_file() and file.suffix != ".pt":
        bundle = file_bundle(file, tempo)
    else:
        import random

        from tabgen.compose import compose as run_compose

        seed = random.SystemRandom().randrange(2**31) if seed is None else seed
        result = run_compose(file, bars=bars, seed=seed)
        from dataclasses import replace

        piece = replace(result.tab, title=composed_title(file, seed))
        bundle = tab_bundle(piece, f"piece-{seed}", tempo)
        err.print(f"composed with seed {seed} (tabgen compose --seed {seed} makes it again)")
    if bundle.note:
        err.print(bundle.note)

    def ready(url: str) -> None:
        out.print(f"serving {bundle.title} at {url}  (Ctrl-C to stop)", markup=False)

    serve(bundle, port, open_browser=not no_browser, on_ready=ready, dist=dist)
    err.print("stopped")


def main() -> None:
    app()
