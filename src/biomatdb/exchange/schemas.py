"""Wire types of imports: the report of what an import did (or would do)."""

from __future__ import annotations

from pydantic import BaseModel


class Counts(BaseModel):
    created: int
    updated: int
    unchanged: int


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
