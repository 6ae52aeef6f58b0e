"""Tab files to training data: the only module that walks folders.

`prepare` finds the tab files under the given paths, reads each into pieces (`tabgen.sources`: a
text file's staves joined, each track of a Guitar Pro file a piece of its own), normalizes and
encodes them in the model's text format, drops duplicate pieces, splits train/validation and
writes, as nanoGPT's prepare.py does::

    <cache>/<key>/train.bin   raw uint8 token ids (np.memmap-able)
    <cache>/<key>/val.bin
    <cache>/<key>/vocab.json  {"format", "format_version", "alphabet"} (and "styles", "style_letters")
    <cache>/<key>/manifest.json  "hash", "tuning", per-split "bars"/"chars"/"pieces", the files read
                                 and skipped (with reasons)

`tabgen.prepared.load_prepared` is the one reader of that layout: training, novelty and eval go through it.

The key hashes the files' paths, sizes and modification times with the format and its version, so
a second call on unchanged data returns at once. Files are parsed one at a time (in worker
processes when there are many), and pieces are streamed to disk: memory does not grow with the
corpus beyond a small index per piece.

The split keeps a tune on one side: pieces with a title are grouped by title (the same tune in two
files), untitled pieces by the file they come from (split by file, as for a folder of one tune per
file). Groups are ordered by a hash of their key and the seed, and validation takes groups in that
order until it holds `val_fraction` of the pieces (at least one). With one group the pieces are
split one by one; with one piece, its last bars are the validation piece.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tabgen.errors import InputError, TabgenError
from tabgen.formats import DEFAULT_FORMAT, TextFormat, get_format
from tabgen.inputs import read_input
from tabgen.likeness import Profile, Target, distance, profile
from tabgen.novelty import WINDOWS_FILE, digest_array, window_digests
from tabgen.prepared import Prepared, load_prepared
from tabgen.sources import GUITAR_PRO_SUFFIXES as GP_SUFFIXES
from tabgen.sources import TEXT_SUFFIXES, read_file
from tabgen.tab.types import Tab

# bump when the output of prepare changes (2: rhythm from spacing; 3: time v2, windows; 4: each track
# of a Guitar Pro file its own piece)
PREPARE_VERSION = 4

Progress = Callable[[int, int, str], None]  # (files done, files in all, the file just read)


# ---------------------------------------------------------------------------------------------
# Finding files


def _is_candidate(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in TEXT_SUFFIXES or suffix in GP_SUFFIXES or not suffix


def _walk(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(tab files, other files) under `paths`; a file named directly is always a tab file."""
    found: set[Path] = set()
    other: set[Path] = set()
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_file():
            found.add(path)
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # .git, .cache, ...
            for name in files:
                if name.startswith("."):
                    continue
                file = Path(root) / name
                (found if _is_candidate(file) else other).add(file)
    return sorted(found), sorted(other - found)


def find_tab_files(paths: list[Path]) -> list[Path]:
    """Every file under `paths` that may hold tab (by extension, or none), sorted.

    Text (`.txt .tab .md .html .htm .rst .text`, extension-less), gzip text (`.gz`) and Guitar Pro
    (`.gp3 .gp4 .gp5`). Hidden files and folders are left out. A missing path: InputError.
    """
    return _walk(paths)[0]


# ---------------------------------------------------------------------------------------------
# Reading one file (runs in worker processes: plain data in and out)


@dataclass
class _Piece:
    text: str
    title: str
    profile: Profile  # its bars, meter, tuning and texture (tabgen.likeness: which pieces are replayed)
    style: str = ""  # its style's name, "" when it has none
    windows: list[int] = field(default_factory=list)  # digests of its 4-bar windows (tabgen.novelty)


# The style of a piece without a `Style:` line, by the shipped collection its file is (`corpora/`).
COLLECTION_STYLES = {
    "bach": "chorale",
    "airdsAirs": "folk",
    "essenFolksong": "folk",
    "miscFolk": "folk",
    "oneills1850": "folk",
    "ryansMammoth": "folk",
}


def piece_style(piece: Tab, path: Path) -> str:
    """A piece's style name: its `Style:` line, else its collection's, else "" (a known style only)."""
    from tabgen.formats.base import STYLES

    name = dict(piece.meta).get("style", "").strip().casefold()
    if not name:
        stem = path.name.split(".")[0]
        name = COLLECTION_STYLES.get(stem, "") if path.name.endswith(".tab.gz") else ""
    return name if name in STYLES else ""


