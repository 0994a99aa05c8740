"""Request size limit (ASGI middleware) and the CSRF token of the HTML forms.

CSRF: each browser gets a random session value in a cookie (SameSite=Strict, HttpOnly);
every form carries ``HMAC-SHA256(server secret, session value)`` in a hidden field. A form
POST whose field is not the HMAC of its cookie is refused with 403 (compared in constant
time). Tied to a secret the browser never sees, a token cannot be forged by whoever can
plant a cookie (a sibling subdomain, a man in the middle on plain HTTP): a matching
cookie/field pair of the attacker's choosing is not enough. The secret is drawn at server
start, so a restart makes open forms stale (reload the page). The JSON API instead
requires ``Content-Type: application/json`` on writes, which a cross-site HTML form cannot
send without a CORS preflight (and the app answers no CORS requests).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any, Awaitable, Callable

CSRF_COOKIE = "tawazun_csrf"
CSRF_FIELD = "csrf_token"
MAX_BODY = 2 * 1024 * 1024

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes with 413, by Content-Length or while streaming."""

    def __init__(self, app: Any, limit: int = MAX_BODY):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.limit
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(scope, send)
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        async def watch_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watch_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        msg = f"request body too large (limit {self.limit // (1024 * 1024)} MB)"
        if scope.get("path", "").startswith("/api/"):
            body = json.dumps({"errors": [msg]}).encode()
            ctype = b"application/json"
        else:
            body = f"<!DOCTYPE html><title>413</title><p>{msg}</p>".encode()
            ctype = b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def new_token() -> str:
    """A fresh session value for the cookie."""
    return secrets.token_urlsafe(32)


class CsrfSigner:
    """Form tokens bound to a per-browser session value and a server secret."""

    def __init__(self, secret: bytes | None = None):
        self._secret = secret if secret is not None else secrets.token_bytes(32)

    def token(self, session: str) -> str:
        return hmac.new(self._secret, session.encode("utf-8"), hashlib.sha256).hexdigest()

    def verify(self, session: str | None, field: str | None) -> bool:
        if not session or not field or len(session) < 20 or not isinstance(field, str):
            return False
        return hmac.compare_digest(self.token(session).encode(), field.encode("utf-8", "replace"))
