"""Facets: counts of matching materials per value, one registered :class:`Facet` per name.

Modelled on Datasette's ``facets.py``: a facet is a small class with a name and a
method that counts over the filtered set; ``facets=class,country`` picks them by
name, and the registration order is the order they are documented in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from biomatdb.models import (
    BiocompatibilityResultRow,
    Material,
    MaterialApplication,
    Organization,
    RegulatoryRecord,
    SupplierOffering,
)
from biomatdb.search.base import Registry


class Facet(ABC):
    """One facet of ``meta.facets``: ``{value: number of matching materials}``."""

    name: ClassVar[str]

    @abstractmethod
    def count(
        self, session: Session, where: list[ColumnElement[bool]], matching: Any
    ) -> dict[str, int]:
        """Counts over the materials that meet ``where``; ``matching`` is the same set
        as a scalar subquery of ids (``material_id IN matching``), for child tables."""


FACETS: Registry[Facet] = Registry("facet")


@FACETS.register
class ClassFacet(Facet):
    name = "class"

    def count(
        self, session: Session, where: list[ColumnElement[bool]], matching: Any
    ) -> dict[str, int]:
        rows = session.execute(
            select(Material.material_class, func.count())
            .where(*where)
            .group_by(Material.material_class)
            .order_by(Material.material_class)
        )
        return dict(rows.all())


@FACETS.register
class ApplicationFacet(Facet):
    name = "application"

    def count(
        self, session: Session, where: list[ColumnElement[bool]], matching: Any
    ) -> dict[str, int]:
        rows = session.execute(
            select(
                MaterialApplication.application,
                func.count(MaterialApplication.material_id.distinct()),
            )
            .where(MaterialApplication.material_id.in_(matching))
            .group_by(MaterialApplication.application)
            .order_by(MaterialApplication.application)
        )
        return dict(rows.all())


def _by_kind_and_outcome(
    session: Session, kind: Any, outcome: Any, matching: Any
) -> dict[str, int]:
    """Materials per ``kind`` (any outcome), then per ``kind:outcome``, for a child
    table with a material_id: ``US-FDA`` and ``US-FDA:cleared``, ``cytotoxicity`` and
    ``cytotoxicity:pass``."""
    material_id = kind.table.c.material_id
    materials = func.count(material_id.distinct())
    counts: dict[str, int] = {}
    for key, n in session.execute(
        select(kind, materials).where(material_id.in_(matching)).group_by(kind).order_by(kind)
    ):
        counts[key] = n
    for key, value, n in session.execute(
        select(kind, outcome, materials)
        .where(material_id.in_(matching))
        .group_by(kind, outcome)
        .order_by(kind, outcome)
    ):
        counts[f"{key}:{value}"] = n
    return counts


@FACETS.register
class RegulatoryFacet(Facet):
    """Keys ``US-FDA`` (any status) and ``US-FDA:cleared``."""

    name = "regulatory"

    def count(
        self, session: Session, where: list[ColumnElement[bool]], matching: Any
    ) -> dict[str, int]:
        return _by_kind_and_outcome(
            session, RegulatoryRecord.jurisdiction, RegulatoryRecord.status, matching
        )


@FACETS.register
class CountryFacet(Facet):
    """Suppliers' countries."""

    name = "country"

    def count(
        self, session: Session, where: list[ColumnElement[bool]], matching: Any
    ) -> dict[str, int]:
        rows = session.execute(
            select(Organization.country, func.count(SupplierOffering.material_id.distinct()))
            .join(Organization, Organization.id == SupplierOffering.organization_id)
            .where(SupplierOffering.material_id.in_(matching), Organization.country.is_not(None))
            .group_by(Organization.country)
            .order_by(Organization.country)
        )
        return {country: n for country, n in rows if country is not None}  # never None


@FACETS.register
class DegradableFacet(Facet):
    """Keys ``true``, ``false`` and ``unknown``."""

    name = "degradable"

    def count(
        self, session: Session, where: list[ColumnElement[bool]], matching: Any
    ) -> dict[str, int]:
        rows = session.execute(
            select(Material.degradable, func.count()).where(*where).group_by(Material.degradable)
        )
        by_value: dict[bool | None, int] = {bool(k) if k is not None else None: n for k, n in rows}
        return {
            label: by_value[value]
            for value, label in ((True, "true"), (False, "false"), (None, "unknown"))
            if value in by_value
        }


@FACETS.register
class BiocompatFacet(Facet):
    """Keys ``cytotoxicity`` (any result) and ``cytotoxicity:pass``."""

    name = "biocompat"

    def count(
        self, session: Session, where: list[ColumnElement[bool]], matching: Any
    ) -> dict[str, int]:
        row = BiocompatibilityResultRow
        return _by_kind_and_outcome(session, row.endpoint, row.result, matching)