@dataclass
class _FileResult:
    path: str
    sha256: str = ""
    staves: int = 0
    diagnostics: int = 0
    pieces: list[_Piece] = field(default_factory=list)
    skipped: str = ""  # the reason, when nothing was read
    dropped: list[str] = field(default_factory=list)  # pieces that could not be encoded


def _strip_path(message: str, name: str) -> str:
    return message[len(name) + 2 :] if message.startswith(name + ": ") else message


def _read_one(path_str: str, fmt_name: str, fmt_version: int | None = None, forced: str = "") -> _FileResult:
    """Read one file into pieces. `forced` ("name=letter"): every piece gets that style (a user's own)."""
    from tabgen.formats.base import STYLES
    from tabgen.novelty import window_digests
    from tabgen.tab.normalize import normalize

    fmt = get_format(fmt_name, fmt_version)
    forced_name, _, forced_letter = forced.partition("=")
    out = _FileResult(path_str)
    path = Path(path_str)
    try:
        out.sha256 = hashlib.sha256(read_input(path)).hexdigest()  # a regular file, within the size cap
        source = read_file(path)
    except OSError as e:
        out.skipped = f"unreadable: {e.strerror or e}"
        return out
    except TabgenError as e:
        out.skipped = _strip_path(str(e), path_str)
        return out
    except Exception as e:  # a reader bug must not stop a corpus of thousands of files
        out.skipped = f"reader failed: {type(e).__name__}: {e}"
        return out
    out.staves, out.diagnostics = len(source.tabs), len(source.diagnostics)
    if not source.tabs:
        out.skipped = "no stave found"
        return out
    for piece in source.pieces():
        if not piece.notes:
            continue
        style = (forced_name or piece_style(piece, path)) if fmt.styled else ""
        try:
            piece = normalize(piece)
            text = fmt.encode(piece, forced_letter if forced_name else STYLES.get(style))
        except TabgenError as e:
            out.dropped.append(f"piece at line {piece.line}: {e}")
            continue
        wins = window_digests(piece)
        out.pieces.append(_Piece(text, piece.title, profile(piece), style, wins))
    if not out.pieces:
        out.skipped = "no notes in its staves" if not out.dropped else f"cannot encode: {out.dropped[0]}"
    return out


def _read_all(files: list[Path], fmt: TextFormat, workers: int, forced: str = "") -> Iterator[_FileResult]:
    names = [str(f) for f in files]
    if workers <= 1 or len(files) < 2 * workers:
        yield from (_read_one(n, fmt.name, fmt.version, forced) for n in names)
        return
    n = len(names)
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(_read_one, names, [fmt.name] * n, [fmt.version] * n, [forced] * n, chunksize=8)


