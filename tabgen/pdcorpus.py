"""The public-domain training corpus: music21's bundled tunes and chorales as guitar tabs.

One tune becomes one `Tab` in standard tuning:

- the meter gives the slots per bar (`slots_per_bar`: a slot is a sixteenth note, 0.25 quarter
  lengths); a note's slot is its offset in its measure, plus the measure's left padding (a pickup
  bar is padded at its start, so that it ends at the bar's end), times 4. An onset that falls
  between slots (a tuplet, a 32nd note) goes to the nearest slot and is counted; a tune where two
  onsets of the melody then share a slot is skipped (finer than the grid);
- the grid holds onsets only: tied continuations (same pitch) and rests add nothing; grace notes
  are left out (counted);
- texture: a chorale is its soprano plus its bass; a tune with chord symbols gets the chord's root
  as a bass note (E2..D#3) on the strong beats of every bar;
- the whole tune moves by octaves into the guitar's comfortable range when most of it lies outside
  (fiddle tunes sound an octave below the page on guitar, as guitar music is written), then
  `fret_pitches` picks strings and frets; any note it still moves by an octave is counted.

Tunes that fail to parse, have no meter, change meter, have several parts or voices (chorales
aside), or overfull bars are skipped and counted with the reason.

`build` runs the files of each collection through a process pool, caches each file's result in
OUT_DIR/.cache (so an interrupted build resumes), removes duplicate tunes (same staves), and writes
OUT_DIR/<collection>.tab.gz and OUT_DIR/manifest.json, every file atomically.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import multiprocessing
import os
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from tabgen.atomic import atomic_write
from tabgen.errors import InputError
from tabgen.tab.fretting import fret_pitches, naive_fretting
from tabgen.tab.types import Bar, Column, Tab, Tuning, slots_per_bar
from tabgen.tab.write import to_text

BUILD_VERSION = 1  # bump when a tune's text would change: old cache entries are then ignored
COLLECTIONS = ("ryansMammoth", "oneills1850", "essenFolksong", "airdsAirs", "miscFolk", "bach")
STANDARD = Tuning.named("standard")
COMFORT_LOW, COMFORT_HIGH = 40, 76  # E2 .. E5 (fret 12 on the top string)
BASS_LOW = 40  # chord-symbol bass notes sound in E2 .. D#3


class Skip(Exception):
    """A tune the corpus leaves out; the message is the reason counted in the manifest."""


@dataclass
class TuneStats:
    """What the builder did to one tune (summed per collection in the manifest)."""

    notes: int = 0
    bass_notes: int = 0
    tuplets: int = 0  # onsets moved to the nearest slot
    grace_notes: int = 0
    transpose: int = 0  # semitones the whole tune moved (a multiple of 12)
    octave_moves: int = 0  # notes the fretting moved by an octave
    dropped: int = 0  # notes no hand could add to a chord
    cost: float = 0.0
    naive_cost: float = 0.0


@dataclass
class Events:
    """A tune on the grid: per bar, the pitches struck at each slot (melody and bass apart)."""

    meter: tuple[int, int]
    bars: list[dict[int, list[int]]]
    bass: list[dict[int, int]] = field(default_factory=list)
    stats: TuneStats = field(default_factory=TuneStats)


# --- music21 to events -------------------------------------------------------------------------


def _meter(part: Any) -> tuple[int, int]:
    """The tune's meter: its first time signature. Later ones are allowed only on short bars (music21
    marks a bar split by a section mark with its own short signature); a real change is skipped."""
    from music21 import meter

    found = [(ts.numerator, ts.denominator) for ts in part.recurse().getElementsByClass(meter.TimeSignature)]
    if not found:
        raise Skip("no meter")
    m = found[0]
    if m[1] not in (1, 2, 4, 8, 16, 32) or m[0] < 1:
        raise Skip("unusual meter")
    if any(Fraction(b * 4, u) > Fraction(m[0] * 4, m[1]) for b, u in found[1:]):
        raise Skip("meter changes")
    return m


def measure_shifts(part: Any, bar_ql: Fraction) -> list[Fraction]:
    """Per measure, the quarter lengths of grid before the measure's offset 0.

    A full measure starts at the bar's start. A short one is a pickup, padded at its start so that
    it ends at the bar's end, when it comes first or when it completes a bar split in two by a
    section mark (the first half is padded at its end); music21's own paddingLeft wins when set.
    """
    shifts: list[Fraction] = []
    after_short_half = False
    for i, m in enumerate(part.getElementsByClass("Measure")):
        if m.duration.quarterLength > bar_ql:
            raise Skip("overfull bar")
        short = bar_ql - Fraction(m.duration.quarterLength)
        pad = Fraction(m.paddingLeft)
        if not pad and short > 0 and (i == 0 or after_short_half):
            pad = short
        after_short_half = short > 0 and not pad
        shifts.append(pad)
    return shifts


def line_onsets(part: Any, bar_ql: Fraction, slots: int, stats: TuneStats) -> list[dict[int, list[int]]]:
    """Per measure of one single-line part: slot -> pitches struck there.

    An onset between slots goes to the nearest slot (ties to the earlier one), or the next one when
    the previous onset took it (a triplet of eighths lands on three slots); each onset so moved is
    counted in stats.tuplets. A tune where that moves an onset by a whole slot or more (runs of
    32nds) is skipped: the grid would distort its rhythm.
    """
    from music21 import harmony

    bars: list[dict[int, list[int]]] = []
    held: list[int] = []  # pitches of the last note, which a tie continues
    measures = part.getElementsByClass("Measure")
    for m, shift in zip(measures, measure_shifts(part, bar_ql), strict=True):
        if m.hasVoices():
            raise Skip("several voices")
        onsets: dict[int, list[int]] = {}
        last = -1
        for n in m.notes:
            if isinstance(n, harmony.ChordSymbol):
                continue
            if n.duration.isGrace:
                stats.grace_notes += 1
                continue
            pitches = sorted({p.midi for p in n.pitches}, reverse=True)
            tied = n.tie is not None and n.tie.type in ("stop", "continue")
            previous, held = held, pitches
            if tied and pitches == previous:  # a tie to another pitch (misread ABC) is a new onset
                continue
            exact = (Fraction(n.offset) + shift) * 4
            slot = max(math.ceil(exact - Fraction(1, 2)), last + 1)
            if slot >= slots or abs(slot - exact) >= 1:  # a run of 32nds: the grid would distort it
                raise Skip("finer than the grid")
            if slot != exact:
                stats.tuplets += 1
            onsets[slot] = pitches
            last = slot
        bars.append(onsets)
    return bars


def _strong_slots(meter: tuple[int, int], slots: int) -> list[int]:
    beats, unit = meter
    if unit == 8 and beats % 3 == 0 and beats > 3:  # compound meter: dotted-quarter beats
        groups = beats // 3
    else:
        groups = beats
    if groups % 2 == 0 and groups > 2:  # 4/4, 12/8 ...: first and middle of the bar
        return [0, slots // 2]
    return [0]


def chord_bass(part: Any, meter: tuple[int, int], bar_ql: Fraction, slots: int) -> list[dict[int, int]]:
    """Per measure: strong-beat slot -> the root of the chord symbol in force there, in E2..D#3."""
    from music21 import harmony

    measures = part.getElementsByClass("Measure")
    if part.recurse().getElementsByClass(harmony.ChordSymbol).first() is None:
        return [{} for _ in measures]
    out: list[dict[int, int]] = []
    current: int | None = None
    strong = _strong_slots(meter, slots)
    for m, shift in zip(measures, measure_shifts(part, bar_ql), strict=True):
        roots: list[tuple[int, int]] = []
        for cs in m.getElementsByClass(harmony.ChordSymbol):
            if isinstance(cs, harmony.NoChord):
                continue
            try:
                pc = cs.root().pitchClass
            except Exception:  # music21 reads some ABC annotations as chords it cannot spell
                continue
            roots.append((round((Fraction(cs.offset) + shift) * 4), pc))
        bar: dict[int, int] = {}
        span_start = round(shift * 4)
        span_end = span_start + round(Fraction(m.duration.quarterLength) * 4)
        for s in strong:
            for at, pc in roots:
                if at <= s:
                    current = pc
            if current is not None and span_start <= s < span_end:
                bar[s] = BASS_LOW + (current - BASS_LOW) % 12
        for _, pc in roots:  # the last symbol stays in force into the next bar
            current = pc
        out.append(bar)
    return out


