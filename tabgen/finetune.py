"""What a training run starts from (`--from`: a model to fine-tune, or nothing) and the settings for it.

A folder of a few tabs is too little to learn what a tab, a bar and a tune are; a model that already
knows it only has to learn the folder's style. So `tabgen train` starts from the bundled model when the
tab files found add up to less than SMALL_DATA_BYTES and nothing asks otherwise (`--from none`, a
`--size`, or a `--format` the bundled model is not in). A fine-tune keeps the source model's size,
alphabet, format and format version: the data is prepared in that version.

A fine-tune also rehearses (replays) a share of the shipped corpus's guitar collection, in its own
style, beside the user's training pieces (`replay_files`, REPLAY_SHARE; validation is the user's
tabs alone): trained on a few tabs only, the model forgets how to count a bar's slot lines and end
a piece while it learns their style (docs/train.md has the figures). The replayed pieces are the
collection's most like the user's (tabgen.likeness, chosen in tabgen.corpus), since the model also
learns to write what it rehearses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabgen.errors import InputError

SMALL_DATA_BYTES = 1_000_000  # tab files under this (1 MB) fine-tune the bundled model by default
SCRATCH_LR, SCRATCH_WARMUP = 3e-3, 100
# A fine-tune peaks at the from-scratch lr after a short warmup (AdamW's moments start from zero, so a
# few steps of ramp keep the first updates small): on 15 tabs 3e-3 beat 1e-3 and 5e-3 (docs/train.md);
# the replayed share, not a low lr, keeps what the model knew.
FINETUNE_LR, FINETUNE_WARMUP = 3e-3, 20
# The source model's dropout (base: 0.1) is for a corpus of tens of MB; on a few tabs, gone over many
# times, more of it keeps the model from learning them by heart (docs/train.md has the figures).
FINETUNE_DROPOUT = 0.5
DEFAULT_PATIENCE = 5  # validations without a new best before the CLI stops a run
# Of a fine-tune's training characters, from the shipped corpus (`--replay`): the pieces most like the
# user's (tabgen.likeness) keep raw samples valid at 0.25, where pieces taken at random needed 0.4
REPLAY_SHARE = 0.25
# Sequences per step of a fine-tune: a few tabs are gone over many times, and at half the batch of a
# run from scratch (32) the same characters make twice the updates (docs/train.md has the figures)
FINETUNE_BATCH = 16
REPLAY_COLLECTIONS = ("mutopia-guitar",)  # the shipped collections replayed (corpora/NAME.tab.gz)
REPLAY_STYLE = "mine"  # the user's style when a run replays and no --style names it


@dataclass
class Source:
    """Where a run starts. `path` None: from scratch. `note`: one line saying why, for the screen."""

    path: Path | None
    format: str | None = None  # the source model's format name and version (None: from scratch)
    format_version: int | None = None
    vocab: dict | None = None
    note: str = ""
    replay: float | None = None  # a resumed run's own replay share (None: the default for `path`)
    schedule: tuple[float, int] | None = None  # a resumed run's own peak lr and warmup
    style: str | None = None  # a resumed run's own style for the user's tabs
    batch: int | None = None  # a resumed run's own sequences per step


def data_bytes(paths: list[Path]) -> int:
    """The bytes of the tab files under `paths` (as prepare finds them)."""
    from tabgen.corpus import find_tab_files

    return sum(f.stat().st_size for f in find_tab_files(paths))


def resolve_source(
    spec: str | None, paths: list[Path], fmt: str | None = None, size: str | None = None
) -> Source:
    """The model a run starts from: `spec` is a checkpoint file or run folder, "bundled", "none", or
    None (the bundled model for small data, see the module docstring). InputError or CheckpointError
    with one line for a model that cannot be fine-tuned as asked."""
    from tabgen.checkpoint import bundled_model_path, find_checkpoint, load_checkpoint
    from tabgen.errors import TabgenError
    from tabgen.formats import get_format

    if spec is not None and spec.casefold() == "none":
        return Source(None, note="training from scratch (--from none)")
    if spec is None:
        if size is not None:
            return Source(None, note=f"training a new {size} model from scratch (--size given)")
        n = data_bytes(paths)
        if n >= SMALL_DATA_BYTES:
            return Source(None, note=f"{n / 1e6:.1f} MB of tabs: training from scratch")
        path = bundled_model_path()
        if not path.is_file():
            return Source(None, note="no bundled model in this install: training from scratch")
        ckpt = load_checkpoint(path)
        if fmt is not None and fmt != ckpt.format:
            return Source(
                None, note=f"--format {fmt}: the bundled model is {ckpt.format!r}, training from scratch"
            )
        note = (
            f"{n / 1e3:,.0f} kB of tabs (under {SMALL_DATA_BYTES / 1e6:.0f} MB): fine-tuning the bundled "
            f"model ({ckpt.format} v{ckpt.format_version}); --from none trains from scratch"
        )
    else:
        if size is not None:
            raise InputError(f"--size {size} does not apply with --from: a fine-tune keeps the model's size")
        path = bundled_model_path() if spec.casefold() == "bundled" else find_checkpoint(Path(spec))
        ckpt = load_checkpoint(path)
        if fmt is not None and fmt != ckpt.format:
            raise InputError(
                f"{path}: a {ckpt.format!r} model cannot be fine-tuned as --format {fmt}; "
                f"drop --format or pass --format {ckpt.format}"
            )
        note = f"fine-tuning {path} ({ckpt.format} v{ckpt.format_version})"
    try:
        get_format(ckpt.format, ckpt.format_version)
    except TabgenError:
        raise InputError(
            f"{path}: its format {ckpt.format!r} v{ckpt.format_version} is one this tabgen cannot write"
        ) from None
    return Source(path, ckpt.format, ckpt.format_version, dict(ckpt.vocab), note)


def style_for(source: Source, style: str | None, replay: float = 0.0) -> tuple[str | None, str | None]:
    """(style name, header letter) every piece of the user's data is written with: the source model's
    letter for a style it knows, a built-in letter, else the first user letter it does not use.
    Without `style`, a run that replays (`replay` > 0) in a format that carries styles names the
    user's style REPLAY_STYLE: the replayed pieces keep their own letters, and the user's must differ
    from them, or compose's default style would be the replayed collection's."""
    from tabgen.formats import get_format
    from tabgen.sample import new_style_letter

    style = style or source.style
    if not style and replay > 0 and source.format is not None:
        if get_format(source.format, source.format_version).styled:
            style = REPLAY_STYLE
    if not style:
        return None, None
    name = style.strip().casefold()
    if not name or "=" in name or any(c.isspace() for c in name):
        raise InputError(f"--style {style!r}: a style name is one word")
    return name, new_style_letter(source.vocab or {}, name)


def replay_files() -> list[Path]:
    """The shipped corpus files a fine-tune replays (REPLAY_COLLECTIONS), those that are there:
    `corpora/` beside the package in a checkout; none in an install without it."""
    folder = Path(__file__).resolve().parent.parent / "corpora"
    return [f for name in REPLAY_COLLECTIONS if (f := folder / f"{name}.tab.gz").is_file()]


def replay_share(share: float | None, source: Source) -> float:
    """The share of the training text replayed: `share` when given (`--replay`), else REPLAY_SHARE
    for a fine-tune and none from scratch. InputError outside [0, 1)."""
    if share is None and source.replay is not None:
        return source.replay
    if share is None:
        return REPLAY_SHARE if source.path is not None else 0.0
    if not 0 <= share < 1:
        raise InputError(f"--replay {share}: a share of the training text, at least 0 and below 1")
    return share


def dropout(source: Source) -> float | None:
    """The dropout a run trains at: FINETUNE_DROPOUT for a fine-tune, else the model's own (None)."""
    return FINETUNE_DROPOUT if source.path is not None else None