def default_cache_root() -> Path:
    """``$TABGEN_CACHE/prepared``, else ``~/.cache/tabgen/prepared``."""
    base = os.environ.get("TABGEN_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "tabgen") / "prepared"


def _hash_files(h: Any, files: list[Path]) -> None:
    for f in files:
        try:
            st = f.stat()
            where, size, mtime = f.resolve(), st.st_size, st.st_mtime_ns
        except (OSError, RuntimeError):  # a dangling symlink or a loop: skipped when read, with the reason
            where, size, mtime = f.absolute(), -1, 0
        h.update(f"{where}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))


def cache_key(
    files: list[Path],
    fmt: TextFormat,
    val_fraction: float,
    seed: int,
    forced: str = "",
    replay: list[Path] | None = None,
    replay_share: float = 0.0,
) -> str:
    """Hash of what the output depends on: each file's path, size and mtime, the format, the split
    (and a forced style, "name=letter"; the replayed files and their share)."""
    h = hashlib.sha256(_options_line(fmt, val_fraction, seed, forced, replay_share).encode())
    _hash_files(h, files)
    if replay:
        h.update(b"replay\n")  # which files are the user's and which are replayed
        _hash_files(h, replay)
    return h.hexdigest()[:24]


def prepare(
    paths: list[Path],
    fmt: str = DEFAULT_FORMAT,
    cache_dir: Path | None = None,
    val_fraction: float = 0.05,
    seed: int = 0,
    progress: Progress | None = None,
    workers: int | None = None,
    version: int | None = None,
    style: str | None = None,
    style_letter: str | None = None,
    replay: list[Path] | None = None,
    replay_share: float = 0.0,
) -> Prepared:
    """Prepare the tab files under `paths` for training (see the module docstring).

    `cache_dir` is the folder that holds prepared corpora (default `default_cache_root()`); the
    result goes to ``cache_dir/<key>``. `workers`: parsing processes (default: the CPUs, at most 8).
    `version`: of the format (default its current one; a model fine-tuned from an older one reads
    that). `style` with `style_letter`: every piece is written with that style (a user's own name
    for their tabs; formats that carry styles only). `replay` with `replay_share`: tab files (a
    fine-tune's source corpus) whose pieces, in their own styles, make up that share of the training
    text; validation stays the pieces of `paths` alone (see `_choose_replay`). InputError for a
    missing path or when no file holds a usable tab.
    """
    if not 0 < val_fraction < 1:
        raise InputError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    try:
        text_format = get_format(fmt, version)
    except TabgenError as e:
        raise InputError(str(e)) from None
    forced = _forced_style(text_format, style, style_letter)
    if not 0 <= replay_share < 1:
        raise InputError(f"the replay share must be at least 0 and below 1, got {replay_share}")
    paths = [Path(p) for p in paths]
    files, ignored = _walk(paths)
    replay_files = find_tab_files([Path(p) for p in replay or []]) if replay_share > 0 else []
    if not files:
        where = ", ".join(str(p) for p in paths)
        kinds = ", ".join(sorted(TEXT_SUFFIXES | GP_SUFFIXES))
        raise InputError(f"no tab files in {where} (looked for {kinds} and files without an extension)")
    key = cache_key(files, text_format, val_fraction, seed, forced, replay_files, replay_share)
    root = Path(cache_dir) if cache_dir is not None else default_cache_root()
    out = root / key
    if (out / "manifest.json").exists():
        return load_prepared(out)
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=root))
    except OSError as e:
        raise InputError(f"{root}: cannot write the prepared corpus there ({e.strerror or e})") from None
    try:
        manifest = _build(
            files, ignored, paths, text_format, tmp, val_fraction, seed, progress, workers, forced,
            replay_files, replay_share,
        )  # fmt: skip
        manifest["cache_key"] = key
        _write_json(tmp / "manifest.json", manifest)
        try:
            os.rename(tmp, out)
        except OSError:  # another process finished the same corpus first: use theirs
            if not (out / "manifest.json").exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
            return load_prepared(out)
    except OSError as e:  # disk full, a cache folder taken by something else
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError(f"{out}: cannot write the prepared corpus ({e.strerror or e})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Prepared(out, manifest)


def _options_line(fmt: TextFormat, val_fraction: float, seed: int, forced: str, replay_share: float) -> str:
    """The options a prepared corpus depends on, as the first line of its hashes; the parts added
    since PREPARE_VERSION 3 only when used, so the keys of the corpora prepared before stay."""
    extra = f" style {forced}" if forced else ""
    extra += f" replay {replay_share!r} likeness" if replay_share > 0 else ""
    return f"{PREPARE_VERSION} {fmt.name} {fmt.version} {val_fraction!r} {seed}{extra}\n"


def _forced_style(fmt: TextFormat, style: str | None, letter: str | None) -> str:
    """The style every piece is written with, as "name=letter" ("" for none); InputError when the
    format carries no style or the letter is not one a header can hold."""
    from tabgen.formats.base import STYLES, USER_STYLE_LETTERS

    if not style:
        return ""
    if not fmt.styled:
        raise InputError(
            f"the {fmt.name!r} format v{fmt.version} carries no style: --style needs time v2 or later"
        )
    letter = letter or STYLES.get(style)
    if letter is None or letter not in set(STYLES.values()) | set(USER_STYLE_LETTERS):
        raise InputError(f"style {style!r} has no header letter (got {letter!r})")
    if "=" in style:
        raise InputError(f"a style name cannot hold '=': {style!r}")
    return f"{style}={letter}"


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="ascii")  # file names may not be UTF-8