def score_events(score: Any, texture: bool = True, chorale: bool = False) -> Events:
    """A parsed tune (one part) or chorale (soprano and bass parts) as grid events."""
    parts = list(score.parts)
    if not parts:
        raise Skip("no parts")
    if len(parts) != 1 and not (chorale and len(parts) >= 2):
        raise Skip("not single-line")
    meter = _meter(parts[0])
    slots = slots_per_bar(meter)
    bar_ql = Fraction(meter[0] * 4, meter[1])
    stats = TuneStats()
    melody = line_onsets(parts[0], bar_ql, slots, stats)
    bass: list[dict[int, int]] = [{} for _ in melody]
    if chorale and texture:
        low = line_onsets(parts[-1], bar_ql, slots, stats)
        if len(low) != len(melody):
            raise Skip("parts of unequal length")
        bass = [{s: max(ps) for s, ps in b.items()} for b in low]
    elif texture:
        bass = chord_bass(parts[0], meter, bar_ql, slots)
    if not any(melody):
        raise Skip("no notes")
    return Events(meter, melody, bass, stats)


# --- events to a tab ---------------------------------------------------------------------------


def _best_transpose(pitches: list[int]) -> int:
    """The octave shift (-24..+12) that puts most pitches in E2..E5; ties go to the smaller shift."""

    def score(k: int) -> tuple[int, int]:
        return sum(COMFORT_LOW <= p + k <= COMFORT_HIGH for p in pitches), -abs(k)

    return max((-24, -12, 0, 12), key=score)


