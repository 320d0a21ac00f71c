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


@FACETS.register
class RegulatoryFacet(Facet):
    """Keys ``US-FDA`` (any status) and ``US-FDA:cleared``."""

    name = "regulatory"

    def count(
        self, session: Session, where: list[ColumnElement[bool]], matching: Any
    ) -> dict[str, int]:
        counts: dict[str, int] = {}
        for jurisdiction, n in session.execute(
            select(
                RegulatoryRecord.jurisdiction,
                func.count(RegulatoryRecord.material_id.distinct()),
            )
            .where(RegulatoryRecord.material_id.in_(matching))
            .group_by(RegulatoryRecord.jurisdiction)
            .order_by(RegulatoryRecord.jurisdiction)
        ):
            counts[jurisdiction] = n
        for jurisdiction, status, n in session.execute(
            select(
                RegulatoryRecord.jurisdiction,
                RegulatoryRecord.status,
                func.count(RegulatoryRecord.material_id.distinct()),
            )
            .where(RegulatoryRecord.material_id.in_(matching))
            .group_by(RegulatoryRecord.jurisdiction, RegulatoryRecord.status)
            .order_by(RegulatoryRecord.jurisdiction, RegulatoryRecord.status)
        ):
            counts[f"{jurisdiction}:{status}"] = n
        return counts


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
        counts: dict[str, int] = {}
        for endpoint, n in session.execute(
            select(row.endpoint, func.count(row.material_id.distinct()))
            .where(row.material_id.in_(matching))
            .group_by(row.endpoint)
            .order_by(row.endpoint)
        ):
            counts[endpoint] = n
        for endpoint, result, n in session.execute(
            select(row.endpoint, row.result, func.count(row.material_id.distinct()))
            .where(row.material_id.in_(matching))
            .group_by(row.endpoint, row.result)
            .order_by(row.endpoint, row.result)
        ):
            counts[f"{endpoint}:{result}"] = n
        return counts
