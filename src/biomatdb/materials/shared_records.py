"""When a curator's new references and organizations become public.

A reference or organization added by a curator's import is hidden from anonymous
readers (``public`` false) until either an editor approves it (an editor's or
admin's import, or the CLI, writes it public) or a material that names it is
published: publishing shows the material whole, sources and suppliers included.
Once public, a record stays public (retracting a material does not hide it).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from biomatdb.bundles.schemas import MaterialIn, named_records
from biomatdb.kit.chunks import chunks
from biomatdb.models import Organization, Reference


def publish_shared_records(session: Session, entries: Iterable[MaterialIn]) -> None:
    """Make public every reference and organization that these published entries name."""
    references, organizations = named_records(entries)
    _make_public(session, Reference, references)
    _make_public(session, Organization, organizations)


def _make_public(
    session: Session, model: type[Reference] | type[Organization], slugs: set[str]
) -> None:
    ordered = sorted(slugs)
    for chunk in chunks(ordered):
        session.execute(
            update(model).where(model.slug.in_(chunk), model.public.is_(False)).values(public=True)
        )