def events_tab(ev: Events, title: str, meta: tuple[tuple[str, str], ...]) -> Tab:
    """Fret the events in standard tuning and lay them out as a canonical tab."""
    slots = slots_per_bar(ev.meter)
    keys: list[tuple[int, int]] = []
    chords: list[list[int]] = []
    for b, (mel, bass) in enumerate(zip(ev.bars, ev.bass, strict=True)):
        for s in sorted(set(mel) | set(bass)):
            pitches = list(mel.get(s, []))
            if s in bass and bass[s] not in pitches:
                pitches.append(bass[s])
                ev.stats.bass_notes += 1
            ev.stats.notes += len(mel.get(s, []))
            keys.append((b, s))
            chords.append(pitches)
    k = _best_transpose([p for c in chords for p in c])
    ev.stats.transpose = k
    chords = [[p + k for p in c] for c in chords]
    fretting = fret_pitches(chords, STANDARD)
    ev.stats.octave_moves = fretting.octave_moves
    ev.stats.dropped = fretting.dropped
    ev.stats.cost = round(fretting.cost, 3)
    ev.stats.naive_cost = round(naive_fretting(chords, STANDARD).cost, 3)
    columns: list[list[Column]] = [[] for _ in ev.bars]
    for (b, s), fingering in zip(keys, fretting.chords, strict=True):
        columns[b].append(Column(s, fingering))
    bars = tuple(Bar(slots, tuple(cols)) for cols in columns)
    return Tab(STANDARD, bars, ev.meter, title, meta)


def _key_name(part: Any) -> str:
    from music21 import key

    k = part.recurse().getElementsByClass(key.KeySignature).first()
    if k is None:
        return ""
    if not isinstance(k, key.Key):
        k = k.asKey("major")
    return f"{k.tonic.name.replace('-', 'b')} {k.mode}"


