"""`WebhookReceiver`: a loopback HTTP endpoint for the platform's webhooks
that checks `X-Signature` and lets a test await each event."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from ._errors import WebhookSignatureError

if TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType

    from ._server import AtomsOrg

#: The platform's three webhook events, in the order a call emits them.
EVENT_TYPES = ("pre-conversation", "post-conversation", "analytics-completed")


def sign(secret: str, body: bytes) -> str:
    """`X-Signature` as the platform computes it (R145): the lowercase hex
    HMAC-SHA256 of the raw body bytes, keyed by the webhook's
    `decryptedSecretKey`, with no prefix."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookEvent:
    """One webhook request as the receiver got it.

    Attributes:
        raw: the body bytes (what the signature covers).
        headers: the request headers (names as sent).
        signature: the `X-Signature` header, or `None`.
        path: the request path.
    """

    raw: bytes
    headers: Mapping[str, str] = field(repr=False)
    signature: str | None
    path: str = field(repr=False)

    @property
    def body(self) -> dict[str, Any]:
        """The JSON envelope: `{url, description, event, metadata, id}`."""
        return dict(json.loads(self.raw))

    @property
    def event(self) -> str:
        """`"<agentId>.<eventType>"`, as in the envelope."""
        return str(self.body["event"])

    @property
    def event_type(self) -> str:
        """`pre-conversation`, `post-conversation` or `analytics-completed`."""
        return self.event.split(".", 1)[-1]

    @property
    def metadata(self) -> dict[str, Any]:
        """The event's `metadata` (`callId`, `agentId`, `callData`, ...)."""
        return dict(self.body.get("metadata") or {})

    @property
    def call_id(self) -> str | None:
        """`metadata.callId`."""
        value = self.metadata.get("callId")
        return str(value) if value is not None else None

    def signature_valid(self, secret: str) -> bool:
        """Whether `X-Signature` is `sign(secret, raw)` (constant-time check)."""
        return self.signature is not None and hmac.compare_digest(self.signature, sign(secret, self.raw))


class WebhookReceiver:
    """A loopback HTTP server that receives webhooks at `url`.

    Each POST to `url` is answered at once and queued; `next_event()` takes
    the next one, checking its `X-Signature` against `secret`. When `secret`
    is already known at delivery time, a bad or missing signature is
    answered with 401 (as a careful receiver would), else with `status`.

    The URL has a random path segment, so receivers never collide with the
    platform-wide uniqueness of webhook URLs (R135), even when a port is
    reused.

    Attributes:
        url: `http://127.0.0.1:PORT/hooks/<random>`.
        secret: the webhook's `decryptedSecretKey`; set it (or use
            `subscribe()`) before checking signatures.
        status: the HTTP status answered to deliveries (default 200).
    """

    def __init__(self, secret: str | None = None, *, status: int = 200, org: AtomsOrg | None = None) -> None:
        self.secret = secret
        self.status = status
        self._org = org
        self._queue: queue.Queue[WebhookEvent] = queue.Queue()
        self._received: list[WebhookEvent] = []
        self._lock = threading.Lock()
        path = f"/hooks/{uuid.uuid4().hex}"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != path:
                    self.send_response(404)
                    self.end_headers()
                    return
                event = WebhookEvent(
                    raw=raw,
                    headers=dict(self.headers.items()),
                    signature=self.headers.get("X-Signature"),
                    path=self.path,
                )
                secret = receiver.secret
                ok = secret is None or event.signature_valid(secret)
                with receiver._lock:
                    receiver._received.append(event)
                receiver._queue.put(event)
                self.send_response(receiver.status if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="atoms-mock-webhooks", daemon=True)
        self._thread.start()

    def subscribe(
        self,
        agent_id: str,
        events: Iterable[str] = EVENT_TYPES,
        *,
        org: AtomsOrg | None = None,
        description: str = "atoms-mock webhook receiver",
    ) -> str:
        """Register `url` as a webhook of `org` (default: the receiver's
        organization, the test's `atoms_org` for the fixture) for `events`
        of `agent_id`, read its secret into `secret`, and return the
        webhook id. Uses the platform API (`POST /webhook`, `GET
        /webhook?webhookId=`).
        """
        org = org or self._org
        if org is None:
            raise ValueError("subscribe() needs an org: WebhookReceiver(org=...) or subscribe(..., org=...)")
        body = {
            "endpoint": self.url,
            "description": description,
            "events": [{"agentId": agent_id, "eventType": e} for e in events],
        }
        mock = org.mock
        webhook_id = mock.request("POST", "/atoms/v1/webhook", body, headers=org.headers)["data"]
        got = mock.request("GET", "/atoms/v1/webhook", query={"webhookId": webhook_id}, headers=org.headers)
        self.secret = got["data"]["decryptedSecretKey"]
        return str(webhook_id)

    def next_event(self, timeout: float = 10.0, *, verify: bool = True) -> WebhookEvent:
        """The next webhook received (waiting up to `timeout` seconds).

        Raises:
            TimeoutError: nothing arrived in time.
            WebhookSignatureError: `verify` is true and the signature is
                missing or wrong (or no `secret` is set).
        """
        try:
            event = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no webhook reached {self.url} within {timeout:g} s") from None
        if verify:
            if self.secret is None:
                raise WebhookSignatureError("no secret to verify X-Signature with: set receiver.secret or subscribe()")
            if not event.signature_valid(self.secret):
                raise WebhookSignatureError(
                    f"bad X-Signature {event.signature!r} for {event.raw[:200]!r}"
                    f" (expected {sign(self.secret, event.raw)!r})"
                )
        return event

    @property
    def received(self) -> list[WebhookEvent]:
        """Every webhook received so far, in arrival order (including those
        `next_event()` already returned)."""
        with self._lock:
            return list(self._received)

    def close(self) -> None:
        """Stop listening. Idempotent."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WebhookReceiver({self.url!r})"
