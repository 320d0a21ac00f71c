"""The HTTP server behind ``biomatdb serve``: uvicorn, with limits on what a client may
send before the application ever sees a request (docs/security.md).

uvicorn leaves three gaps that a hostile client can use against the whole service:

* httptools accepts a request head of any size and concatenates each header value
  chunk by chunk, so one 64 MB header held the event loop (every connection) for
  seconds;
* a client that sends its head one byte at a time keeps its connection forever
  (uvicorn's keep-alive timer is cancelled by the first byte of the next request);
* uvicorn answers the errors it detects itself (unparsable requests, URLs over 64 KB)
  in ``text/plain``, while every other error of the API is RFC 9457 problem JSON.

The protocol classes below close these gaps for uvicorn's two HTTP implementations
(httptools, the default, and h11): they count the bytes of each request head as they
arrive and answer 431 once it is over ``max_header_bytes``; they answer 408 when a head
is not complete ``header_timeout_seconds`` after the connection opened or the previous
response ended; and they write these errors, and the parser's own 400, as problem
JSON. They are module-level classes so that uvicorn's worker processes (spawned, so the
config is pickled) import them by name and read the same settings from the environment.

They rely on uvicorn internals (``send_400_response``, ``on_response_complete``,
``cycle``, ``pipeline``), checked against uvicorn 0.54.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import tempfile
from typing import Any, Literal, cast

from biomatdb.server.guard import PROBLEM_SLUGS
from biomatdb.server.protocols import H11ServerProtocol, HttpToolsServerProtocol
from biomatdb.settings import Settings, get_settings

__all__ = ["PROBLEM_SLUGS", "run", "trusted_proxies", "uvicorn_options"]

APP = "biomatdb.server:served_app"
#: Allocations between two young-generation collections (CPython's default: 700).
#: A ranking of 10,000 candidates builds some 100,000 objects; at the default every
#: few hundred of them start a collection and older generations follow, which took
#: 120 ms of a 190 ms ranking. Startup objects are frozen out of collections too.
GC_THRESHOLD = (10_000, 10, 10)


def served_app() -> Any:
    """The application as ``biomatdb serve`` runs it (each worker calls this): the
    app, then the garbage collector tuned for request-sized bursts of objects."""
    import gc

    from biomatdb.app import create_app

    app = create_app()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    return app


PROTOCOLS: dict[str, type[asyncio.Protocol]] = {
    "httptools": HttpToolsServerProtocol,
    "h11": H11ServerProtocol,
}


def trusted_proxies(value: str) -> list[str]:
    """The addresses and networks of ``BIOMATDB_TRUSTED_PROXIES``, normalized (``*``:
    every peer, for a server that only a proxy can reach).

    Invalid entries stop the start: uvicorn would silently compare them as strings
    (``10.0.0.1/8`` too, having host bits set), and a typo would quietly trust nobody.
    """
    entries = [item.strip() for item in value.split(",") if item.strip()]
    if entries == ["*"]:
        return entries
    return [_address_or_network(entry) for entry in entries]


def _address_or_network(entry: str) -> str:
    try:
        if "/" in entry:
            return str(ipaddress.ip_network(entry, strict=False))
        return str(ipaddress.ip_address(entry))
    except ValueError:
        raise ValueError(
            f"BIOMATDB_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
        ) from None


def uvicorn_options(
    settings: Settings, http_impl: Literal["httptools", "h11"] = "httptools"
) -> dict[str, Any]:
    """The uvicorn options that carry the server settings.

    X-Forwarded-For / -Proto are believed only from ``trusted_proxies``: with none,
    uvicorn's proxy middleware is not installed at all (its own default trusts every
    local peer, so anything on the host could claim any client address).
    """
    from biomatdb.api.observe import log_config

    proxies = trusted_proxies(settings.trusted_proxies)
    return {
        "http": PROTOCOLS[http_impl],
        "log_config": log_config(settings.log_format, settings.log_level.upper()),
        "access_log": False,  # biomatdb.api.observe logs each request, with its id
        # uvicorn finishes in-flight requests on SIGTERM, for at most this long.
        "timeout_graceful_shutdown": cast(int, settings.shutdown_timeout_seconds),
        # uvicorn annotates int, but only hands the value to loop.call_later.
        "timeout_keep_alive": cast(int, settings.keep_alive_seconds),
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,
    }


def run(
    host: str, port: int, workers: int, *, http_impl: Literal["httptools", "h11"] = "httptools"
) -> None:
    """Serve the API with uvicorn, the limits above and the settings' proxy trust.
    Several workers share their metrics through files in a fresh folder
    (prometheus-client's multiprocess mode) unless PROMETHEUS_MULTIPROC_DIR is set."""
    import uvicorn

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="biomatdb-metrics-")
    uvicorn.run(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(get_settings(), http_impl),
    )