def score_tab(score: Any, source: str, texture: bool = True, chorale: bool = False) -> tuple[Tab, TuneStats]:
    """One parsed music21 score to a canonical tab, with what the builder did to it.

    `chorale`: the score is a chorale; its first part is the melody and its last the bass."""
    ev = score_events(score, texture, chorale)
    title = (score.metadata.title if score.metadata else "") or source
    title = title.replace("|", "/")  # a bar line in a header would read as a stave
    meta = tuple((k, v) for k, v in (("key", _key_name(score.parts[0])), ("source", source)) if v)
    return events_tab(ev, " ".join(title.split()), meta), ev.stats


# --- files, cache, parallel build ---------------------------------------------------------------


def collection_files(name: str) -> list[str]:
    """The corpus entries of one collection: ABC file paths, or chorale names for 'bach'."""
    from music21 import corpus

    if name == "bach":
        return list(corpus.chorales.Iterator(returnType="filename"))
    if name not in COLLECTIONS:
        raise InputError(f"unknown collection {name!r}; known: {', '.join(COLLECTIONS)}")
    return sorted(str(p) for p in corpus.getComposer(name) if str(p).endswith(".abc"))


def entry_scores(collection: str, entry: str) -> list[tuple[str, Any]]:
    """The scores in one corpus entry (an ABC file may hold many tunes), each with its number."""
    from music21 import converter, corpus, stream

    if collection == "bach":
        parsed = corpus.parse(entry, forceSource=True)
    else:
        parsed = converter.parse(entry, forceSource=True)
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    out = []
    for i, s in enumerate(scores, start=1):
        number = getattr(s.metadata, "number", None) if s.metadata else None
        out.append((str(number or i), s))
    return out


def entry_label(collection: str, entry: str) -> str:
    return entry if collection == "bach" else f"{collection}/{Path(entry).name}"


def build_entry(collection: str, entry: str) -> dict[str, Any]:
    """Parse one source file and build its tunes: {'tunes': [{text, stats}], 'skipped': {reason: n}}."""
    warnings.filterwarnings("ignore")
    label = entry_label(collection, entry)
    skipped: Counter[str] = Counter()
    tunes = []
    try:
        scores = entry_scores(collection, entry)
    except Exception as e:  # music21 raises many types on malformed ABC
        return {"tunes": [], "skipped": {"file failed to parse": 1}, "error": f"{label}: {e}"[:300]}
    for number, score in scores:
        source = label if len(scores) == 1 else f"{label}#{number}"
        try:
            tab, stats = score_tab(score, source, chorale=collection == "bach")
        except Skip as e:
            skipped[str(e)] += 1
            continue
        except Exception:  # a tune music21 parsed into something unusable
            skipped["tune failed to convert"] += 1
            continue
        tunes.append({"text": to_text(tab), "stats": asdict(stats)})
    return {"tunes": tunes, "skipped": dict(skipped)}


def write_atomic(path: Path, data: bytes) -> None:
    """`tabgen.atomic.atomic_write`, making the folder first (the caches' folders are made on demand)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)


def _cache_path(out_dir: Path, collection: str, entry: str) -> Path:
    digest = hashlib.sha1(entry.encode()).hexdigest()[:12]
    return out_dir / ".cache" / f"v{BUILD_VERSION}" / collection / f"{Path(entry).stem}-{digest}.json"


def _work(job: tuple[str, str, str]) -> tuple[str, str, dict[str, Any]]:
    out_dir, collection, entry = job
    cache = _cache_path(Path(out_dir), collection, entry)
    result = build_entry(collection, entry)
    write_atomic(cache, json.dumps(result).encode())
    return collection, entry, result


def staves_of(text: str) -> str:
    """A tune's text without its header: what duplicate detection compares."""
    return "\n".join(line for line in text.splitlines() if "|" in line)