def schedule(lr: float | None, source: Source) -> tuple[float, int]:
    """(peak lr, warmup steps): `lr` when given; a resumed run's own; else the fine-tune's or the
    from-scratch schedule."""
    if source.schedule is not None:
        own_lr, warmup = source.schedule
        return lr or own_lr, warmup
    if source.path is not None:
        return lr or FINETUNE_LR, FINETUNE_WARMUP
    return lr or SCRATCH_LR, SCRATCH_WARMUP


def batch_size(batch: int | None, source: Source) -> int:
    """Sequences per step: `batch` when given; a resumed run's own; FINETUNE_BATCH for a fine-tune;
    else TrainConfig's default (from scratch)."""
    from tabgen.train import TrainConfig

    if batch is not None:
        return batch
    if source.batch is not None:
        return source.batch
    return FINETUNE_BATCH if source.path is not None else TrainConfig.batch


def resumed_source(ckpt: Any) -> Source:
    """What a resumed run starts from: its own format, styles (and the user's), replay share and
    schedule, so it reads the same text the same way."""
    config = (ckpt.train_state or {}).get("config") or {}
    own = (float(config["lr"]), int(config["warmup"])) if "lr" in config and "warmup" in config else None
    vocab = dict(ckpt.vocab)
    return Source(
        None, ckpt.format, ckpt.format_version, vocab, replay=run_replay_share(ckpt), schedule=own,
        style=vocab.get("default_style"), batch=int(config["batch"]) if "batch" in config else None,
    )  # fmt: skip


def run_replay_share(ckpt: Any) -> float:
    """The replay share a run was prepared with (its checkpoint's prepared corpus), so `--resume`
    reads the same training text; a fine-tune whose prepared corpus is gone: REPLAY_SHARE."""
    import json

    config = (ckpt.train_state or {}).get("config") or {}
    try:
        manifest = json.loads((Path(config["data"]) / "manifest.json").read_text(encoding="utf-8"))
    except (KeyError, TypeError, OSError, ValueError):
        return REPLAY_SHARE if config.get("init_from") else 0.0
    return float((manifest.get("replay") or {}).get("share", 0.0))
