"""A FRED API on 127.0.0.1 serving the recorded answers in ``tests/data/fred`` (constructed
from real published values: see ``make_recordings.py`` there), so the fetch tests run the
real HTTP client against FRED's JSON with no network.

It answers as FRED documents: ``series/observations`` pages by ``offset``/``limit`` (and
says so in ``count``/``offset``/``limit``); an unknown series or a missing key is HTTP 400
with FRED's ``error_code``/``error_message`` body. Every request's query is logged.
"""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DATA = Path(__file__).resolve().parent / "data" / "fred"
ENDPOINTS = {"/fred/series/observations": "observations", "/fred/series": "series"}


def _handler(log: list[dict]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, doc: dict) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            log.append({"path": url.path, **q})
            kind = ENDPOINTS.get(url.path)
            if not q.get("api_key"):
                return self._send(400, {"error_code": 400, "error_message":
                                        "Bad Request.  Variable api_key is not set."})
            f = DATA / f"{kind}_{q.get('series_id', '')}.json" if kind else None
            if f is None or not f.exists():
                return self._send(400, {"error_code": 400, "error_message":
                                        "Bad Request.  The series does not exist."})
            doc = json.loads(f.read_text())
            if kind == "observations":
                off, lim = int(q.get("offset", 0)), int(q.get("limit", 100000))
                doc.update(offset=off, limit=lim,
                           observations=doc["observations"][off:off + lim])
            self._send(200, doc)

    return Handler


@contextlib.contextmanager
def serve():
    """``(root, log)``: the API root to give the client (``.../fred``) and the request log."""
    log: list[dict] = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _handler(log))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/fred", log
    finally:
        srv.shutdown()
        srv.server_close()


if __name__ == "__main__":  # serve the recordings by hand: GAMMA_FRED_URL=<printed root>
    with serve() as (root, _):
        print(f"recorded FRED answers at {root} (Ctrl-C to stop); try:\n"
              f"  GAMMA_FRED_URL={root} FRED_API_KEY=any python -m engine.cli fetch WORKBOOK",
              flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
