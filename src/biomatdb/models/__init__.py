"""All ORM models; import from here (Alembic reads ``Base.metadata`` through it)."""

from biomatdb.models.base import Base
from biomatdb.models.catalogue import Property
from biomatdb.models.material import (
    BiocompatibilityResultRow,
    CompositionComponent,
    Material,
    MaterialApplication,
    PropertySummary,
    PropertyValue,
    RegulatoryRecord,
    SupplierOffering,
)
from biomatdb.models.organization import Organization
from biomatdb.models.reference import Reference

__all__ = [
    "Base",
    "BiocompatibilityResultRow",
    "CompositionComponent",
    "Material",
    "MaterialApplication",
    "Organization",
    "Property",
    "PropertySummary",
    "PropertyValue",
    "Reference",
    "RegulatoryRecord",
    "SupplierOffering",
]
