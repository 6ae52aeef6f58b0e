"""tabgen view: the alphaTab cache, the page and its server, and (where Chromium and a cached alphaTab
are present, as in CI) what alphaTab reads and plays in a real browser."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tabgen.cli import app
from tabgen.errors import RenderError
from tabgen.render.gp import gp5_bytes
from tabgen.render.musicxml import write_musicxml
from tabgen.view import alphatab
from tabgen.view.browser import find_chromium, selftest
from tabgen.view.page import file_bundle, tab_bundle
from tabgen.view.server import Viewer
from tests.tab_fixtures import CHORD_AND_BARRE_BARS, make_tab

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
PIECE = make_tab(CHORD_AND_BARRE_BARS, title="Barre study")


def fake_dist(root: Path) -> Path:
    """A cache laid out as npm leaves it, with stand-in files (for the tests without a browser)."""
    dist = alphatab.dist_dir(root)
    (dist / "soundfont").mkdir(parents=True)
    (dist.parent / "package.json").write_text(json.dumps({"version": alphatab.VERSION}))
    (dist / alphatab.SCRIPT).write_text("// alphaTab stand-in\n")
    (dist / alphatab.SOUNDFONT).write_bytes(b"RIFF")
    return dist


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


# --- the cache ---------------------------------------------------------------------------------------


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("TABGEN_ALPHATAB_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert alphatab.cache_dir() == tmp_path / "xdg" / "tabgen" / "alphatab"
    monkeypatch.setenv("TABGEN_ALPHATAB_DIR", str(tmp_path / "mine"))
    assert alphatab.cache_dir() == tmp_path / "mine"


def test_installed_wants_the_pinned_version(tmp_path):
    assert alphatab.installed(tmp_path) is None
    dist = fake_dist(tmp_path)
    assert alphatab.installed(tmp_path) == dist
    (dist.parent / "package.json").write_text(json.dumps({"version": "1.7.0"}))
    assert alphatab.installed(tmp_path) is None


def test_without_npm_one_line_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(alphatab.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match="npm is not installed: install Node.js and npm"):
        alphatab.ensure(tmp_path)
    monkeypatch.setenv("TABGEN_ALPHATAB_DIR", str(tmp_path))
    tab = tmp_path / "t.txt"
    tab.write_text("e|0---|\nB|----|\nG|----|\nD|----|\nA|----|\nE|----|\n")
    result = runner.invoke(app, ["view", str(tab), "--no-browser"])
    assert result.exit_code == 1
    assert "apt-get install nodejs npm" in result.output and "Traceback" not in result.output


# --- the page and its server -------------------------------------------------------------------------


def test_server_serves_page_downloads_and_alphatab_only(tmp_path):
    dist = fake_dist(tmp_path)
    (tmp_path / "secret.txt").write_text("no")
    bundle = tab_bundle(PIECE, "barre", tempo=90)
    with Viewer(bundle, dist) as v:
        status, page = get(v.url)
        assert status == 200 and b"<title>Barre study - tabgen</title>" in page
        config = json.loads(re.search(rb'<script id="config"[^>]*>(.*?)</script>', page, re.S).group(1))
        assert config["score"] == {"url": "files/barre.gp5"} and config["alphatab"] == ["/alphatab/"]
        assert [d["label"] for d in config["downloads"]] == ["MIDI", "MusicXML", "GP5", "tab text"]
        assert get(v.url + "files/barre.gp5") == (200, gp5_bytes(PIECE, 90))
        status, mid = get(v.url + "files/barre.mid")
        assert status == 200 and mid[:4] == b"MThd"
        status, xml = get(v.url + "files/barre.musicxml")
        assert status == 200 and b"<work-title>Barre study</work-title>" in xml
        status, text = get(v.url + "files/barre.txt")
        assert text.decode().startswith("Title: Barre study\n") and "\ne|1---" in text.decode()
        assert get(v.url + "alphatab/alphaTab.js") == (200, b"// alphaTab stand-in\n")
        for bad in ("alphatab/../../../../secret.txt", "alphatab/%2e%2e/%2e%2e/package.json", "files/x.gp5"):
            assert get(v.url + bad)[0] == 404


def test_a_musicxml_file_is_shown_as_it_is(tmp_path):
    path = tmp_path / "barre.musicxml"
    write_musicxml(PIECE, path)
    bundle = file_bundle(path)
    assert (bundle.score, list(bundle.files)) == ("barre.musicxml", ["barre.musicxml"])
    assert bundle.title == "Barre study"  # its work title
    assert bundle.get("barre.musicxml") == path.read_bytes()


def test_a_guitar_pro_file_is_given_to_alphatab_as_it_is(tmp_path):
    path = tmp_path / "song.gp5"
    path.write_bytes(gp5_bytes(PIECE, 100))
    bundle = file_bundle(path)
    assert bundle.score == "song.gp5" and set(bundle.files) == {"song.gp5", "song.mid", "song.musicxml",
                                                                 "song.txt"}  # fmt: skip


def test_saved_page_embeds_the_piece_and_says_when_alphatab_is_unreachable(tmp_path):
    out = tmp_path / "page.html"
    src = tmp_path / "barre.txt"
    src.write_text(file_bundle_text())
    result = runner.invoke(app, ["render", str(src), "--html", str(out), "--tempo", "80"])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    config = json.loads(re.search(r'<script id="config"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert alphatab.CDN in config["alphatab"]
    assert base64.b64decode(config["score"]["data"])[1:22] == b"FICHIER GUITAR PRO v5"
    assert {d["label"] for d in config["downloads"]} == {"MIDI", "MusicXML", "GP5", "tab text"}
    assert all(d["href"].startswith("data:") for d in config["downloads"])
    assert "alphaTab could not be loaded" in page


def file_bundle_text() -> str:
    return tab_bundle(PIECE, "barre").get("barre.txt").decode()


def test_view_starts_and_stops_cleanly_on_ctrl_c(tmp_path):
    fake_dist(tmp_path)
    src = tmp_path / "barre.txt"
    src.write_text(file_bundle_text())
    env = {**os.environ, "TABGEN_ALPHATAB_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tabgen", "view", str(src), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # (a test runner may ignore it)
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert get(url)[0] == 200
        proc.send_signal(signal.SIGINT)
        out, errors = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode in (0, 130) and "Traceback" not in errors and "stopped" in errors


# --- in a real browser -------------------------------------------------------------------------------

DIST = alphatab.installed()
needs_browser = pytest.mark.skipif(
    find_chromium() is None or DIST is None,
    reason="needs Chromium and alphaTab in the cache (.ci/run installs both)",
)


def ours(tab):
    return [(b, n.string, n.fret) for b, bar in enumerate(tab.bars) for c in bar.columns for n in c.notes]


def theirs(report, staff):
    return [
        (n["bar"], n["string"], n["fret"])
        for n in report["notes"]
        if n["staff"] == staff and not n.get("rest")
    ]


def assert_heard(report):
    assert "audio_error" not in report, report.get("audio_error")
    assert report["audio"]["not_finite"] == 0 and report["audio"]["rms"] > 0.01
    assert report["played_ms"] > 0  # the player's cursor moved


@needs_browser
def test_alphatab_reads_and_plays_our_tab(tmp_path):
    report = selftest(tab_bundle(PIECE, "barre"), DIST)
    assert report["title"] == "Barre study"
    assert theirs(report, 0) == ours(PIECE)
    assert_heard(report)
    # the tempo slider, loop, metronome and count-in reach alphaTab's player
    controls = {"speed": 0.5, "looping": True, "metronome": 1, "count_in": 1, "speed_label": "50%"}
    assert report["controls"] == controls


@needs_browser
def test_alphatab_reads_and_plays_a_gp5_file(tmp_path):
    path = tmp_path / "barre.gp5"
    path.write_bytes(gp5_bytes(PIECE, 120))
    report = selftest(file_bundle(path), DIST)
    assert theirs(report, 0) == ours(PIECE)
    assert_heard(report)


@needs_browser
def test_alphatab_reads_our_musicxml_on_its_tab_staff(tmp_path):
    path = tmp_path / "barre.musicxml"
    write_musicxml(PIECE, path)
    report = selftest(file_bundle(path), DIST)
    assert report["title"].replace("\xa0", " ") == "Barre study"  # (alphaTab's XML reader: a no-break space)
    notation, tab = ({n["staff"]: n["tab"] for n in report["notes"]}[s] for s in (0, 1))
    assert (notation, tab) == (False, True)
    assert theirs(report, 1) == ours(PIECE)
    # the TAB staff holds one voice with no rest (a second voice drew a rest over the first fret)
    assert {n["voice"] for n in report["notes"] if n["staff"] == 1} == {0}
    assert not [n for n in report["notes"] if n["staff"] == 1 and n.get("rest")]
    pitches = [n["pitch"] for n in report["notes"] if n["staff"] == 0]
    assert pitches == [PIECE.pitch(n) for bar in PIECE.bars for c in bar.columns for n in c.notes]
    assert_heard(report)


def dump_dom(url: str, profile: Path) -> str:
    from tabgen.view.browser import FLAGS

    cmd = [
        find_chromium(),
        *FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=8000",
        "--dump-dom",
        url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout


@needs_browser
def test_saved_page_draws_the_piece_from_a_file(tmp_path):
    from tabgen.view.page import page_html

    page = tmp_path / "barre.html"
    page.write_text(page_html(tab_bundle(PIECE, "barre"), [DIST.as_uri() + "/"], embed=True))
    dom = dump_dom(page.as_uri(), tmp_path / "profile")
    assert dom.count("<svg") >= 1 and "rendered by alphaTab" in dom
    notice = re.search(r'<div id="notice"[^>]*>(.*?)</div>', dom, re.S).group(1)
    assert "its player cannot start" in notice  # (all a file:// page has to say, after 3 s)


@needs_browser
def test_saved_page_says_plainly_when_alphatab_cannot_be_reached(tmp_path):
    from tabgen.view.page import page_html

    page = tmp_path / "barre.html"
    page.write_text(page_html(tab_bundle(PIECE, "barre"), ["http://127.0.0.1:9/nowhere/"], embed=True))
    dom = dump_dom(page.as_uri(), tmp_path / "profile")
    notice = re.search(r'<div id="notice" style="display: block;">(.*?)</div>', dom, re.S)
    assert notice and "alphaTab could not be loaded" in notice.group(1)


def test_view_composes_a_piece_from_a_run_folder(tmp_path):
    from dataclasses import replace

    from tabgen.compose import compose
    from tabgen.tab.write import to_text
    from tests.tiny_model import tiny_run

    fake_dist(tmp_path)
    run = tiny_run()
    env = {**os.environ, "TABGEN_ALPHATAB_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tabgen", "view", str(run), "--bars", "3", "--seed", "5", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        status, text = get(url + "files/piece-5.txt")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    title = f"Composed by tabgen ({run.name}, seed 5)"
    assert line.startswith(f"serving {title} at ")
    expected = compose(run, bars=3, seed=5).tab
    assert status == 200 and text.decode() == to_text(replace(expected, title=title))
