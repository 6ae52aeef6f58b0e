"""Headless Chromium on the view page: its self-test (what alphaTab read and played) and a
screenshot. Used by the tests and by outputs/make_examples.sh; a user's own browser needs none of it.

    python -m tabgen.view.browser screenshot PIECE OUT.png [TITLE]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tabgen.chromium import FLAGS, find_chromium
from tabgen.errors import RenderError
from tabgen.view.page import Bundle


def _chromium(*args: str) -> list[str]:
    exe = find_chromium()
    if exe is None:
        raise RenderError("Chromium is not installed (Debian: apt-get install chromium)")
    return [exe, *FLAGS, *args]


def selftest(bundle: Bundle, dist: Path, timeout: float = 60.0) -> dict:
    """Open the page with ?selftest=1 and return what it reports: alphaTab's notes (tabgen's string
    numbers), the exported audio's RMS and peak, and how far playback got."""
    import queue

    from tabgen.view.server import Viewer

    # Chromium's helper processes may still write into the profile as it closes: end the whole
    # process group, and let a leftover file not fail the clean-up
    with Viewer(bundle, dist) as viewer, tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            _chromium(f"--user-data-dir={profile}", viewer.url + "?selftest=1"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            return viewer.reports.get(timeout=timeout)
        except queue.Empty:
            raise RenderError(f"the page reported nothing within {timeout:g} s") from None
        finally:
            _end_group(proc)


def screenshot(bundle: Bundle, dist: Path, out: Path, size: tuple[int, int] = (1200, 900)) -> None:
    """A PNG of the page once alphaTab has drawn the score (drawn without its worker, ?still=1, so
    that Chromium's virtual time covers the drawing)."""
    from tabgen.view.server import Viewer

    with Viewer(bundle, dist) as viewer, tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        shot = Path(profile) / "shot.png"
        cmd = _chromium(f"--user-data-dir={profile}/p", f"--window-size={size[0]},{size[1]}",
                        "--hide-scrollbars", "--virtual-time-budget=8000", f"--screenshot={shot}",
                        viewer.url + "?still=1")  # fmt: skip
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        if not shot.is_file():
            raise RenderError("Chromium wrote no screenshot")
        from tabgen.atomic import atomic_write

        atomic_write(out, shot.read_bytes())


def main(argv: list[str]) -> int:
    from tabgen.view import alphatab
    from tabgen.view.page import file_bundle

    if len(argv) not in (3, 4) or argv[0] != "screenshot":
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    title = argv[3] if len(argv) == 4 else None
    screenshot(file_bundle(Path(argv[1]), title=title), alphatab.ensure(), Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a browser started in its own session, helpers and all."""
    import os
    import signal

    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
