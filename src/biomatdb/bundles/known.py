"""Which references and organizations a bundle may name: those it declares, those of an
earlier document of the same import, and those already stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.bundles.schemas import MaterialIn
from biomatdb.bundles.validation import KnownIds, parse, valid
from biomatdb.errors import FieldProblem
from biomatdb.kit.chunks import chunks
from biomatdb.models import Organization, Reference


def validate_materials(
    session: Session, raw_entries: list[Any]
) -> tuple[list[MaterialIn], list[FieldProblem]]:
    """Validate material entries as a bundle would (against the database's ids)."""
    known = KnownIds(
        references=known_ids(session, Reference, frozenset()),
        organizations=known_ids(session, Organization, frozenset()),
    )
    parsed = parse({"materials": raw_entries}, known=known)
    return [e for _, e in valid(parsed.materials)], parsed.problems


def known_ids(
    session: Session, model: type[Reference] | type[Organization], earlier: frozenset[str]
) -> Callable[[set[str]], set[str]]:
    """Which of the wanted ids exist: declared by an earlier document, or stored."""

    def lookup(wanted: set[str]) -> set[str]:
        return (wanted & earlier) | existing_slugs(session, model, wanted - earlier)

    return lookup


def existing_slugs(
    session: Session, model: type[Reference] | type[Organization], slugs: set[str]
) -> set[str]:
    """Which of ``slugs`` are stored."""
    found: set[str] = set()
    ordered = sorted(slugs)
    for chunk in chunks(ordered):
        found.update(session.scalars(select(model.slug).where(model.slug.in_(chunk))))
    return found


def rows_by_slug(session: Session, model: Any, slugs: Sequence[str]) -> dict[str, Any]:
    """The stored rows of ``model`` with these slugs, by slug (chunked ``IN`` lists)."""
    rows: dict[str, Any] = {}
    for chunk in chunks(slugs):
        for row in session.scalars(select(model).where(model.slug.in_(chunk))):
            rows[row.slug] = row
    return rows
