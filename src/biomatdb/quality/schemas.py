"""Wire types of the data quality report."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from biomatdb.api.wire import WireModel


class QualitySection(WireModel):
    about: str = Field(description="What the section lists.")
    count: int = Field(description="How many findings there are in all.")
    items: list[dict[str, Any]] = Field(description="The first `limit` findings.")


class QualityReport(WireModel):
    """A curator's worklist: what in the data deserves a look."""

    generated_at: str
    data_version: int = Field(description="The change-log number the report is of.")
    limit: int
    sections: dict[str, QualitySection] = Field(
        description="values_without_doi, class_generic_values, outliers, "
        "materials_without_properties, conflicting_values, unlinked_organizations."
    )
