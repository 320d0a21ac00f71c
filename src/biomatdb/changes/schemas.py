"""Wire types of the change feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from biomatdb.api.wire import Links, ListMeta


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


class ChangesMeta(ListMeta):
    """The list ``meta``; in the feed ``next_cursor`` is never null (poll it later)."""

    total: int = Field(description="Changes after `since` (this page and the ones after it).")
    next_cursor: str = Field(
        description="Pass as `since` to continue after this page; also on the last page, "
        "to poll for later changes."
    )
    has_more: bool = Field(
        description="Whether more changes are there now (the same as `links.next` not null)."
    )


class ChangesPage(BaseModel):
    data: list[ChangeOut]
    meta: ChangesMeta
    links: Links
