"""A /metrics endpoint of its own for processes that serve no HTTP (`visapi worker`).

A tiny threaded HTTP server from the standard library, answering GET /metrics with the same
exposition as the API's route (`PrometheusMetrics.render`: in-process values, or the merged
files of a multiprocess directory, plus queue depths read from the broker).
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from infrastructure.metrics import PrometheusMetrics

log = logging.getLogger("visapi.metrics")


class MetricsEndpoint:
    """Serves `metrics` on host:port in a daemon thread until `close`."""

    def __init__(self, metrics: PrometheusMetrics, port: int, host: str = "127.0.0.1") -> None:
        handler = type("MetricsHandler", (_Handler,), {"metrics": metrics})
        # Raises OSError (address in use) here, before anything else starts.
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="visapi-metrics", daemon=True
        )
        self._thread.start()
        log.info("metrics on http://%s:%d/metrics", host, self.port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    metrics: PrometheusMetrics

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/metrics":
            self._answer(404, b"only /metrics is served here\n", "text/plain; charset=utf-8")
            return
        try:
            body, content_type = self.metrics.render()
        except Exception:
            log.exception("metrics exposition failed")
            self._answer(500, b"metrics exposition failed\n", "text/plain; charset=utf-8")
            return
        self._answer(200, body, content_type)

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a scrape every few seconds is not worth a log line
