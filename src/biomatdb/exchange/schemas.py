"""Wire types of imports: the report of what an import did (or would do)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Counts(BaseModel):
    created: int
    updated: int
    unchanged: int


class SectionChanges(BaseModel):
    added: int
    changed: int
    removed: int
    removed_ids: list[str]


class MaterialChanges(BaseModel):
    id: str
    fields: list[str]
    sections: dict[str, SectionChanges]


class ImportReportOut(BaseModel):
    ok: bool
    dry_run: bool
    summary: str
    documents: list[str]
    references: Counts
    organizations: Counts
    materials: Counts
    property_values_written: int
    errors: list[dict[str, str]]
    changes: list[MaterialChanges] = Field(
        default_factory=list,
        description="Per updated material: the plain fields it changes and, per section "
        "(properties, composition, biocompatibility, regulatory, suppliers, applications, "
        "synonyms), how many items it adds, changes and removes, and the removed ones "
        "(a property's n-th value of a key is KEY#n).",
    )
