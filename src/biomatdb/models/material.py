"""The material aggregate: a material and everything its bundle entry carries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from biomatdb.models.base import Base, utcnow
from biomatdb.models.organization import Organization
from biomatdb.models.reference import Reference
from biomatdb.vocab import (
    BiocompatibilityEndpoint,
    BiocompatibilityResult,
    CompositionBasis,
    MaterialClass,
    MaterialStatus,
    Qualifier,
    values,
)


def _one_of(column: str, enum: type[Any]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values(enum))
    return f"{column} IN ({quoted})"


CASCADE = "CASCADE"


class Material(Base):
    __tablename__ = "materials"
    __table_args__ = (
        CheckConstraint(_one_of("material_class", MaterialClass), name="material_class"),
        CheckConstraint(_one_of("status", MaterialStatus), name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        # Serve the default listing (published, by name) and the updated_at sort
        # straight from an index, keyset included.
        Index("ix_materials_status_sort_name_slug", "status", "sort_name", "slug"),
        Index("ix_materials_status_updated_at_slug", "status", "updated_at", "slug"),
        Index("ix_materials_material_class", "material_class"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    #: Lower-cased, accent-free name: sorts the same on SQLite and PostgreSQL.
    sort_name: Mapped[str] = mapped_column(
        String(300).with_variant(String(300, collation="C"), "postgresql")
    )
    material_class: Mapped[str] = mapped_column(String(16))
    subclass: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    degradable: Mapped[bool | None] = mapped_column(Boolean)
    synonyms: Mapped[list[str]] = mapped_column(default=list)
    #: The property summaries of the shown version, packed (``biomatdb.packed``; the
    #: same as material_property_summaries, which filters and sorts use): a page of
    #: results reads them with its rows.
    summary: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=MaterialStatus.draft.value)
    #: The version shown by the projection (the public one, or the latest if never public).
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The newest version (a pending edit of a published material is newer than ``version``).
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    #: The version that is or was last published (None: never published).
    published_version: Mapped[int | None] = mapped_column(Integer)
    #: Hash of the normalised bundle entry: re-importing the same entry is a no-op.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    applications: Mapped[list[MaterialApplication]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="MaterialApplication.position",
    )
    composition: Mapped[list[CompositionComponent]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CompositionComponent.position",
    )
    property_values: Mapped[list[PropertyValue]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PropertyValue.position",
    )
    summaries: Mapped[list[PropertySummary]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PropertySummary.property_key",
    )
    identifiers: Mapped[list[MaterialIdentifier]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="MaterialIdentifier.position",
    )
    biocompatibility: Mapped[list[BiocompatibilityResultRow]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="BiocompatibilityResultRow.position",
    )
    regulatory_records: Mapped[list[RegulatoryRecord]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="RegulatoryRecord.position",
        back_populates="material",
    )
    supplier_offerings: Mapped[list[SupplierOffering]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SupplierOffering.position",
        back_populates="material",
    )


class MaterialApplication(Base):
    __tablename__ = "material_applications"
    __table_args__ = (
        Index("ix_material_applications_application_material_id", "application", "material_id"),
    )

    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete=CASCADE), primary_key=True
    )
    application: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class MaterialIdentifier(Base):
    """The material's id in an outside vocabulary (ChEBI, PubChem, CAS ...), normal form."""

    __tablename__ = "material_identifiers"
    __table_args__ = (
        # identifier=SCHEME:ID is an equality on both, then the material.
        Index("ix_material_identifiers_scheme_value_material_id", "scheme", "value", "material_id"),
    )

    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete=CASCADE), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheme: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))


class CompositionComponent(Base):
    __tablename__ = "material_components"
    __table_args__ = (
        CheckConstraint("fraction >= 0 AND fraction <= 1", name="fraction_range"),
        CheckConstraint(_one_of("basis", CompositionBasis), name="basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete=CASCADE), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    component: Mapped[str] = mapped_column(String(200))
    fraction: Mapped[float] = mapped_column(Float)
    basis: Mapped[str] = mapped_column(String(8))


class PropertyValue(Base):
    __tablename__ = "property_values"
    __table_args__ = (
        CheckConstraint("canonical_min <= canonical_max", name="canonical_interval"),
        CheckConstraint(_one_of("qualifier", Qualifier), name="qualifier"),
        # The overlap filter: key equality, then a range on canonical_min.
        Index(
            "ix_property_values_property_key_canonical_min_canonical_max",
            "property_key",
            "canonical_min",
            "canonical_max",
            "material_id",
        ),
        # The specimen filter (whole, case ignored): alone, the leading expression;
        # with a range, the specimens, the key, then a range on canonical_min.
        Index(
            "ix_property_values_lower_specimen_property_key_canonical_min",
            text("lower(specimen)"),
            "property_key",
            "canonical_min",
            "canonical_max",
            "material_id",
        ),
        # A property range in name order (the default sort), PostgreSQL only: walked in
        # name order, the range tested on the index itself, it yields the first page
        # after a few dozen entries, where the materials' name index probes thousands
        # of materials for a value in range (search.sorts.NameSort). SQLite's planner
        # would sort the whole match in a temporary b-tree instead; it keeps its plan.
        Index(
            "ix_property_values_property_key_material_sort_name_material_id",
            "property_key",
            "material_sort_name",
            "material_id",
            "canonical_min",
            "canonical_max",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete=CASCADE), index=True
    )
    #: The material's ``sort_name``, copied (rows are rewritten with the material's
    #: projection, so they never differ): the name order of a property range.
    material_sort_name: Mapped[str] = mapped_column(
        String(300).with_variant(String(300, collation="C"), "postgresql"),
        server_default="",
    )
    property_key: Mapped[str] = mapped_column(ForeignKey("properties.key"))
    position: Mapped[int] = mapped_column(Integer)
    #: As given: ``value``, or ``value_min`` and/or ``value_max``, in ``unit``.
    value: Mapped[float | None] = mapped_column(Float)
    value_min: Mapped[float | None] = mapped_column(Float)
    value_max: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(64))
    #: Derived: the closed interval in the property's canonical unit.
    canonical_min: Mapped[float] = mapped_column(Float)
    canonical_max: Mapped[float] = mapped_column(Float)
    qualifier: Mapped[str] = mapped_column(String(2), default="=")
    uncertainty: Mapped[float | None] = mapped_column(Float)
    specimen: Mapped[str | None] = mapped_column(String(200))
    #: One of vocab.Evidence (checked by the bundle's validation, not by a constraint:
    #: adding one to SQLite would copy the table).
    evidence: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(300))
    conditions: Mapped[dict[str, Any] | None]
    reference_id: Mapped[int | None] = mapped_column(
        ForeignKey("references.id", ondelete="RESTRICT"), index=True
    )

    reference: Mapped[Reference | None] = relationship(lazy="raise")


