"""The view page served on 127.0.0.1 from a thread: the page, the piece's files, and alphaTab's
dist folder (its worker needs http, not file://)."""

from __future__ import annotations

import json
import mimetypes
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import cast
from urllib.parse import unquote, urlsplit

from tabgen.errors import RenderError
from tabgen.view.page import MIME, Bundle, page_html

ALPHATAB_PREFIX = "/alphatab/"
MAX_REPORT = 50_000_000  # bytes of a self-test report


class Viewer:
    """Serves `bundle` with alphaTab from `dist`. `port` 0 picks a free port.

    Use as a context manager, or start() and close(). Self-test reports that the page posts (when
    opened with ?selftest=1) arrive in `reports`."""

    def __init__(self, bundle: Bundle, dist: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.bundle, self.dist = bundle, dist.resolve()
        self.reports: queue.Queue[dict] = queue.Queue()
        handler = type("Handler", (_Handler,), {"viewer": self})
        try:
            self.httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as e:
            raise RenderError(f"cannot serve on {host}:{port}: {e.strerror}") from None
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="tabgen-view", daemon=True)

    @property
    def url(self) -> str:
        host, port = cast("tuple[str, int]", self.httpd.server_address[:2])  # (an IP server)
        return f"http://{host}:{port}/"

    def page(self, selftest: bool) -> bytes:
        return page_html(self.bundle, [ALPHATAB_PREFIX], selftest=selftest).encode("utf-8")

    def start(self) -> Viewer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Viewer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    viewer: Viewer

    def log_message(self, format: str, *args: object) -> None:  # quiet: the terminal shows the URL only
        pass

    def _send(self, body: bytes, mime: str, status: int = 200, cache: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=86400" if cache else "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        v = self.viewer
        try:
            if path in ("/", "/index.html"):
                self._send(v.page(selftest="selftest=1" in url.query), "text/html; charset=utf-8")
            elif path.startswith("/files/") and path[7:] in v.bundle.files:
                name = path[7:]
                mime = MIME.get(Path(name).suffix.lower(), "application/octet-stream")
                self._send(v.bundle.get(name), mime)
            elif path.startswith(ALPHATAB_PREFIX):
                target = (v.dist / path[len(ALPHATAB_PREFIX) :]).resolve()
                if v.dist not in target.parents or not target.is_file():
                    self._send(b"not found", "text/plain", 404)
                    return
                mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                if target.suffix in (".js", ".mjs"):
                    mime = "text/javascript"
                self._send(target.read_bytes(), mime, cache=True)
            elif path == "/favicon.ico":
                self._send(b"", "image/x-icon", 204)
            else:
                self._send(b"not found", "text/plain", 404)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/selftest":
            self._send(b"not found", "text/plain", 404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_REPORT:
            self._send(b"bad report", "text/plain", 400)
            return
        try:
            self.viewer.reports.put(json.loads(self.rfile.read(length)))
        except ValueError:
            self._send(b"bad report", "text/plain", 400)
            return
        self._send(b"ok", "text/plain")
