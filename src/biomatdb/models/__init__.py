"""All ORM models; import from here (Alembic reads ``Base.metadata`` through it)."""

from biomatdb.models.api_key import ApiKey
from biomatdb.models.base import Base
from biomatdb.models.catalogue import Property
from biomatdb.models.history import Change, MaterialVersion
from biomatdb.models.material import (
    BiocompatibilityResultRow,
    CompositionComponent,
    Material,
    MaterialApplication,
    MaterialIdentifier,
    PropertySummary,
    PropertyValue,
    RegulatoryRecord,
    SupplierOffering,
)
from biomatdb.models.organization import Organization
from biomatdb.models.reference import Reference

__all__ = [
    "ApiKey",
    "Base",
    "BiocompatibilityResultRow",
    "Change",
    "CompositionComponent",
    "Material",
    "MaterialApplication",
    "MaterialIdentifier",
    "MaterialVersion",
    "Organization",
    "Property",
    "PropertySummary",
    "PropertyValue",
    "Reference",
    "RegulatoryRecord",
    "SupplierOffering",
]