class PropertySummary(Base):
    """Per material and property: the envelope and typical value of its values.

    Derived by the importer; it makes ``summary`` and ``sort=prop:KEY`` one
    indexed read instead of an aggregate over ``property_values``.
    """

    __tablename__ = "material_property_summaries"
    __table_args__ = (
        Index(
            "ix_material_property_summaries_property_key_typical_material_id",
            "property_key",
            "typical",
            "material_id",
        ),
    )

    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete=CASCADE), primary_key=True
    )
    property_key: Mapped[str] = mapped_column(ForeignKey("properties.key"), primary_key=True)
    canonical_min: Mapped[float] = mapped_column(Float)
    canonical_max: Mapped[float] = mapped_column(Float)
    #: The mean of the midpoints of the material's values of this property.
    typical: Mapped[float] = mapped_column(Float)
    value_count: Mapped[int] = mapped_column(Integer)
    #: Significant digits to show derived values with: the most any of the values
    #: was given with, at least 3 (``units.derived_digits``); stored values keep
    #: full precision. None only in rows a migration could not fill.
    digits: Mapped[int | None] = mapped_column(SmallInteger)


class BiocompatibilityResultRow(Base):
    __tablename__ = "biocompatibility_results"
    __table_args__ = (
        CheckConstraint(_one_of("endpoint", BiocompatibilityEndpoint), name="endpoint"),
        CheckConstraint(_one_of("result", BiocompatibilityResult), name="result"),
        # biocompat=ENDPOINT[:RESULT]: equality on both, then the material.
        Index(
            "ix_biocompatibility_results_endpoint_result_material_id",
            "endpoint",
            "result",
            "material_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete=CASCADE), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    endpoint: Mapped[str] = mapped_column(String(32))
    standard: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(16))
    reference_id: Mapped[int | None] = mapped_column(
        ForeignKey("references.id", ondelete="RESTRICT"), index=True
    )

    reference: Mapped[Reference | None] = relationship(lazy="raise")


class RegulatoryRecord(Base):
    """A regulatory decision about a device or product that contains the material."""

    __tablename__ = "regulatory_records"
    __table_args__ = (
        Index(
            "ix_regulatory_records_jurisdiction_status_material_id",
            "jurisdiction",
            "status",
            "material_id",
        ),
        # product_code= (case ignored) and decided=FROM..TO (one record meets both).
        Index(
            "ix_regulatory_records_upper_product_code_decision_date",
            text("upper(product_code)"),
            "decision_date",
            "material_id",
        ),
        Index("ix_regulatory_records_decision_date_material_id", "decision_date", "material_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete=CASCADE), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    pathway: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    identifier: Mapped[str | None] = mapped_column(String(128), index=True)
    device_class: Mapped[str | None] = mapped_column(String(32))
    product_code: Mapped[str | None] = mapped_column(String(32))
    #: GMDN term code of the device (contract section 8).
    gmdn: Mapped[str | None] = mapped_column(String(16))
    device_name: Mapped[str | None] = mapped_column(Text)
    decision_date: Mapped[date | None]
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    #: Who certified the device (an organization of kind notified_body; EU CE marks).
    notified_body_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    reference_id: Mapped[int | None] = mapped_column(
        ForeignKey("references.id", ondelete="RESTRICT"), index=True
    )

    material: Mapped[Material] = relationship(lazy="raise", back_populates="regulatory_records")
    organization: Mapped[Organization | None] = relationship(
        lazy="raise", foreign_keys=[organization_id]
    )
    notified_body: Mapped[Organization | None] = relationship(
        lazy="raise", foreign_keys=[notified_body_id]
    )
    reference: Mapped[Reference | None] = relationship(lazy="raise")


class SupplierOffering(Base):
    """An organization's offer of a material: trade name, grade, form."""

    __tablename__ = "supplier_offerings"
    __table_args__ = (
        Index(
            "ix_supplier_offerings_organization_id_material_id", "organization_id", "material_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("materials.id", ondelete=CASCADE), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    trade_name: Mapped[str | None] = mapped_column(String(300))
    grade: Mapped[str | None] = mapped_column(String(200))
    form: Mapped[str | None] = mapped_column(String(200))

    material: Mapped[Material] = relationship(lazy="raise", back_populates="supplier_offerings")
    organization: Mapped[Organization] = relationship(lazy="raise")
