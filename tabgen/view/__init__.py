"""`tabgen view`: a page on 127.0.0.1 where alphaTab draws notation over TAB and plays the piece.

alphatab.py gets alphaTab (npm, into a cache), page.py makes the page and the piece's downloads,
server.py serves them."""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from tabgen.view.page import Bundle


def serve(
    bundle: Bundle,
    port: int = 0,
    open_browser: bool = True,
    on_ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    dist: Path | None = None,
) -> None:
    """Serve the page on 127.0.0.1 until Ctrl-C (or `stop` is set), opening the browser on it.
    alphaTab is installed into its cache first when it is not there (alphatab.ensure)."""
    from tabgen.view import alphatab
    from tabgen.view.server import Viewer

    dist = dist or alphatab.ensure()
    stop = stop or threading.Event()
    with Viewer(bundle, dist, port) as viewer:
        if on_ready is not None:
            on_ready(viewer.url)
        if open_browser:
            webbrowser.open(viewer.url)
        try:
            while not stop.wait(0.2):  # (a short wait: Ctrl-C reaches the main thread at once)
                pass
        except KeyboardInterrupt:
            pass