def build(
    out_dir: Path,
    sources: Iterable[str] = COLLECTIONS,
    limit: int | None = None,
    jobs: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Build the corpus into out_dir; returns the manifest (also written as manifest.json).

    `limit` caps the source files per collection (a quick build); on_progress(done, total) is
    called as files finish.
    """
    start = time.monotonic()
    sources = list(sources)
    entries = {name: collection_files(name)[:limit] if limit else collection_files(name) for name in sources}
    results: dict[tuple[str, str], dict[str, Any]] = {}
    todo = []
    for name, files in entries.items():
        for entry in files:
            cache = _cache_path(out_dir, name, entry)
            if cache.exists():
                results[(name, entry)] = json.loads(cache.read_text())
            else:
                todo.append((str(out_dir), name, entry))
    total = sum(len(f) for f in entries.values())
    done = len(results)
    if on_progress:
        on_progress(done, total)
    # big files first, so that no core idles at the end waiting for one essen book
    todo.sort(key=lambda j: -os.path.getsize(j[2]) if os.path.exists(j[2]) else 0)
    if todo:
        with multiprocessing.Pool(jobs or os.cpu_count() or 1) as pool:
            for name, entry, result in pool.imap_unordered(_work, todo, chunksize=1):
                results[(name, entry)] = result
                done += 1
                if on_progress:
                    on_progress(done, total)
    manifest = _write_outputs(out_dir, entries, results)
    manifest["build_seconds"] = round(time.monotonic() - start, 1)
    manifest["files_from_cache"] = total - len(todo)
    manifest_path = out_dir / "manifest.json"
    if manifest_path.exists():  # keep the entries of collections not built this time
        kept = json.loads(manifest_path.read_text()).get("collections", {})
        manifest["collections"] = {**kept, **manifest["collections"]}
    write_atomic(out_dir / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def _write_outputs(
    out_dir: Path, entries: dict[str, list[str]], results: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    seen: set[str] = set()
    collections: dict[str, Any] = {}
    errors: list[str] = []
    for name, files in entries.items():
        texts: list[str] = []
        skipped: Counter[str] = Counter()
        sums: Counter[str] = Counter()
        duplicates = 0
        for entry in files:  # in file order, so the output does not depend on the pool's order
            res = results[(name, entry)]
            skipped.update(res["skipped"])
            if "error" in res:
                errors.append(res["error"])
            for tune in res["tunes"]:
                digest = hashlib.sha1(staves_of(tune["text"]).encode()).hexdigest()
                if digest in seen:
                    duplicates += 1
                    continue
                seen.add(digest)
                texts.append(tune["text"])
                st = tune["stats"]
                sums.update({k: v for k, v in st.items() if k not in ("transpose", "cost", "naive_cost")})
                sums["transposed_tunes"] += st["transpose"] != 0
                sums["cost_x1000"] += round(st["cost"] * 1000)
                sums["naive_cost_x1000"] += round(st["naive_cost"] * 1000)
        data = gzip.compress("\n".join(texts).encode(), compresslevel=9, mtime=0)
        write_atomic(out_dir / f"{name}.tab.gz", data)
        info: dict[str, Any] = {"files": len(files), "tunes": len(texts), "duplicates": duplicates}
        info["skipped"] = dict(sorted(skipped.items()))
        info.update({k: v for k, v in sorted(sums.items()) if not k.endswith("_x1000")})
        info["fretting_cost"] = round(sums["cost_x1000"] / 1000, 1)
        info["naive_cost"] = round(sums["naive_cost_x1000"] / 1000, 1)
        collections[name] = info
    totals: Counter[str] = Counter()
    for info in collections.values():
        totals.update({k: v for k, v in info.items() if isinstance(v, int | float)})
    return {
        "build_version": BUILD_VERSION,
        "tuning": "standard",
        "collections": collections,
        "total": {k: round(v, 1) for k, v in totals.items()},
        "parse_errors": errors[:50],
    }


def read_corpus(path: Path) -> list[str]:
    """The tune texts of one built <collection>.tab.gz, in order."""
    text = gzip.decompress(path.read_bytes()).decode()
    tunes: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.startswith("Title: ") and current:
            tunes.append("\n".join(current).strip("\n") + "\n")
            current = []
        current.append(line)
    if any(current):
        tunes.append("\n".join(current).strip("\n") + "\n")
    return tunes
