"""One HTTP policy for the arXiv, Semantic Scholar and OpenAlex clients (issues 20 and 22).

``Retrier.run(attempt, url)`` sends one GET through a transport-specific ``attempt(timeout)``
(requests for arXiv in ``corpus.arxiv_source``, httpx for the citation APIs in
``claimtrack.literature.citations``) and adds, the same way for all three:

- **pacing**: at least ``delay`` seconds between the end of one request and the start of the
  next, with an injected ``clock``/``sleep`` so tests never wait;
- **retries** of 429/500/502/503/504, timeouts and resets with exponential backoff that honours
  ``Retry-After`` up to a ceiling (``max_retry_after``, default 60 s): a server asking for longer
  is not waited for, the request fails at once with one line;
- **deadlines**: every request ends within ``attempt_limit`` seconds wall time (default 120 s,
  whatever the server does: a reply trickled at 1 byte/s included; per-read timeouts alone never
  end such a request), and within the ``deadline`` the caller set (a ``Deadline`` for the whole
  watch run of one source), waits and retries included;
- **a size cap**: an answer over ``max_bytes`` (default 32 MiB, decoded) is refused;
- **redirects** only within the origin (scheme, host, port) of the configured URL, so an API key
  sent in a header never reaches another host (``same_origin``).

Every failure is an ``HttpFailure`` with a one-line message and a ``kind`` (``unreachable``,
``status``, ``wait``, ``deadline``, ``too-large``, ``redirect``); the clients map it to their own
errors.

    python -m pytest tests/corpus/test_http_client.py -q
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BYTES = 32 * 2**20
MAX_RETRY_AFTER_S = 60.0
ATTEMPT_LIMIT_S = 120.0
MAX_REDIRECTS = 5


class HttpFailure(Exception):
    """A request that did not produce a usable answer; ``str()`` is one line."""

    def __init__(self, message: str, *, kind: str, attempts: int = 1) -> None:
        self.message, self.kind, self.attempts = message, kind, attempts
        super().__init__(message)

    def __reduce__(self):
        return (_failure, (self.message, self.kind, self.attempts))


def _failure(message: str, kind: str, attempts: int) -> HttpFailure:
    return HttpFailure(message, kind=kind, attempts=attempts)


class Transient(Exception):
    """Raised by an ``attempt`` for a timeout or a reset: worth another try."""


class Deadline:
    """Seconds left until a point in time (``None``: no limit), and never more than ``parent``'s."""

    def __init__(self, seconds: float | None, *, parent: Deadline | None = None, what: str = "deadline",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.parent, self.what, self.clock = seconds, parent, what, clock
        self.end = None if seconds is None else clock() + seconds

    def _own(self) -> float:
        return float("inf") if self.end is None else self.end - self.clock()

    def remaining(self) -> float:
        return min(self._own(), self.parent.remaining()) if self.parent is not None else self._own()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def describe(self) -> str:
        """Which limit runs out first: this one, or the parent's."""
        if self.parent is not None and self.parent.remaining() <= self._own():
            return self.parent.describe()
        return f"{self.what} of {self.seconds:g} s" if self.seconds is not None else self.what

    def active(self):
        """A context the Retrier enters while it works for this deadline (see ``Budget``)."""
        return contextlib.nullcontext()


class Budget(Deadline):
    """A time budget that only runs while its owner is working (``with budget.active():``): the
    watch gives each source its own budget, and sources take turns, so wall time since the start
    would charge one source for another's requests."""

    def __init__(self, seconds: float | None, *, parent: Deadline | None = None, what: str = "budget",
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(seconds, parent=parent, what=what, clock=clock)
        self.end = None
        self.used, self._since = 0.0, None

    def _own(self) -> float:
        if self.seconds is None:
            return float("inf")
        running = self.clock() - self._since if self._since is not None else 0.0
        return self.seconds - self.used - running

    @contextlib.contextmanager
    def active(self):
        if self._since is not None:  # nested: the outer use is already counting
            yield
            return
        self._since = self.clock()
        try:
            yield
        finally:
            self.used += self.clock() - self._since
            self._since = None


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).

    >>> retry_after_seconds("7")
    7.0
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(str(url))
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def same_origin(url: str, base: str) -> bool:
    return origin(url) == origin(base)


def host(url: str) -> str:
    return urlsplit(str(url)).netloc or str(url)


def read_capped(chunks: Iterable[bytes], *, url: str, max_bytes: int = MAX_BYTES,
                deadline: Deadline | None = None, declared: str | None = None) -> bytes:
    """The body from ``chunks``, refused once it passes ``max_bytes`` (or declares more in its
    Content-Length) or when ``deadline`` runs out between two chunks."""
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise HttpFailure(f"{host(url)} announced {int(declared)} bytes, over the cap of {max_bytes} bytes",
                          kind="too-large")
    out, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise HttpFailure(f"the answer from {host(url)} passed the cap of {max_bytes} bytes; "
                              "not read further", kind="too-large")
        out.append(chunk)
        if deadline is not None and deadline.expired():
            raise HttpFailure(f"{host(url)} was still sending when the {deadline.describe()} ran out",
                              kind="deadline")
    return b"".join(out)


def call_with_limit(fn: Callable[[], Answer], seconds: float, url: str, what: str) -> Answer:
    """``fn()`` in a daemon thread; HttpFailure ``deadline`` if it has not returned in ``seconds``
    (a server trickling its headers is out of reach of per-read timeouts and chunk checks)."""
    box: dict = {}

    def run() -> None:
        try:
            box["answer"] = fn()
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True, name=f"http {host(url)}")
    t.start()
    t.join(max(seconds, 0.0))
    if t.is_alive():
        raise HttpFailure(f"{host(url)} had not answered when the {what} ran out", kind="deadline")
    if "error" in box:
        raise box["error"]
    return box["answer"]


