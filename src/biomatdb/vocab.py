"""Controlled vocabularies of the bundle format (contract section 1)."""

from __future__ import annotations

from enum import StrEnum


class MaterialClass(StrEnum):
    metal = "metal"
    ceramic = "ceramic"
    glass = "glass"
    polymer = "polymer"
    composite = "composite"
    natural = "natural"


class MaterialStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    published = "published"
    retracted = "retracted"


class Application(StrEnum):
    orthopedic = "orthopedic"
    spinal = "spinal"
    dental = "dental"
    maxillofacial = "maxillofacial"
    craniofacial = "craniofacial"
    cardiovascular = "cardiovascular"
    neural = "neural"
    ophthalmic = "ophthalmic"
    soft_tissue = "soft_tissue"
    wound_healing = "wound_healing"
    drug_delivery = "drug_delivery"
    tissue_engineering = "tissue_engineering"
    urology = "urology"
    general_surgery = "general_surgery"
    otology = "otology"
    sutures = "sutures"


class CompositionBasis(StrEnum):
    mass = "mass"
    mole = "mole"
    volume = "volume"


class OrganizationKind(StrEnum):
    manufacturer = "manufacturer"
    supplier = "supplier"
    distributor = "distributor"
    research_institute = "research_institute"
    test_laboratory = "test_laboratory"
    notified_body = "notified_body"


class Qualifier(StrEnum):
    eq = "="
    approx = "~"
    ge = ">="
    le = "<="


class Evidence(StrEnum):
    """What kind of evidence a property value is (contract section 8)."""

    #: Measured on this material, as described by specimen and conditions.
    measured = "measured"
    #: A standard's or a supplier's specified value or minimum.
    specification = "specification"
    #: A handbook value for this grade.
    handbook = "handbook"
    #: A value given for a wider class (e.g. "Ti alloys"), attached to this grade.
    class_generic = "class_generic"
    #: A value assumed in a model.
    model_input = "model_input"


class IdentifierScheme(StrEnum):
    """Outside vocabularies a material links to (contract section 8)."""

    chebi = "chebi"
    pubchem_cid = "pubchem_cid"
    cas = "cas"
    mesh = "mesh"
    unii = "unii"
    wikidata = "wikidata"


class BiocompatibilityEndpoint(StrEnum):
    cytotoxicity = "cytotoxicity"
    sensitization = "sensitization"
    irritation = "irritation"
    systemic_toxicity = "systemic_toxicity"
    genotoxicity = "genotoxicity"
    implantation = "implantation"
    hemocompatibility = "hemocompatibility"
    carcinogenicity = "carcinogenicity"
    degradation = "degradation"


class BiocompatibilityResult(StrEnum):
    passed = "pass"
    failed = "fail"
    inconclusive = "inconclusive"


class Jurisdiction(StrEnum):
    us_fda = "US-FDA"
    eu_mdr = "EU-MDR"
    jp_pmda = "JP-PMDA"
    cn_nmpa = "CN-NMPA"
    uk_mhra = "UK-MHRA"
    ca_hc = "CA-HC"
    au_tga = "AU-TGA"
    kr_mfds = "KR-MFDS"
    br_anvisa = "BR-ANVISA"
    in_cdsco = "IN-CDSCO"


class RegulatoryStatus(StrEnum):
    cleared = "cleared"
    approved = "approved"
    ce_marked = "ce_marked"
    pending = "pending"
    withdrawn = "withdrawn"
    refused = "refused"


def values(enum: type[StrEnum]) -> list[str]:
    """The wire values of a vocabulary, in declaration order."""
    return [member.value for member in enum]


def country_code(text: str) -> str | None:
    """``text`` as an ISO 3166-1 alpha-2 code (case-insensitive), or None if it is none."""
    import pycountry

    upper = text.strip().upper()
    valid = len(upper) == 2 and upper.isascii() and upper.isalpha()
    return upper if valid and pycountry.countries.get(alpha_2=upper) else None
