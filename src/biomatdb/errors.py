"""The domain error tree. One handler (``biomatdb.api.problems``) renders each as
RFC 9457 problem JSON; the status code and problem type live with the error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem at one place: ``materials[3].properties[0].unit``, or a query parameter."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class BiomatdbError(Exception):
    """Base of every error a client can cause; carries its HTTP status."""

    status: int = 500
    type_slug: str = "internal-error"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldProblem] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}
        self.headers = headers


class InvalidParameter(BiomatdbError):
    status = 400
    type_slug = "invalid-parameter"
    title = "Invalid query parameter"


class NotFound(BiomatdbError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Conflict(BiomatdbError):
    status = 409
    type_slug = "conflict"
    title = "Conflict with stored data"


class InvalidBundle(BiomatdbError):
    status = 422
    type_slug = "invalid-bundle"
    title = "Invalid bundle"


class InvalidBody(BiomatdbError):
    status = 422
    type_slug = "invalid-body"
    title = "Invalid request body"


class Unauthorized(BiomatdbError):
    status = 401
    type_slug = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="biomatdb"'})


class Forbidden(BiomatdbError):
    status = 403
    type_slug = "forbidden"
    title = "Not allowed"


class PreconditionFailed(BiomatdbError):
    status = 412
    type_slug = "precondition-failed"
    title = "Precondition failed"


class PreconditionRequired(BiomatdbError):
    status = 428
    type_slug = "precondition-required"
    title = "Precondition required"


class PayloadTooLarge(BiomatdbError):
    status = 413
    type_slug = "payload-too-large"
    title = "Request body too large"


class RequestTimeout(BiomatdbError):
    status = 408
    type_slug = "request-timeout"
    title = "Request timeout"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Connection": "close"})


class UnsupportedMediaType(BiomatdbError):
    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


class ServiceUnavailable(BiomatdbError):
    """The request was stopped by a limit that protects the service (503)."""

    status = 503
    type_slug = "service-unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, *, type_slug: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.type_slug = type_slug


class QueryTimeout(ServiceUnavailable):
    """The request used up its database time (``BIOMATDB_QUERY_TIMEOUT_SECONDS``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the request used its {seconds:g} s of database time and was stopped; "
            "narrow the search (fewer terms, a more selective filter), split the import, "
            "or retry later",
            type_slug="query-timeout",
            retry_after=5,
        )


class WriteBusy(ServiceUnavailable):
    """A write waited longer than ``BIOMATDB_LOCK_TIMEOUT_SECONDS`` for its turn."""

    def __init__(self, seconds: float | None = None) -> None:
        waited = f"longer than {seconds:g} s" if seconds else "too long"
        super().__init__(
            f"other writes are in progress and this one waited {waited} for its turn; "
            "nothing was written, retry shortly",
            type_slug="write-busy",
            retry_after=2,
        )


class DatabaseNotReady(ServiceUnavailable):
    """The database cannot serve this code: missing, unreachable, not migrated, or at
    an older (or newer) revision of the schema. ``hint`` says what to do."""

    def __init__(self, detail: str, hint: str) -> None:
        super().__init__(f"{detail}; {hint}", type_slug="database-not-ready", retry_after=30)
        self.reason = detail
        self.hint = hint


class NotAcceptable(BiomatdbError):
    status = 406
    type_slug = "not-acceptable"
    title = "Not acceptable"
