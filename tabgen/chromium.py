"""Where headless Chromium is, and the flags it runs with: shared by the PNG pictures
(`tabgen.render.svg`) and the view page's checks (`tabgen.view.browser`), so neither package
imports the other."""

from __future__ import annotations

import shutil

# what Chromium needs to run headless as root in a container, and to stay off the network
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"]  # fmt: skip


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None