@dataclass
class _Entry:
    """One piece in all.bin: where it is, its size, the key of its split group and its profile."""

    offset: int
    chars: int
    group: str
    profile: Profile
    windows: list[int] = field(default_factory=list)

    @property
    def bars(self) -> int:
        return self.profile.bars


@dataclass
class _Read:
    """What the first pass of `_build` found: the pieces kept (in all.bin's order) and the reports."""

    entries: list[_Entry] = field(default_factory=list)
    seen: set[bytes] = field(default_factory=set)  # the kept pieces' digests (duplicates are dropped)
    read: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)
    staves: int = 0
    duplicates: int = 0
    tunings: Counter[tuple[int, ...]] = field(default_factory=Counter)  # bars per tuning
    styles: Counter[str] = field(default_factory=Counter)  # pieces per style


def _read_pass(
    files: list[Path], fmt: TextFormat, workers: int, forced: str, progress: Progress | None,
    all_bin: Path, content: Any,
) -> _Read:  # fmt: skip
    """Pass 1: every piece once, in file order, into all.bin; `content` hashes the files' bytes."""
    r = _Read()
    offset = 0
    with open(all_bin, "wb") as out:
        for done, result in enumerate(_read_all(files, fmt, workers, forced), start=1):
            if progress:
                progress(done, len(files), result.path)
            content.update(f"{result.sha256}\n".encode())  # bytes in reading order, wherever they lie
            r.dropped += [{"path": result.path, "reason": d} for d in result.dropped]
            if result.skipped:
                r.skipped.append({"path": result.path, "reason": result.skipped})
                continue
            r.staves += result.staves
            kept = 0
            for piece in result.pieces:
                digest = hashlib.blake2b(piece.text.encode(), digest_size=16).digest()
                if digest in r.seen:
                    r.duplicates += 1
                    continue
                r.seen.add(digest)
                ids = fmt.to_ids(piece.text)
                out.write(ids.tobytes())
                title = piece.title.casefold().strip()
                group = f"title:{title}" if title else f"file:{result.sha256}"
                r.entries.append(_Entry(offset, len(ids), group, piece.profile, piece.windows))
                r.tunings[piece.profile.tuning] += piece.profile.bars
                r.styles[piece.style] += 1
                offset += len(ids)
                kept += 1
            r.read.append(
                {
                    "path": result.path,
                    "staves": result.staves,
                    "pieces": len(result.pieces),
                    "new_pieces": kept,
                    "diagnostics": result.diagnostics,
                }
            )
    return r


def _build(
    files: list[Path],
    ignored: list[Path],
    paths: list[Path],
    fmt: TextFormat,
    tmp: Path,
    val_fraction: float,
    seed: int,
    progress: Progress | None,
    workers: int | None,
    forced: str = "",
    replay_files: list[Path] | None = None,
    replay_share: float = 0.0,
) -> dict:
    if workers is None:
        workers = min(os.cpu_count() or 1, 8)
    content = hashlib.sha256(_options_line(fmt, val_fraction, seed, forced, replay_share).encode())
    r = _read_pass(files, fmt, workers, forced, progress, tmp / "all.bin", content)
    entries, seen, skipped, styles = r.entries, r.seen, r.skipped, r.styles
    if not entries:
        where = ", ".join(str(p) for p in paths)
        reasons = sorted({s["reason"] for s in skipped})[:3]
        raise InputError(
            f"no usable tab in {where}: {len(files)} file(s) looked at, none held a readable stave"
            f" ({'; '.join(reasons)})"
        )
    # pass 2: choose the validation pieces, then the replayed pieces, then copy each piece to its side
    splits = _split(entries, val_fraction, seed, fmt, tmp / "all.bin")
    replay = None
    if replay_files and replay_share > 0:
        user = [e for e, v in zip(entries, splits, strict=True) if not v]
        target = Target.of(e.profile for e in user)
        chosen, replay = _add_replay(
            replay_files, fmt, workers, tmp / "all.bin", seen, sum(e.chars for e in user), target,
            replay_share, seed, content,
        )  # fmt: skip
        styles.update(e.group for e in chosen)  # a replayed entry's group is its style
        entries, splits = _interleave(entries, splits, chosen)
    counts = _copy_splits(entries, splits, tmp)
    os.remove(tmp / "all.bin")
    train_windows = (d for e, v in zip(entries, splits, strict=True) if not v for d in e.windows)
    digest_array(train_windows).tofile(tmp / WINDOWS_FILE)
    vocab = {"format": fmt.name, "format_version": fmt.version, "alphabet": fmt.alphabet}
    if fmt.styled:  # the styles a model of this data can be asked for, and how many pieces each
        vocab["styles"] = {name: n for name, n in styles.most_common() if name}
        if forced:  # a user's style: its letter is not in STYLES, so the vocab says it
            name, _, letter = forced.partition("=")
            vocab["style_letters"] = {name: letter}
    _write_json(tmp / "vocab.json", vocab)
    counts["pieces"]["duplicates"] = r.duplicates
    return {
        "prepare_version": PREPARE_VERSION,
        "hash": content.hexdigest(),  # of the files' bytes, the format and the split: what a model saw
        "format": {"name": fmt.name, "version": fmt.version},
        "inputs": [str(p) for p in paths],
        "val_fraction": val_fraction,
        "seed": seed,
        "tuning": list(r.tunings.most_common(1)[0][0]),  # the corpus's usual tuning, highest string first
        "staves": r.staves,
        **counts,  # pieces, bars, chars: {"train", "val", "total"}
        "files": {
            "read": r.read,
            "skipped": skipped,
            "ignored": [{"path": str(f), "reason": f"not a tab file type ({f.suffix})"} for f in ignored],
        },
        "dropped_pieces": r.dropped,
        **({"replay": replay} if replay is not None else {}),
    }


