"""The web pages' guards: the API key in a cookie, CSRF tokens on every form that
writes, and the Content-Security-Policy of the pages.

* The key a curator signs in with is kept only in the ``biomatdb_key`` cookie:
  HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it),
  Secure over HTTPS, no Max-Age (gone when the browser closes). Never in a URL.
* Every form that writes (sign in and out, upload, import, submit, publish,
  retract) carries a ``csrf`` field that must equal the ``biomatdb_csrf`` cookie
  (double submit): another site can make a browser post a form but can neither
  read the cookie nor set it, so it cannot know the token.
* The pages' CSP (``biomatdb.api.middleware``) forbids inline script: the only
  scripts are the service's own files under ``/assets/``.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

KEY_COOKIE = "biomatdb_key"
CSRF_COOKIE = "biomatdb_csrf"
CSRF_FIELD = "csrf"
#: API keys are short printable strings; anything longer in the cookie is not one.
MAX_KEY_LENGTH = 200


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def csrf_token(request: Request) -> tuple[str, bool]:
    """The browser's CSRF token, and whether it is new (to be set as a cookie)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(token) <= 100 and token.isascii():
        return token, False
    return secrets.token_urlsafe(32), True


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def csrf_ok(request: Request, submitted: object) -> bool:
    """Whether a form's token matches the browser's cookie (constant-time)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return (
        isinstance(submitted, str)
        and bool(cookie)
        and hmac.compare_digest(cookie.encode(), submitted.encode())
    )


def key_of(request: Request) -> str | None:
    """The signed-in browser's API key, or None."""
    key = request.cookies.get(KEY_COOKIE)
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii():
        return None
    return key


def set_key_cookie(request: Request, response: Response, key: str) -> None:
    response.set_cookie(
        KEY_COOKIE,
        key,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def clear_key_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        KEY_COOKIE, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )
