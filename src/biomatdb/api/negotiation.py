"""Choosing a response format: a ``format`` query parameter, else the Accept header.

``format=csv`` wins over any header (a link in a browser or a spreadsheet's "from
web" cannot set headers); without it, the Accept header's media types are taken in
order of their q-values, and the first one offered is the answer. An Accept header
that names none of the offered types (and no ``*/*``) is a 406 that lists them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from fastapi.responses import StreamingResponse

from biomatdb.errors import FieldProblem, NotAcceptable

#: Media type of each format name an endpoint may offer.
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "ndjson": "application/x-ndjson",
    "svg": "image/svg+xml",
}
#: At most this many media ranges of an Accept header are looked at.
MAX_RANGES = 20


def choose(accept: str | None, format_: str | None, offered: Mapping[str, str]) -> str:
    """The format name to answer in: ``format_`` when given (the caller has checked it
    is one of ``offered``), else the best match of ``accept``; ``offered`` maps format
    names to media types, the first being the default."""
    if format_ is not None:
        return format_
    default = next(iter(offered))
    if not accept or not accept.strip():
        return default
    by_type = {media: name for name, media in offered.items()}
    for media in _ranges(accept):
        if media in ("*/*", "*"):
            return default
        if media in by_type:
            return by_type[media]
        kind = media.partition("/")[0]
        if media.endswith("/*"):
            for name, offered_type in offered.items():
                if offered_type.startswith(kind + "/"):
                    return name
    choices = ", ".join(f"{media} (or format={name})" for name, media in offered.items())
    message = f"this resource is available as {choices}"
    raise NotAcceptable(message, errors=[FieldProblem("Accept", message)])


def _ranges(accept: str) -> list[str]:
    """The media ranges of an Accept header, best first (q=0 left out), at most
    MAX_RANGES of them; a malformed q counts as 1."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")[:MAX_RANGES]):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 1.0
        if media and quality > 0:
            ranked.append((-quality, position, media.lower()))
    return [media for _, _, media in sorted(ranked)]


#: The formats of a list that can also be a file: a JSON page, or every row.
TABLE_FORMATS = {
    "json": MEDIA_TYPES["json"],
    "csv": MEDIA_TYPES["csv"],
    "ndjson": MEDIA_TYPES["ndjson"],
}


def streamed_file(chunks: Iterator[bytes], chosen: str, stem: str) -> StreamingResponse:
    """A CSV or NDJSON answer streamed from ``chunks``, named ``STEM.csv`` / ``.ndjson``."""
    media_type = "text/csv; charset=utf-8" if chosen == "csv" else MEDIA_TYPES["ndjson"]
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{stem}.{chosen}"'},
    )