def _add_replay(
    files: list[Path],
    fmt: TextFormat,
    workers: int,
    all_bin: Path,
    seen: set[bytes],
    user_chars: int,
    target: Target,
    share: float,
    seed: int,
    content: Any,
) -> tuple[list[_Entry], dict]:
    """Read the replayed files (each piece in its own style), append to all.bin the pieces chosen
    for training, and return their entries (`group`: the piece's style, as they are never split)
    with the manifest's account of them.

    A fine-tune on a few tabs forgets what the source model knew of writing a tab (counting a bar's
    slot lines, ending a piece) while it learns them; rehearsing a share of the source's own corpus
    keeps it (replay, as in continual learning). The pieces are taken most like the user's training
    pieces first (`target`, tabgen.likeness: meter, tuning, chord share, density; ties in an order
    fixed by the seed) until they make up `share` of the training characters (the user's training
    pieces the rest), because the model learns to write what it rehearses; a piece already among the
    user's (train or validation) is left out, so nothing of validation is trained on."""
    want = share / (1.0 - share) * user_chars
    pieces: list[tuple[bytes, _Piece]] = []
    for result in _read_all(files, fmt, workers):
        content.update(f"replay {result.sha256}\n".encode())
        for piece in result.pieces:
            digest = hashlib.blake2b(piece.text.encode(), digest_size=16).digest()
            if digest not in seen:
                seen.add(digest)
                pieces.append((digest, piece))
    pieces.sort(
        key=lambda dp: (
            distance(dp[1].profile, target),
            hashlib.blake2b(seed.to_bytes(8, "little") + dp[0], digest_size=8).digest(),
        )
    )
    chosen: list[_Entry] = []
    taken = 0
    offset = all_bin.stat().st_size
    with open(all_bin, "ab") as f:
        for _, piece in pieces:
            if taken >= want:
                break
            ids = fmt.to_ids(piece.text)
            f.write(ids.tobytes())
            chosen.append(_Entry(offset, len(ids), piece.style, piece.profile, piece.windows))
            offset += len(ids)
            taken += len(ids)
    replayed = Target.of(e.profile for e in chosen)
    account = {
        "share": share,
        "files": [str(f) for f in files],
        "pieces": len(chosen),
        "bars": sum(e.bars for e in chosen),
        "chars": taken,
        "pieces_available": len(pieces),
        "order": "likeness",  # most like the user's training pieces first (tabgen.likeness)
        # the texture of the user's training pieces and of the pieces replayed beside them
        "chord_share": {"user": target.chord_share, "replayed": replayed.chord_share},
        "notes_per_quarter": {"user": target.notes_per_quarter, "replayed": replayed.notes_per_quarter},
    }
    return chosen, account


