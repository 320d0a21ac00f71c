"""Rendering a stored version (its bundle entry) as the whole-material wire type.

Every view of a whole material goes through here: the public detail (the
published version), a curator's view of the latest version, and any version of
the history; so they are all shaped, converted and expanded alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb import units
from biomatdb.identifiers import schemes
from biomatdb.kit.timefmt import iso_utc
from biomatdb.materials.projection import typical_value
from biomatdb.models import Organization, Reference
from biomatdb.organizations.schemas import organization_json
from biomatdb.references.schemas import reference_json
from biomatdb.units.output import CANONICAL, OutputUnits


@dataclass(frozen=True)
class Links:
    """The references and organizations that entries point to, by id."""

    references: dict[str, Reference]
    organizations: dict[str, Organization]


def load_links(session: Session, entries: Iterable[dict[str, Any]]) -> Links:
    """Fetch, in two queries, every reference and organization the entries name."""
    ref_slugs: set[str] = set()
    org_slugs: set[str] = set()
    for entry in entries:
        for key in ("properties", "biocompatibility", "regulatory"):
            ref_slugs.update(item["source"] for item in entry.get(key) or [] if item.get("source"))
        for record in entry.get("regulatory") or []:
            org_slugs.update(
                record[key] for key in ("organization", "notified_body") if record.get(key)
            )
        org_slugs.update(s["organization"] for s in entry.get("suppliers") or [])
    references = (
        {
            r.slug: r
            for r in session.scalars(select(Reference).where(Reference.slug.in_(sorted(ref_slugs))))
        }
        if ref_slugs
        else {}
    )
    organizations = (
        {
            o.slug: o
            for o in session.scalars(
                select(Organization).where(Organization.slug.in_(sorted(org_slugs)))
            )
        }
        if org_slugs
        else {}
    )
    return Links(references, organizations)


def render(
    entry: dict[str, Any],
    *,
    status: str,
    version: int,
    created_at: datetime,
    updated_at: datetime,
    links: Links,
    out: OutputUnits = CANONICAL,
) -> dict[str, Any]:
    """A stored entry as the whole material in wire form (the shape of ``MaterialOut``),
    sources and organizations expanded.

    Built as plain data from the stored entry, which was validated when it was
    written: rendering is on the hot path of every detail request.
    """
    properties, summary = _properties(entry, links, out)
    return {
        "id": entry["id"],
        "name": entry["name"],
        "synonyms": list(entry.get("synonyms") or []),
        "class": entry["class"],
        "subclass": entry.get("subclass"),
        "description": entry.get("description"),
        "degradable": entry.get("degradable"),
        "composition": [
            {"component": c["component"], "fraction": c["fraction"], "basis": c["basis"]}
            for c in entry.get("composition") or []
        ],
        "applications": list(entry.get("applications") or []),
        "identifiers": [
            {"scheme": i["scheme"], "id": i["id"], "url": schemes.link(i["scheme"], i["id"])}
            for i in entry.get("identifiers") or []
        ],
        "properties": properties,
        "summary": summary,
        **_records(entry, links),
        "status": status,
        "version": version,
        "created_at": iso_utc(created_at),
        "updated_at": iso_utc(updated_at),
    }


def _source(links: Links, slug: str | None) -> dict[str, Any] | None:
    return reference_json(links.references.get(slug)) if slug else None


def _properties(
    entry: dict[str, Any], links: Links, out: OutputUnits
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Each value as given and canonical (or in the unit ``out`` asks for), and the
    summary per property; derived values to the digits of their sources."""
    properties = []
    intervals: dict[str, list[tuple[float, float]]] = {}
    numbers: dict[str, list[float | None]] = {}
    for value in entry.get("properties") or []:
        key = value["property"]
        given = value.get("value")
        bounds = (given, value.get("min"), value.get("max"))
        convert = units.conversion(value["unit"], key)
        low, high = units.canonical_interval(convert, *bounds)
        intervals.setdefault(key, []).append((low, high))
        numbers.setdefault(key, []).extend(bounds)
        digits = units.derived_digits(bounds)
        properties.append(
            {
                "property": key,
                "value": given,
                "min": value.get("min"),
                "max": value.get("max"),
                "unit": value["unit"],
                "qualifier": value.get("qualifier") or "=",
                "uncertainty": value.get("uncertainty"),
                "specimen": value.get("specimen"),
                "evidence": value.get("evidence"),
                "method": value.get("method"),
                "conditions": value.get("conditions"),
                "source": _source(links, value.get("source")),
                "canonical": {
                    "min": out.show(key, low, digits),
                    "max": out.show(key, high, digits),
                    "unit": out.unit(key),
                },
            }
        )
    summary = {}
    for key, found in sorted(intervals.items()):
        digits = units.derived_digits(numbers[key])
        summary[key] = {
            "min": out.show(key, min(lo for lo, _ in found), digits),
            "max": out.show(key, max(hi for _, hi in found), digits),
            "typical": out.show(key, typical_value(found), digits),
            "unit": out.unit(key),
            "count": len(found),
        }
    return properties, summary


def _records(entry: dict[str, Any], links: Links) -> dict[str, list[dict[str, Any]]]:
    """Biocompatibility results, regulatory records and suppliers, expanded."""
    orgs = links.organizations
    return {
        "biocompatibility": [
            {
                "endpoint": b["endpoint"],
                "standard": b.get("standard"),
                "result": b["result"],
                "source": _source(links, b.get("source")),
            }
            for b in entry.get("biocompatibility") or []
        ],
        "regulatory": [
            {
                "jurisdiction": r["jurisdiction"],
                "pathway": r.get("pathway"),
                "status": r["status"],
                "identifier": r.get("identifier"),
                "device_class": r.get("device_class"),
                "product_code": r.get("product_code"),
                "gmdn": r.get("gmdn"),
                "device_name": r.get("device_name"),
                "decision_date": r.get("decision_date"),
                "organization": organization_json(orgs.get(r["organization"]))
                if r.get("organization")
                else None,
                "notified_body": organization_json(orgs.get(r["notified_body"]))
                if r.get("notified_body")
                else None,
                "source": _source(links, r.get("source")),
            }
            for r in entry.get("regulatory") or []
        ],
        "suppliers": [
            {
                "organization": organization_json(orgs.get(s["organization"])),
                "trade_name": s.get("trade_name"),
                "grade": s.get("grade"),
                "form": s.get("form"),
            }
            for s in entry.get("suppliers") or []
        ],
    }
