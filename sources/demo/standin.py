"""A loopback stand-in for Kolada v3 and SCB PxWebApi 2.0: the demo services over real HTTP.

For trying live mode without network, as a county would run it, with the faults real
sources have: `fail_rate` of answers are 429 or 503 (with Retry-After), and the source
state of the demo world (sources/demo/world.py SourceState) sets retired or empty KPIs,
rescaled series, new titles and an SCB a year behind. Stopping it is the host going down.

    python scripts/standin.py --port 8765 --fail-rate 0.1 --scale N07403=95
    UPPVAXT_SOURCE=live UPPVAXT_KOLADA_URL=http://127.0.0.1:8765/v3 \\
        UPPVAXT_SCB_URL=http://127.0.0.1:8765/api/v2 make run
"""

from __future__ import annotations

import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from sources.demo.apis import KoladaDemoApi, ScbDemoApi
from sources.demo.world import DemoWorld


class StandIn:
    def __init__(self, world: DemoWorld, *, fail_rate: float = 0.0, seed: int = 1,
                 host: str = "127.0.0.1", port: int = 0):
        self.fail_rate = fail_rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0
        self.failed = 0
        self.set_world(world)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stand_in._answer(self)

            def do_POST(self):
                stand_in._answer(self)

            def log_message(self, *args):  # quiet: the pipeline logs what it asks
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    def set_world(self, world: DemoWorld) -> None:
        """Change what the sources say (between two builds, as a night passes)."""
        self.kolada, self.scb = KoladaDemoApi(world), ScbDemoApi(world)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def kolada_url(self) -> str:
        return f"{self.base}/v3"

    @property
    def scb_url(self) -> str:
        return f"{self.base}/api/v2"

    def start(self) -> StandIn:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """The host goes down: the port no longer accepts connections."""
        self.server.shutdown()
        self.server.server_close()

    def _fault(self) -> httpx.Response | None:
        with self._lock:
            self.requests += 1
            if self._random.random() >= self.fail_rate:
                return None
            self.failed += 1
            busy = self._random.random() < 0.5
        if busy:
            return httpx.Response(429, headers={"retry-after": "1"}, json={"error": "too many requests"})
        return httpx.Response(503, json={"error": "service unavailable"})

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = httpx.Request(handler.command, f"{self.base}{handler.path}", content=body,
                                headers={k: v for k, v in handler.headers.items()})
        response = self._fault()
        if response is None:
            route = self.kolada.handle if request.url.path.startswith("/v3/") else self.scb.handle
            response = route(request)
        content = response.content
        handler.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                handler.send_header(name, value)
        handler.send_header("content-length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)
