"""Wire types of the change feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from biomatdb.api.wire import Links


class ChangeOut(BaseModel):
    seq: int = Field(description="Position in the feed; strictly increasing in commit order.")
    at: datetime
    kind: str = Field(description="material, reference or organization")
    action: str
    id: str
    version: int | None
    status: str | None
    actor: str
    note: str | None
    public: dict[str, Any] | None = Field(
        description="After this change, what the public sees: the bundle entry, or null "
        "when the material is not public (remove it from a mirror)."
    )


class ChangesMeta(BaseModel):
    next_cursor: str = Field(description="Pass as `since` to continue after this page.")
    has_more: bool


class ChangesPage(BaseModel):
    data: list[ChangeOut]
    meta: ChangesMeta
    links: Links