class Retrier:
    """Pacing, retries, deadlines and caps for one API (see module doc)."""

    def __init__(self, name: str, *, delay: float, retries: int = 4, backoff: float = 2.0,
                 max_retry_after: float = MAX_RETRY_AFTER_S, timeout: float = 30.0,
                 attempt_limit: float = ATTEMPT_LIMIT_S, max_bytes: int = MAX_BYTES,
                 deadline: Deadline | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.name, self.delay, self.retries, self.backoff = name, delay, retries, backoff
        self.max_retry_after, self.timeout, self.attempt_limit = max_retry_after, timeout, attempt_limit
        self.max_bytes, self.deadline, self.clock, self.sleep = max_bytes, deadline, clock, sleep
        self._last_end: float | None = None
        self.requests_sent = 0
        self.attempt_deadline: Deadline | None = deadline  # the running attempt's (see run)

    def _left(self) -> float:
        return self.deadline.remaining() if self.deadline is not None else float("inf")

    def _out_of_time(self, url: str, attempts: int) -> HttpFailure:
        what = self.deadline.describe() if self.deadline is not None else "deadline"
        return HttpFailure(f"{self.name}: gave up on {host(url)} when the {what} ran out "
                           f"({attempts} request(s) sent)", kind="deadline", attempts=attempts)

    def _pace(self, at_least: float, url: str, attempts: int) -> None:
        wait = at_least
        if self._last_end is not None:
            wait = max(wait, self.delay - (self.clock() - self._last_end))
        if wait > 0:
            if wait >= self._left():
                raise self._out_of_time(url, attempts)
            self.sleep(wait)

    def run(self, attempt: Callable[[float], Answer], url: str) -> Answer:
        """The first usable answer (any status but 429/5xx) of ``attempt(timeout)``, retried."""
        with self.deadline.active() if self.deadline is not None else contextlib.nullcontext():
            return self._run(attempt, url)

    def _run(self, attempt: Callable[[float], Answer], url: str) -> Answer:
        wait = 0.0
        for n in range(self.retries + 1):
            self._pace(wait, url, n)
            left = self._left()
            if left <= 0:
                raise self._out_of_time(url, n)
            limit = min(self.attempt_limit, left)
            what = (self.deadline.describe() if self.deadline is not None and left < self.attempt_limit
                    else f"limit of {self.attempt_limit:g} s per request")
            last = n == self.retries
            self.requests_sent += 1
            # the attempt checks this between chunks, so an abandoned trickle ends itself too
            self.attempt_deadline = Deadline(limit, parent=self.deadline, what="limit per request",
                                             clock=self.clock)
            try:
                answer = call_with_limit(lambda: attempt(min(self.timeout, limit)), limit, url, what)
            except Transient as exc:
                self._last_end = self.clock()
                if last:
                    raise HttpFailure(f"cannot reach {self.name} at {host(url)}: {exc} (gave up after "
                                      f"{n + 1} tries)", kind="unreachable", attempts=n + 1) from None
                wait = self._backoff(n, None)
                continue
            except HttpFailure as exc:
                self._last_end = self.clock()
                exc.attempts = n + 1
                raise
            self._last_end = self.clock()
            if answer.status in RETRY_STATUSES:
                after = retry_after_seconds(answer.headers.get("Retry-After"))
                if after is not None and after > self.max_retry_after:
                    raise HttpFailure(f"{self.name} asks to wait {after:.0f} s (HTTP {answer.status}), "
                                      f"over the {self.max_retry_after:g} s this client waits; try again "
                                      "later", kind="wait", attempts=n + 1)
                if last:
                    raise HttpFailure(f"{self.name} kept answering HTTP {answer.status} (gave up after "
                                      f"{n + 1} tries)", kind="status", attempts=n + 1)
                wait = self._backoff(n, after)
                continue
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        wait = self.backoff * 2**attempt
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.max_retry_after)


def redirect_target(location: str | None, current: str, base: str) -> str:
    """The absolute URL a redirect points at, if it stays within ``base``'s origin; else
    HttpFailure ``redirect`` (never followed: a header such as an API key stays home)."""
    from urllib.parse import urljoin

    if not location:
        raise HttpFailure(f"{host(current)} answered a redirect without a Location", kind="redirect")
    target = urljoin(current, location)
    if not same_origin(target, base):
        raise HttpFailure(f"{host(current)} redirected to another origin ({host(target)}); not followed",
                          kind="redirect")
    return target


class RetrierClient:
    """What a client that sends through a ``Retrier`` (``self.retrier``) shows its caller: the
    run's deadline (settable, e.g. by ``watch``) and how many requests went out."""

    retrier: Retrier

    @property
    def deadline(self) -> Deadline | None:
        return self.retrier.deadline

    @deadline.setter
    def deadline(self, value: Deadline | None) -> None:
        self.retrier.deadline = value

    @property
    def requests_sent(self) -> int:
        return self.retrier.requests_sent
