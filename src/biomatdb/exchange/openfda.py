"""openFDA 510(k), De Novo and PMA records as regulatory entries of a bundle.

Reads the documented download format of openFDA's device endpoints
(https://open.fda.gov/apis/device/510k/ and /device/pma/): a JSON object whose
``results`` list holds one record per decision, with ``k_number`` (510(k) and De
Novo) or ``pma_number``, ``applicant``, ``decision_date``, ``decision_code``,
``product_code``, ``device_name`` (PMA: ``trade_name``), ``country_code`` and the
``openfda`` annotation (``device_class``).

FDA clears devices, not materials: which material a device contains is the
curator's call, given as a mapping file (product code, or a word pattern of the
device name -> material ids). The result is an ordinary bundle (the mapped
materials' current entries with the new records appended, the applicants as
organizations, one reference per record), which the caller imports through the
same validating, all-or-nothing importer as any upload.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.errors import FieldProblem
from biomatdb.models import Material, MaterialVersion, Organization
from biomatdb.vocab import country_code

#: Bounds on what a mapping file may hold (patterns are matched against every record).
MAX_MAPPING_RULES = 1000
MAX_PATTERN_LENGTH = 200
#: At most this many records per run (an openFDA download part holds up to 25,000).
MAX_RECORDS = 100_000

#: ``openfda.device_class`` as FDA writes the class.
DEVICE_CLASSES = {"1": "I", "2": "II", "3": "III", "U": "unclassified", "N": "not classified"}
#: The decision codes that put a device on the market.
CLEARED_PREFIX = "SE"  # SESE, SESD, SESK, SESP, SESU, SEKD ...: substantially equivalent
DE_NOVO_GRANTED = "DENG"
PMA_APPROVED = "APPR"

SLUG_PART = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Rule:
    """Device names matching ``pattern`` (shell-style, case ignored) -> materials."""

    pattern: str
    materials: tuple[str, ...]
    regex: re.Pattern[str]


@dataclass
class Mapping:
    """A curator's mapping: which material(s) a device of a product code or a name holds."""

    product_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    device_names: list[Rule] = field(default_factory=list)
    #: Applicant name (as openFDA writes it, case ignored) -> organization id.
    applicants: dict[str, str] = field(default_factory=dict)

    def materials_for(self, product_code: str | None, device_name: str | None) -> list[str]:
        found: list[str] = []
        if product_code:
            found += self.product_codes.get(product_code.upper(), ())
        if device_name:
            for rule in self.device_names:
                if rule.regex.search(device_name):
                    found += rule.materials
        return list(dict.fromkeys(found))


def read_mapping(raw: Any, problems: list[FieldProblem]) -> Mapping:
    """The mapping file: ``{"product_codes": {"HWC": ["ti-6al-4v-eli"]},
    "device_names": [{"pattern": "*PEEK*", "materials": ["peek"]}],
    "applicants": {"Heraeus Medical GmbH": "heraeus-medical"}}``; every problem is
    appended with its JSON path."""
    mapping = Mapping()
    if not isinstance(raw, dict):
        problems.append(FieldProblem("", "a mapping is a JSON object (see --help)"))
        return mapping
    for key in raw:
        if key not in ("product_codes", "device_names", "applicants"):
            problems.append(
                FieldProblem(key, "unknown field; use product_codes, device_names, applicants")
            )
    codes = raw.get("product_codes") or {}
    rules = raw.get("device_names") or []
    if not isinstance(codes, dict) or not isinstance(rules, list):
        problems.append(FieldProblem("", "product_codes is an object, device_names a list"))
        return mapping
    if len(codes) + len(rules) > MAX_MAPPING_RULES:
        problems.append(FieldProblem("", f"at most {MAX_MAPPING_RULES} rules"))
        return mapping
    for code, ids in codes.items():
        materials = _material_ids(ids, f"product_codes.{code}", problems)
        mapping.product_codes[str(code).upper()] = materials
    for index, rule in enumerate(rules):
        parsed = _rule(rule, f"device_names[{index}]", problems)
        if parsed is not None:
            mapping.device_names.append(parsed)
    applicants = raw.get("applicants") or {}
    if not isinstance(applicants, dict) or not all(isinstance(v, str) for v in applicants.values()):
        problems.append(FieldProblem("applicants", "an object of applicant name -> org id"))
    else:
        mapping.applicants = {k.casefold(): v for k, v in applicants.items()}
    return mapping


