"""Wire types shared by every resource: problems, list envelopes, links."""

from __future__ import annotations

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


class ListMeta(WireModel):
    total: int = Field(description="Number of items matching the filters (all pages).")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    facets: dict[str, dict[str, int]] | None = None


class ListEnvelope(WireModel, Generic[T]):
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
