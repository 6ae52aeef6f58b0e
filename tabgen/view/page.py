"""A piece as the files the view page offers, and the page itself (tabgen/view/page.html).

The page loads alphaTab from the URLs it is given (a local copy first) and the score from a URL or
from bytes embedded in it; a saved page (`--html`) embeds the score and every download, so it is
one file.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tabgen.errors import InputError
from tabgen.render.settings import DEFAULT_TEMPO
from tabgen.tab.types import Tab

MUSICXML_SUFFIXES = frozenset({".musicxml", ".xml", ".mxl"})
MIME = {".mid": "audio/midi", ".musicxml": "application/vnd.recordare.musicxml+xml",
        ".xml": "application/xml", ".mxl": "application/vnd.recordare.musicxml",
        ".gp3": "application/octet-stream", ".gp4": "application/octet-stream",
        ".gp5": "application/octet-stream", ".txt": "text/plain; charset=utf-8"}  # fmt: skip


@dataclass
class Bundle:
    """What the page shows: a title, the file alphaTab loads, and the downloads (file name -> a
    function making its bytes, called when first asked for: MusicXML is made only when wanted)."""

    title: str
    score: str  # the download alphaTab loads
    files: dict[str, Callable[[], bytes]] = field(default_factory=dict)
    note: str = ""  # what was chosen (a track of several), for the terminal
    _made: dict[str, bytes] = field(default_factory=dict, repr=False)

    def get(self, name: str) -> bytes:
        if name not in self._made:
            self._made[name] = self.files[name]()
        return self._made[name]


def tab_bundle(
    tab: Tab,
    stem: str,
    tempo: float = DEFAULT_TEMPO,
    title: str | None = None,
    source: tuple[str, bytes] | None = None,
) -> Bundle:
    """The downloads of a piece: MIDI, MusicXML, GP5 and the tab text; alphaTab loads `source`
    (the Guitar Pro file as given) or else our GP5."""
    from tabgen.render.settings import check_tempo

    check_tempo(tempo)
    title = title or tab.title or stem

    def midi() -> bytes:
        from tabgen.render.midi import midi_bytes

        return midi_bytes(tab, tempo)

    def musicxml() -> bytes:
        from tabgen.render.musicxml import tab_to_musicxml

        return tab_to_musicxml(tab, title=title, tempo_bpm=tempo).encode("utf-8")

    def gp5() -> bytes:
        from dataclasses import replace

        from tabgen.render.gp import gp5_bytes

        return gp5_bytes(replace(tab, title=title), tempo)

    def text() -> bytes:
        from tabgen.render.timeline import on_grid
        from tabgen.tab.write import to_text

        return to_text(on_grid(tab)).encode("utf-8")

    files = {f"{stem}.mid": midi, f"{stem}.musicxml": musicxml, f"{stem}.gp5": gp5, f"{stem}.txt": text}
    score = f"{stem}.gp5"
    if source is not None and source[0] != score:
        name, data = source
        files = {name: lambda: data, **files}
        score = name
    return Bundle(title, score, files)


def file_bundle(path: Path, tempo: float = DEFAULT_TEMPO, title: str | None = None) -> Bundle:
    """The bundle of a tab file (text or Guitar Pro) or a MusicXML file (shown as it is)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() in MUSICXML_SUFFIXES:
        data = path.read_bytes()
        return Bundle(title or _musicxml_title(data) or path.stem, path.name, {path.name: lambda: data})
    from tabgen.sources import is_guitar_pro, load_piece

    tab, note = load_piece(path)
    source = (path.name, path.read_bytes()) if is_guitar_pro(path) else None
    bundle = tab_bundle(tab, path.stem, tempo, title, source)
    bundle.note = note
    return bundle


def _musicxml_title(data: bytes) -> str | None:
    """The work (else movement) title of an uncompressed MusicXML file, for the page's heading."""
    import re

    for tag in (b"work-title", b"movement-title"):
        found = re.search(rb"<" + tag + rb">([^<]{1,200})</" + tag + rb">", data[:20000])
        if found:
            return html.unescape(found.group(1).decode("utf-8", "replace")).strip() or None
    return None


def page_html(bundle: Bundle, alphatab: list[str], embed: bool = False, selftest: bool = False) -> str:
    """The page. `alphatab`: base URLs of alphaTab's dist folder to try in order. `embed`: the score
    and downloads inside the page (data: URLs), else fetched from /files/NAME."""

    def href(name: str) -> str:
        if not embed:
            return "files/" + name
        mime = MIME.get(Path(name).suffix.lower(), "application/octet-stream").split(";")[0]
        return f"data:{mime};base64," + base64.b64encode(bundle.get(name)).decode("ascii")

    labels = {".mid": "MIDI", ".musicxml": "MusicXML", ".xml": "MusicXML", ".mxl": "MusicXML",
              ".gp5": "GP5", ".gp4": "GP4", ".gp3": "GP3", ".txt": "tab text"}  # fmt: skip
    downloads = []
    for name in bundle.files:
        label = labels.get(Path(name).suffix.lower(), name)
        if name == bundle.score and len(bundle.files) > 1 and Path(name).suffix.lower() != ".gp5":
            label = f"{label} (as given)"
        downloads.append({"label": label, "name": name, "href": href(name)})
    score = (
        {"data": base64.b64encode(bundle.get(bundle.score)).decode("ascii")}
        if embed
        else {"url": "files/" + bundle.score}
    )
    config = {"alphatab": alphatab, "score": score, "downloads": downloads, "selftest": selftest}
    # (inside <script type="application/json"> only "</" could end the element early)
    blob = json.dumps(config).replace("</", "<\\/")
    template = resources.files("tabgen.view").joinpath("page.html").read_text("utf-8")
    return template.replace("__TITLE__", html.escape(bundle.title)).replace("__CONFIG__", blob)


def write_html(bundle: Bundle, path: str | Path) -> None:
    """A page with the piece and its downloads inside, atomically. It loads alphaTab from the
    local cache when that holds it (file://: drawn; playing needs a served page), else from the
    jsDelivr CDN; where neither can be reached the page says so."""
    from tabgen.atomic import atomic_write
    from tabgen.view import alphatab

    urls = [alphatab.CDN]
    dist = alphatab.installed()
    if dist is not None:
        urls.insert(0, dist.resolve().as_uri() + "/")
    atomic_write(path, page_html(bundle, urls, embed=True))