def _material_ids(ids: Any, path: str, problems: list[FieldProblem]) -> tuple[str, ...]:
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        problems.append(FieldProblem(path, "a material id or a list of them"))
        return ()
    return tuple(ids)


def _rule(rule: Any, path: str, problems: list[FieldProblem]) -> Rule | None:
    if not isinstance(rule, dict) or not isinstance(rule.get("pattern"), str):
        problems.append(FieldProblem(path, 'use {"pattern": "*PEEK*", "materials": ["peek"]}'))
        return None
    pattern = rule["pattern"]
    if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        problems.append(FieldProblem(f"{path}.pattern", f"1 to {MAX_PATTERN_LENGTH} characters"))
        return None
    materials = _material_ids(rule.get("materials"), f"{path}.materials", problems)
    # Shell-style wildcards only (no user regular expressions: nothing to backtrack on).
    regex = re.compile(fnmatch.translate(pattern), re.IGNORECASE)
    return Rule(pattern, materials, regex) if materials else None


@dataclass(frozen=True)
class FdaRecord:
    """One openFDA decision, in the bundle's terms."""

    identifier: str
    pathway: str
    status: str | None  # None: not a decision that markets the device (skipped)
    device_name: str | None
    product_code: str | None
    device_class: str | None
    decision_date: str | None
    applicant: str | None
    country: str | None
    supplement: bool = False

    @property
    def url(self) -> str:
        if self.pathway == "pma":
            return f"https://www.accessdata.fda.gov/scripts/cdrh/cfdocs/cfpma/pma.cfm?id={self.identifier}"
        if self.pathway == "de_novo":
            return f"https://www.accessdata.fda.gov/scripts/cdrh/cfdocs/cfpmn/denovo.cfm?id={self.identifier}"
        return (
            f"https://www.accessdata.fda.gov/scripts/cdrh/cfdocs/cfpmn/pmn.cfm?ID={self.identifier}"
        )


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _date(text: str | None) -> str | None:
    """openFDA writes ``2019-05-01`` (API) or ``20190501`` (some downloads)."""
    if text is None:
        return None
    if re.fullmatch(r"\d{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None


def parse_record(record: Any, path: str, problems: list[FieldProblem]) -> FdaRecord | None:
    """One ``results[]`` item of the 510(k) or the PMA endpoint."""
    if not isinstance(record, dict):
        problems.append(FieldProblem(path, "a record is a JSON object"))
        return None
    found = record.get("openfda")
    annotation: dict[str, Any] = found if isinstance(found, dict) else {}
    device_class = annotation.get("device_class")
    common: dict[str, Any] = {
        "product_code": _text(record, "product_code"),
        "device_class": DEVICE_CLASSES.get(device_class) if isinstance(device_class, str) else None,
        "decision_date": _date(_text(record, "decision_date")),
        "applicant": _text(record, "applicant"),
        "country": country_code(_text(record, "country_code") or ""),
    }
    decision = (_text(record, "decision_code") or "").upper()
    if (number := _text(record, "k_number")) is not None:
        number = number.upper()
        de_novo = number.startswith("DEN")
        # The 510(k) dataset holds substantially-equivalent decisions (its documented
        # codes all start with SE); a record without a code is one of them too.
        granted = (
            decision == DE_NOVO_GRANTED
            if de_novo
            else not decision or decision.startswith(CLEARED_PREFIX)
        )
        return FdaRecord(
            identifier=number,
            pathway="de_novo" if de_novo else "510k",
            status=("approved" if de_novo else "cleared") if granted else None,
            device_name=_text(record, "device_name"),
            **common,
        )
    if (number := _text(record, "pma_number")) is not None:
        return FdaRecord(
            identifier=number.upper(),
            pathway="pma",
            status="approved" if decision == PMA_APPROVED else None,
            device_name=_text(record, "trade_name") or _text(record, "generic_name"),
            supplement=bool(_text(record, "supplement_number")),
            **common,
        )
    problems.append(FieldProblem(path, "neither k_number (510(k), De Novo) nor pma_number"))
    return None


def read_records(document: Any, name: str, problems: list[FieldProblem]) -> list[FdaRecord]:
    """Every record of one openFDA file (``{"meta": ..., "results": [...]}``)."""
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, list):
        problems.append(FieldProblem(name, 'not an openFDA file: expected {"results": [...]}'))
        return []
    if len(results) > MAX_RECORDS:
        problems.append(FieldProblem(name, f"at most {MAX_RECORDS:,} records per run"))
        return []
    records = [parse_record(r, f"{name}: results[{i}]", problems) for i, r in enumerate(results)]
    return [r for r in records if r is not None]