def _interleave(
    entries: list[_Entry], is_val: list[bool], replay: list[_Entry]
) -> tuple[list[_Entry], list[bool]]:
    """The user's pieces with the replayed ones spread evenly among their training pieces (by
    characters), so the lanes of a training step read some of both."""
    total = sum(e.chars for e, v in zip(entries, is_val, strict=True) if not v) or 1
    replay_total = sum(e.chars for e in replay) or 1
    out: list[_Entry] = []
    sides: list[bool] = []
    done = replayed = 0
    pending = iter(replay)
    nxt = next(pending, None)
    for e, v in zip(entries, is_val, strict=True):
        out.append(e)
        sides.append(v)
        done += 0 if v else e.chars
        while nxt is not None and (replayed + nxt.chars) / replay_total <= done / total:
            out.append(nxt)
            sides.append(False)
            replayed += nxt.chars
            nxt = next(pending, None)
    rest = ([nxt] if nxt is not None else []) + list(pending)
    return out + rest, sides + [False] * len(rest)


def _hash_rank(key: str, seed: int) -> bytes:
    return hashlib.blake2b(f"{seed}\0{key}".encode("utf-8", "surrogateescape"), digest_size=8).digest()


def _split(
    entries: list[_Entry], val_fraction: float, seed: int, fmt: TextFormat, all_bin: Path
) -> list[bool]:
    """True for each piece that goes to validation. May replace a lone piece by its two halves."""
    if len(entries) == 1:
        _split_lone_piece(entries, val_fraction, fmt, all_bin)
        return [False, True]
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        groups.setdefault(e.group, []).append(i)
    if len(groups) == 1:  # one tune (or one untitled file): split its pieces one by one
        groups = {f"piece:{i}": [i] for i in range(len(entries))}
    target = max(1, math.ceil(val_fraction * len(entries)))
    is_val = [False] * len(entries)
    taken = 0
    for key in sorted(groups, key=lambda k: _hash_rank(k, seed)):
        members = groups[key]
        if taken >= target or taken + len(members) >= len(entries):
            continue  # keep at least one piece for training
        for i in members:
            is_val[i] = True
        taken += len(members)
    if not taken:  # every group too big to move whole: the smallest one goes to validation
        smallest = min(groups.values(), key=len)
        for i in smallest[: len(entries) - 1]:
            is_val[i] = True
    return is_val


def _split_lone_piece(entries: list[_Entry], val_fraction: float, fmt: TextFormat, all_bin: Path) -> None:
    """One piece only: its last bars become the validation piece (appended to all.bin)."""
    e = entries[0]
    with open(all_bin, "rb") as f:
        text = fmt.from_ids(np.frombuffer(f.read(), dtype=np.uint8))
    tab = fmt.decode(text).tab
    if tab is None or len(tab.bars) < 2:
        raise InputError(
            "only one bar of tab found: at least two are needed, to hold one back for validation"
        )
    cut = len(tab.bars) - max(1, math.ceil(val_fraction * len(tab.bars)))
    halves = [Tab(tab.tuning, tab.bars[:cut], tab.meter), Tab(tab.tuning, tab.bars[cut:], tab.meter)]
    from tabgen.formats.base import STYLES

    style = STYLES.get(dict(tab.meta).get("style", ""))
    entries.clear()
    offset = e.offset + e.chars
    with open(all_bin, "ab") as f:
        for half in halves:
            ids = fmt.to_ids(fmt.encode(half, style))
            f.write(ids.tobytes())
            entries.append(_Entry(offset, len(ids), e.group, profile(half), window_digests(half)))
            offset += len(ids)


def _copy_splits(entries: list[_Entry], is_val: list[bool], tmp: Path) -> dict:
    """Copy each piece to train.bin or val.bin; {"pieces"|"bars"|"chars": {"train", "val", "total"}}."""
    counts = {k: {"train": 0, "val": 0, "total": 0} for k in ("pieces", "bars", "chars")}
    with (
        open(tmp / "all.bin", "rb") as src,
        open(tmp / "train.bin", "wb") as train,
        open(tmp / "val.bin", "wb") as val,
    ):
        for e, v in zip(entries, is_val, strict=True):
            src.seek(e.offset)
            (val if v else train).write(src.read(e.chars))
            side = "val" if v else "train"
            for key, n in (("pieces", 1), ("bars", e.bars), ("chars", e.chars)):
                counts[key][side] += n
                counts[key]["total"] += n
    return counts
