"""Wire types of references, and the one place a reference row becomes its JSON."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from biomatdb.api.wire import WireModel
from biomatdb.models import Reference


class ReferenceOut(WireModel):
    id: str
    citation: str
    doi: str | None = None
    year: int | None = None
    pmid: str | None = None
    url: str | None = None


class CitingMaterial(WireModel):
    id: str
    name: str
    material_class: str = Field(alias="class")
    property_values: int = Field(description="How many of its property values cite it.")


class ReferenceDetail(ReferenceOut):
    cited_by: list[CitingMaterial] = Field(description="Published materials that cite it.")


def reference_json(reference: Reference | None) -> dict[str, Any] | None:
    """A reference, expanded, in wire form (the shape of :class:`ReferenceOut`, and of a
    bundle's reference entry)."""
    if reference is None:
        return None
    return {
        "id": reference.slug,
        "citation": reference.citation,
        "doi": reference.doi,
        "year": reference.year,
        "pmid": reference.pmid,
        "url": reference.url,
    }


def reference_out(reference: Reference | None) -> ReferenceOut | None:
    """A reference as a wire model (for the routers that return models)."""
    data = reference_json(reference)
    return None if data is None else ReferenceOut(**data)