@dataclass
class Conversion:
    """The bundle to import and what was left out, and why."""

    bundle: dict[str, Any]
    added: int = 0
    already_present: int = 0
    not_marketing: list[str] = field(default_factory=list)
    supplements: int = 0
    unmatched: list[str] = field(default_factory=list)


def slug(text: str) -> str:
    """An organization id from an applicant's name."""
    return SLUG_PART.sub("-", text.casefold()).strip("-")[:128] or "applicant"


def to_bundle(
    session: Session,
    records: Sequence[FdaRecord],
    mapping: Mapping,
    problems: list[FieldProblem],
) -> Conversion:
    """The mapped materials' current entries with the records appended (each once),
    the applicants as organizations, one reference per record."""
    conversion = Conversion(bundle={})
    wanted: dict[str, list[FdaRecord]] = {}
    for record in records:
        if record.supplement:
            conversion.supplements += 1
        elif record.status is None:
            conversion.not_marketing.append(record.identifier)
        elif materials := mapping.materials_for(record.product_code, record.device_name):
            for material in materials:
                wanted.setdefault(material, []).append(record)
        else:
            conversion.unmatched.append(record.identifier)
    entries = current_entries(session, sorted(wanted))
    for missing in sorted(set(wanted) - set(entries)):
        problems.append(
            FieldProblem(
                f"mapping: {missing}", f"no material {missing!r} in the database; fix the mapping"
            )
        )
    organizations: dict[str, dict[str, Any]] = {}
    references: dict[str, dict[str, Any]] = {}
    for material_id, entry in entries.items():
        regulatory = entry.setdefault("regulatory", [])
        present = {(r.get("jurisdiction"), r.get("identifier")) for r in regulatory}
        for record in wanted[material_id]:
            if ("US-FDA", record.identifier) in present:
                conversion.already_present += 1
                continue
            present.add(("US-FDA", record.identifier))
            regulatory.append(_regulatory(record, mapping, organizations, references))
            conversion.added += 1
    known = _known_organizations(session, organizations)
    conversion.bundle = {
        "references": list(references.values()),
        "organizations": [o for slug_, o in organizations.items() if slug_ not in known],
        "materials": list(entries.values()),
    }
    return conversion


def _regulatory(
    record: FdaRecord,
    mapping: Mapping,
    organizations: dict[str, dict[str, Any]],
    references: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    organization = None
    if record.applicant:
        organization = mapping.applicants.get(record.applicant.casefold()) or slug(record.applicant)
        organizations.setdefault(
            organization,
            {"id": organization, "name": record.applicant, "kind": "manufacturer"}
            | ({"country": record.country} if record.country else {}),
        )
    reference = f"openfda-{record.identifier.lower()}"
    what = {"510k": "510(k)", "de_novo": "De Novo", "pma": "PMA"}[record.pathway]
    references[reference] = {
        "id": reference,
        "citation": f"U.S. FDA {what} {record.identifier}"
        + (f": {record.device_name}" if record.device_name else "")
        + (f" ({record.applicant})" if record.applicant else "")
        + (f", decision {record.decision_date}" if record.decision_date else "")
        + ". Record of openFDA's device endpoint.",
        "url": record.url,
    } | ({"year": int(record.decision_date[:4])} if record.decision_date else {})
    entry = {
        "jurisdiction": "US-FDA",
        "pathway": record.pathway,
        "status": record.status,
        "identifier": record.identifier,
        "device_class": record.device_class,
        "product_code": record.product_code,
        "device_name": record.device_name,
        "decision_date": record.decision_date,
        "organization": organization,
        "source": reference,
    }
    return {k: v for k, v in entry.items() if v is not None}


def current_entries(session: Session, slugs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The latest version of each material as a bundle entry (status included)."""
    rows = session.execute(
        select(Material.slug, MaterialVersion.entry, MaterialVersion.status)
        .join(
            MaterialVersion,
            (MaterialVersion.material_id == Material.id)
            & (MaterialVersion.version == Material.latest_version),
        )
        .where(Material.slug.in_(list(slugs)))
    )
    return {s: {**entry, "status": status} for s, entry, status in rows}


def _known_organizations(session: Session, organizations: dict[str, Any]) -> set[str]:
    """Organizations already in the database are named, not redefined."""
    if not organizations:
        return set()
    return set(
        session.scalars(select(Organization.slug).where(Organization.slug.in_(list(organizations))))
    )
