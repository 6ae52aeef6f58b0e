"""alphaTab, the engraver and player the view page uses, from the npm registry into a cache.

Nothing of alphaTab is copied into this repository: the pinned version is installed once with
`npm` into `$TABGEN_ALPHATAB_DIR`, else `$XDG_CACHE_HOME/tabgen/alphatab`, else
`~/.cache/tabgen/alphatab`. Its package ships what the page needs offline: the script, its worker,
the Bravura music font and a General MIDI soundfont (sonivox, Apache-2.0).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tabgen.errors import RenderError

PACKAGE = "@coderline/alphatab"
VERSION = "1.8.4"
CDN = f"https://cdn.jsdelivr.net/npm/{PACKAGE}@{VERSION}/dist/"
# what the page loads from the package's dist folder
SCRIPT, FONT_DIR, SOUNDFONT = "alphaTab.js", "font/", "soundfont/sonivox.sf2"


def cache_dir() -> Path:
    """The folder alphaTab is installed into (npm's --prefix)."""
    if os.environ.get("TABGEN_ALPHATAB_DIR"):
        return Path(os.environ["TABGEN_ALPHATAB_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tabgen" / "alphatab"


def dist_dir(root: Path | None = None) -> Path:
    return (root or cache_dir()) / "node_modules" / PACKAGE / "dist"


def installed(root: Path | None = None) -> Path | None:
    """alphaTab's dist folder when the pinned version is in the cache, else None."""
    import json

    dist = dist_dir(root)
    try:
        version = json.loads((dist.parent / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    if version != VERSION or not (dist / SCRIPT).is_file() or not (dist / SOUNDFONT).is_file():
        return None
    return dist


def ensure(root: Path | None = None, quiet: bool = True) -> Path:
    """alphaTab's dist folder, installing the pinned version with npm first when it is not cached."""
    root = root or cache_dir()
    found = installed(root)
    if found is not None:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise RenderError(
            "tabgen view needs alphaTab from npm, and npm is not installed: install Node.js and npm "
            "(Debian/Ubuntu: apt-get install nodejs npm; or https://nodejs.org), then run it again"
        )
    root.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--prefix", str(root), "--no-audit", "--no-fund", "--no-save",
           "--loglevel=error", f"{PACKAGE}@{VERSION}"]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=quiet, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RenderError(f"npm could not install {PACKAGE}@{VERSION}: {e}") from None
    found = installed(root)
    if done.returncode != 0 or found is None:
        why = (done.stderr or "").strip().splitlines()[-1:] if quiet else []
        raise RenderError(
            f"npm could not install {PACKAGE}@{VERSION} into {root}" + (f": {why[0]}" if why else "")
        )
    return found
