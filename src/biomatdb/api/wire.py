"""Wire types shared by every resource: problems, list envelopes, links."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class WireModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ProblemError(WireModel):
    path: str = Field(description="Where the problem is: a JSON path or a parameter name.")
    message: str = Field(description="What is wrong and how to fix it.")


class Problem(WireModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemError] | None = None


class Links(WireModel):
    self: str
    next: str | None = None


def last_updated_field() -> Any:
    """``meta.last_updated``, the same on every list (and in ``/api/v1/info``)."""
    return Field(
        description="When the data last changed (the time of the last write of any kind: "
        "import, curation, review move); null while the database is empty.",
        examples=["2026-05-17T09:30:00.123456Z"],
    )


class ListMeta(WireModel):
    """The ``meta`` of every list: ``total``, ``next_cursor``, ``last_updated``."""

    total: int = Field(description="Number of items matching the filters (all pages).")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    last_updated: datetime | None = last_updated_field()


class ListEnvelope(WireModel, Generic[T]):
    """Every list: ``data`` (the items), ``meta`` and ``links`` (``self``, ``next``)."""

    data: list[T]
    meta: ListMeta
    links: Links


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem statuses an endpoint can answer."""
    descriptions = {
        400: "Invalid query parameter (problem details name each parameter to fix).",
        404: "Unknown id, or not visible to the caller.",
        422: "Invalid body.",
    }
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {
            "description": descriptions.get(status, "Error"),
            "content": {"application/problem+json": {"schema": schema}},
        }
        for status in statuses
    }


def problem_components() -> dict[str, Any]:
    """``components.schemas`` entries for the problem document and its errors."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"Problem": schema, **definitions}
