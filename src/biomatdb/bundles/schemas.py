"""The bundle: the one exchange format (contract section 1), as pydantic models.

These models are the source of ``schemas/bundle.schema.json``. They check the
shape of each entry (types, vocabularies, slugs, lengths); the rules that need
the whole bundle or the database (units, references, duplicates) live in
:mod:`biomatdb.bundles.validation`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, cast

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from biomatdb.identifiers import schemes
from biomatdb.vocab import (
    Application,
    BiocompatibilityEndpoint,
    BiocompatibilityResult,
    CompositionBasis,
    Evidence,
    IdentifierScheme,
    Jurisdiction,
    MaterialClass,
    MaterialStatus,
    OrganizationKind,
    Qualifier,
    RegulatoryStatus,
)

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,127}$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]


Text32 = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Text64 = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text128 = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Text2000 = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


def _iso_country(code: str) -> str:
    if len(code) != 2 or not code.isupper() or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. IT, JP, US)")
    return code


CountryCode = Annotated[str, AfterValidator(_iso_country)]
Number = Annotated[float, Strict()]
Integer = Annotated[int, Strict()]
Boolean = Annotated[bool, Strict()]
ConditionValue = Annotated[str, StringConstraints(max_length=500)] | Number | Boolean | None


class _Entry(BaseModel):
    # Numbers and booleans are strict ("114" is not a number, 1 is not a
    # boolean); unknown fields are errors; NaN and Infinity are refused.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)


class ReferenceIn(_Entry):
    """A citable source: paper, book table, standard, web record."""

    id: Slug
    citation: Text2000
    doi: Annotated[str, StringConstraints(pattern=r"^10\.\d{4,9}/\S+$", max_length=255)] | None = (
        None
    )
    year: Annotated[Integer, Field(ge=1800, le=2100)] | None = None
    pmid: Annotated[str, StringConstraints(pattern=r"^\d{1,10}$")] | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)] | None = None


class OrganizationIn(_Entry):
    """A manufacturer, supplier, laboratory or notified body."""

    id: Slug
    name: Name
    kind: OrganizationKind
    country: CountryCode | None = None
    website: (
        Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)] | None
    ) = None


class ComponentIn(_Entry):
    """One constituent of a material's composition."""

    component: Short
    fraction: Annotated[Number, Field(ge=0, le=1)]
    basis: CompositionBasis


class PropertyValueIn(_Entry):
    """One reported value (or range) of a property, exactly as its source gives it."""

    property: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    value: Number | None = None
    min: Number | None = None
    max: Number | None = None
    unit: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    qualifier: Qualifier = Qualifier.eq
    evidence: Evidence | None = Field(
        None,
        description="measured (on this material), specification (a standard's or "
        "supplier's value or minimum), handbook (for this grade), class_generic (given "
        "for a wider class) or model_input (assumed in a model).",
    )
    uncertainty: Annotated[Number, Field(ge=0)] | None = None
    specimen: Short | None = None
    method: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    conditions: (
        Annotated[
            dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], ConditionValue],
            Field(max_length=50),
        ]
        | None
    ) = None
    source: Slug | None = None


class BiocompatibilityIn(_Entry):
    """The outcome of a biological evaluation endpoint (ISO 10993)."""

    endpoint: BiocompatibilityEndpoint
    standard: Short | None = None
    result: BiocompatibilityResult
    source: Slug | None = None


class IdentifierIn(_Entry):
    """The material's id in an outside vocabulary (contract section 8)."""

    scheme: IdentifierScheme
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Checked for the scheme's syntax (and a CAS number's check digit); "
        "stored upper case where the scheme is (chebi, mesh, unii, wikidata).",
        examples=["CHEBI:52254"],
    )

    @field_validator("id")
    @classmethod
    def _syntax(cls, value: str, info: ValidationInfo) -> str:
        scheme = info.data.get("scheme")
        if scheme is None:  # the scheme's own error says what is wrong
            return value
        normal = schemes.normal(scheme, value)
        problem = schemes.problem(scheme, normal)
        if problem is not None:
            raise ValueError(problem)
        return normal


class RegulatoryIn(_Entry):
    """A regulatory decision about a device or product that contains the material."""

    jurisdiction: Jurisdiction
    pathway: Text64 | None = None
    status: RegulatoryStatus
    identifier: Text128 | None = None
    device_class: Text32 | None = None
    product_code: Text32 | None = None
    gmdn: Annotated[str, StringConstraints(pattern=r"^\d{1,8}$")] | None = Field(
        None, description="GMDN term code of the device (contract section 8)."
    )
    device_name: Text2000 | None = None
    decision_date: date | None = None
    organization: Slug | None = Field(None, description="The applicant or holder.")
    notified_body: Slug | None = Field(
        None,
        description="The organization (kind notified_body) that certified the device, for "
        "CE marks; an extension of contract section 8.",
    )
    source: Slug | None = None


class SupplierIn(_Entry):
    """An organization's offer of the material."""

    organization: Slug
    trade_name: Name | None = None
    grade: Short | None = None
    form: Short | None = None


class MaterialIn(_Entry):
    """A biomaterial and everything known about it."""

    id: Slug
    name: Name
    synonyms: Annotated[list[Name], Field(max_length=100)] = []
    material_class: MaterialClass = Field(alias="class")
    subclass: Short | None = None
    description: LongText | None = None
    degradable: Boolean | None = None
    composition: Annotated[list[ComponentIn], Field(max_length=200)] = []
    applications: Annotated[list[Application], Field(max_length=50)] = []
    identifiers: Annotated[list[IdentifierIn], Field(max_length=50)] = []
    properties: Annotated[list[PropertyValueIn], Field(max_length=5000)] = []
    biocompatibility: Annotated[list[BiocompatibilityIn], Field(max_length=500)] = []
    regulatory: Annotated[list[RegulatoryIn], Field(max_length=2000)] = []
    suppliers: Annotated[list[SupplierIn], Field(max_length=2000)] = []
    status: MaterialStatus = MaterialStatus.draft
    #: The canonical interval of each property value, once computed (projection).
    _intervals: list[tuple[float, float]] | None = PrivateAttr(default=None)
    #: Per property, its summary (min, max, typical, count, digits), once computed.
    _summary: dict[str, tuple[float, float, float, int, int]] | None = PrivateAttr(default=None)
    # Server-managed: accepted (so an export imports unchanged) and ignored.
    version: Annotated[Integer, Field(ge=1)] | None = Field(default=None, exclude=True)
    created_at: datetime | None = Field(default=None, exclude=True)
    updated_at: datetime | None = Field(default=None, exclude=True)


class Bundle(_Entry):
    """The exchange document: references, organizations and materials."""

    model_config = ConfigDict(
        title="biomatdb bundle",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "The biomatdb exchange format (contract v1, section 1).",
        },
    )

    references: list[ReferenceIn] = []
    organizations: list[OrganizationIn] = []
    materials: list[MaterialIn] = []


def named_records(entries: Iterable[MaterialIn]) -> tuple[set[str], set[str]]:
    """The reference ids the entries cite and the organization ids they name."""
    references: set[str | None] = set()
    organizations: set[str | None] = set()
    for entry in entries:
        # Sets built in C from lists (this runs over every value of an import).
        references.update([p.source for p in entry.properties])
        references.update([b.source for b in entry.biocompatibility])
        for r in entry.regulatory:
            references.add(r.source)
            organizations.update((r.organization, r.notified_body))
        organizations.update([s.organization for s in entry.suppliers])
    references.discard(None)
    organizations.discard(None)
    return cast(set[str], references), cast(set[str], organizations)
