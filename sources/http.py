"""Polite HTTP for the statistics APIs: rate limits, retries with backoff, raw storage.

Both Kolada and SCB throttle per client; both answer 429 or 5xx when busy, and those are
worth waiting for. A host that refuses the connection (or never accepts it) is down: it
gets one quick second try, then the source is marked unavailable and every later request
to it fails at once, so an outage is reported within seconds instead of minutes. Every
successful response is kept unchanged in the raw store before it is parsed.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from sources.raw_store import RawRecord, RawStore

RETRY_STATUS = {429, 500, 502, 503, 504}


class ApiError(RuntimeError):
    """A request failed or its answer is unusable; the message names the request."""


class SourceUnavailable(ApiError):
    """The host cannot be reached at all (connection refused, DNS, connect timeout)."""


@dataclass
class RateLimiter:
    """At most `max_calls` calls in any window of `period` seconds."""

    max_calls: int
    period: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _calls: collections.deque = field(default_factory=collections.deque, repr=False)

    def wait(self) -> None:
        now = self.clock()
        while self._calls and now - self._calls[0] >= self.period:
            self._calls.popleft()
        if len(self._calls) >= self.max_calls:
            delay = self.period - (now - self._calls[0])
            if delay > 0:
                self.sleep(delay)
            now = self.clock()
            self._calls.popleft()
        self._calls.append(now)


@dataclass
class Fetcher:
    """Sends requests for one source with rate limiting, retries and raw storage."""

    client: httpx.Client
    source: str
    limiter: RateLimiter | None  # None: no limit (the in-process demo and replay services)
    store: RawStore | None = None
    max_retries: int = 5
    backoff_seconds: float = 1.0
    connect_retries: int = 1
    max_wait_seconds: float = 60.0  # cap on one Retry-After or backoff pause
    sleep: Callable[[float], None] = time.sleep
    unavailable: str | None = None  # set once the host is found down

    def request(self, method: str, url: str, *, params: dict | None = None,
                json_body: Any = None) -> tuple[httpx.Response, RawRecord | None]:
        what = f"{method} {url}" + (f" params={params}" if params else "")
        if self.unavailable:
            raise SourceUnavailable(self.unavailable)
        last_problem = ""
        connect_failures = 0
        for attempt in range(self.max_retries + 1):
            if self.limiter is not None:
                self.limiter.wait()
            try:
                response = self.client.request(method, url, params=params, json=json_body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as err:
                connect_failures += 1
                if connect_failures > self.connect_retries:
                    shown = url if len(url) <= 100 else url[:100] + "…"
                    self.unavailable = (f"{self.source}: servern {httpx.URL(url).host} går inte att nå "
                                        f"({err.__class__.__name__}: {err}); gav upp efter "
                                        f"{connect_failures} försök med {method} {shown}")
                    raise SourceUnavailable(self.unavailable) from None
                self.sleep(self.backoff_seconds)
                continue
            except httpx.TimeoutException as err:
                last_problem = f"timeout ({err.__class__.__name__})"
            except httpx.TransportError as err:
                last_problem = f"transport error: {err}"
            else:
                if response.status_code in RETRY_STATUS:
                    last_problem = f"HTTP {response.status_code}"
                    if attempt < self.max_retries:
                        self.sleep(self._delay(attempt, response))
                    continue
                if response.status_code >= 400:
                    raise ApiError(
                        f"{self.source}: {what} answered HTTP {response.status_code}: "
                        f"{response.text[:300]!r}"
                    )
                record = None
                if self.store is not None:
                    record = self.store.save(
                        source=self.source,
                        method=method,
                        url=str(response.request.url),
                        request_body=response.request.content or None,
                        status_code=response.status_code,
                        content_type=response.headers.get("content-type"),
                        body=response.content,
                    )
                return response, record
            if attempt < self.max_retries:
                self.sleep(self._delay(attempt, None))
        raise ApiError(
            f"{self.source}: {what} failed after {self.max_retries + 1} attempts: {last_problem}"
        )

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("retry-after")
            if retry_after and retry_after.strip().isdigit():
                return min(float(retry_after), self.max_wait_seconds)
        return min(self.backoff_seconds * 2**attempt, self.max_wait_seconds)

    def get(self, url: str, *, params: dict | None = None, json_body: Any = None,
            method: str = "GET") -> tuple[bytes, RawRecord | None, str]:
        """Send a request; returns (body, raw record, request label)."""
        response, record = self.request(method, url, params=params, json_body=json_body)
        return response.content, record, f"{method} {response.request.url}"

    def decode(self, body: bytes, label: str) -> Any:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as err:  # invalid UTF-8 included
            raise ApiError(f"{self.source}: {label}: response is not valid JSON: {err}") from err

    def get_json(self, url: str, *, params: dict | None = None,
                 json_body: Any = None, method: str = "GET") -> tuple[Any, RawRecord | None, str]:
        """Send a request and decode its JSON body; returns (document, raw record, request label)."""
        body, record, label = self.get(url, params=params, json_body=json_body, method=method)
        return self.decode(body, label), record, label
