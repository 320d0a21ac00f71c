"""A synthetic corpus with the shape of real data, for benchmarks (never for seed/).

Deterministic for a given seed: the same ``(materials, seed)`` always gives the
same bundle, byte for byte. Names and organizations say "Synthetic" so that the
data can never be mistaken for real records.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biomatdb.vocab import Jurisdiction, RegulatoryStatus

# class: (share, subclasses, base names, applications, degradable share)
CLASSES: dict[str, tuple[float, list[str], list[str], list[str], float]] = {
    "metal": (
        0.25,
        [
            "titanium alloy",
            "cobalt-chromium alloy",
            "stainless steel",
            "magnesium alloy",
            "nickel-titanium alloy",
            "tantalum",
            "zinc alloy",
        ],
        ["titanium", "cobalt chromium", "steel", "magnesium", "nitinol", "tantalum", "zinc"],
        ["orthopedic", "spinal", "dental", "cardiovascular", "maxillofacial"],
        0.12,
    ),
    "ceramic": (
        0.15,
        ["oxide ceramic", "calcium phosphate", "zirconia", "silicate"],
        ["alumina", "zirconia", "hydroxyapatite", "tricalcium phosphate", "calcium silicate"],
        ["orthopedic", "dental", "maxillofacial", "tissue_engineering"],
        0.35,
    ),
    "glass": (
        0.05,
        ["silicate glass", "borate glass", "phosphate glass", "glass-ceramic"],
        ["bioactive glass", "borate glass", "phosphate glass", "glass ceramic"],
        ["dental", "orthopedic", "wound_healing", "tissue_engineering"],
        0.7,
    ),
    "polymer": (
        0.30,
        ["polyester", "polyolefin", "polyaryletherketone", "silicone", "polyurethane", "hydrogel"],
        [
            "polylactide",
            "polycaprolactone",
            "polyethylene",
            "PEEK",
            "silicone",
            "polyurethane",
            "hydrogel",
            "polyglycolide",
        ],
        [
            "drug_delivery",
            "cardiovascular",
            "ophthalmic",
            "spinal",
            "soft_tissue",
            "tissue_engineering",
            "orthopedic",
        ],
        0.5,
    ),
    "composite": (
        0.10,
        ["fibre-reinforced polymer", "ceramic-polymer composite", "ceramic matrix composite"],
        [
            "carbon fibre PEEK",
            "hydroxyapatite polylactide",
            "bioglass polycaprolactone",
            "zirconia toughened alumina",
        ],
        ["orthopedic", "spinal", "maxillofacial", "dental"],
        0.4,
    ),
    "natural": (
        0.15,
        ["protein", "polysaccharide", "decellularized matrix"],
        [
            "collagen",
            "silk fibroin",
            "chitosan",
            "alginate",
            "hyaluronic acid",
            "gelatin",
            "fibrin",
            "cellulose",
        ],
        [
            "wound_healing",
            "tissue_engineering",
            "soft_tissue",
            "drug_delivery",
            "neural",
            "ophthalmic",
        ],
        0.9,
    ),
}

# property: (canonical unit, per-class (median, spread as a log factor), unit variants)
PROPERTIES: dict[str, tuple[dict[str, tuple[float, float]], list[tuple[str, float, float]]]] = {
    # unit variants: (unit, scale from canonical, offset) so value = canonical * scale + offset
    "youngs_modulus": (
        {
            "metal": (110, 0.5),
            "ceramic": (250, 0.6),
            "glass": (60, 0.4),
            "polymer": (2, 1.2),
            "composite": (18, 0.8),
            "natural": (0.05, 2.0),
        },
        [("GPa", 1, 0), ("MPa", 1000, 0), ("ksi", 145.0377, 0), ("psi", 145037.7, 0)],
    ),
    "tensile_strength": (
        {
            "metal": (700, 0.4),
            "ceramic": (250, 0.5),
            "glass": (60, 0.4),
            "polymer": (45, 0.6),
            "composite": (120, 0.6),
            "natural": (10, 1.5),
        },
        [("MPa", 1, 0), ("ksi", 0.1450377, 0), ("psi", 145.0377, 0)],
    ),
    "yield_strength": (
        {"metal": (550, 0.4), "polymer": (30, 0.5), "composite": (90, 0.5)},
        [("MPa", 1, 0), ("ksi", 0.1450377, 0)],
    ),
    "compressive_strength": (
        {
            "metal": (900, 0.4),
            "ceramic": (1500, 0.8),
            "glass": (500, 0.6),
            "polymer": (90, 0.6),
            "composite": (200, 0.6),
            "natural": (2, 1.5),
        },
        [("MPa", 1, 0), ("kPa", 1000, 0)],
    ),
    "flexural_strength": (
        {"ceramic": (500, 0.5), "glass": (120, 0.4), "composite": (200, 0.5), "polymer": (80, 0.5)},
        [("MPa", 1, 0)],
    ),
    "fatigue_strength": ({"metal": (400, 0.4), "polymer": (25, 0.5)}, [("MPa", 1, 0)]),
    "elongation_at_break": (
        {"metal": (15, 0.6), "polymer": (60, 1.2), "natural": (20, 0.8), "composite": (3, 0.6)},
        [("%", 1, 0)],
    ),
    "fracture_toughness": (
        {"metal": (55, 0.5), "ceramic": (5, 0.5), "glass": (1, 0.4), "composite": (6, 0.5)},
        [("MPa*m^0.5", 1, 0)],
    ),
    "vickers_hardness": (
        {"metal": (300, 0.5), "ceramic": (1500, 0.4), "glass": (550, 0.3)},
        [("HV", 1, 0), ("GPa", 0.00980665, 0)],
    ),
    "density": (
        {
            "metal": (6, 0.4),
            "ceramic": (3.5, 0.3),
            "glass": (2.6, 0.1),
            "polymer": (1.2, 0.2),
            "composite": (1.8, 0.3),
            "natural": (1.3, 0.2),
        },
        [("g/cm^3", 1, 0), ("kg/m^3", 1000, 0)],
    ),
    "porosity": (
        {"ceramic": (40, 0.6), "natural": (85, 0.1), "composite": (60, 0.4), "polymer": (70, 0.3)},
        [("%", 1, 0)],
    ),
    "pore_size": (
        {
            "ceramic": (300, 0.6),
            "natural": (150, 0.7),
            "polymer": (200, 0.6),
            "composite": (250, 0.6),
        },
        [("um", 1, 0), ("mm", 0.001, 0)],
    ),
    "degradation_time": (
        {
            "metal": (12, 0.6),
            "polymer": (12, 1.0),
            "natural": (3, 1.0),
            "ceramic": (24, 0.6),
            "glass": (6, 0.8),
        },
        [("month", 1, 0), ("week", 4.348125, 0)],
    ),
    "water_contact_angle": (
        {"polymer": (75, 0.3), "metal": (60, 0.3), "natural": (45, 0.4)},
        [("degree", 1, 0)],
    ),
    "glass_transition_temperature": (
        {"polymer": (60, 0.5), "glass": (550, 0.2)},
        [("degC", 1, 0), ("K", 1, 273.15)],
    ),
    "melting_temperature": (
        {"polymer": (170, 0.4), "metal": (1500, 0.3)},
        [("degC", 1, 0), ("K", 1, 273.15)],
    ),
}
BOUNDED = {"porosity": 100.0, "water_contact_angle": 180.0}
WORDS = [
    "porous",
    "scaffold",
    "coating",
    "implant",
    "resorbable",
    "load-bearing",
    "sintered",
    "electrospun",
    "injectable",
    "fibrous",
    "dense",
    "nanostructured",
    "antibacterial",
    "osteoconductive",
    "biocompatible",
    "printed",
    "cross-linked",
    "annealed",
    "forged",
    "cast",
    "machined",
    "membrane",
    "film",
    "sponge",
    "hydrogel",
    "bone",
    "cartilage",
    "tendon",
    "vascular",
    "dental",
    "spinal",
    "cranial",
    "wound",
    "nerve",
    "cornea",
]
SPECIMENS = ["bulk", "film", "fiber", "scaffold", "coating", "bar", "powder"]
COUNTRIES = [
    "US",
    "DE",
    "IT",
    "JP",
    "CH",
    "FR",
    "GB",
    "NL",
    "CN",
    "KR",
    "SE",
    "FI",
    "IE",
    "BE",
    "ES",
    "CA",
    "AU",
    "IN",
    "BR",
    "IL",
]
KINDS = ["manufacturer", "supplier", "distributor"]


@dataclass(frozen=True)
class Shape:
    """Sizes of the shared pools, scaled with the corpus."""

    organizations: int
    references: int


def shape_for(materials: int) -> Shape:
    """Shared pools grow sublinearly, as in real data (many materials per supplier)."""
    return Shape(
        organizations=max(20, int(math.sqrt(materials) * 3)), references=max(30, materials // 10)
    )


def generate(materials: int, seed: int) -> dict[str, Any]:
    """A bundle of ``materials`` synthetic, published materials."""
    shared, entries = _corpus(materials, seed)
    return {**shared, "materials": list(entries)}


def write_bundle(path: Path, materials: int, seed: int) -> None:
    """The bundle of :func:`generate`, written to ``path`` a material at a time (the same
    bytes as ``json.dumps(generate(...), separators=(",", ":"))``): a million materials
    take 2.4 GB on disk and one material in memory."""
    shared, entries = _corpus(materials, seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(shared, separators=(",", ":"))[:-1] + ',"materials":[')
        for index, entry in enumerate(entries):
            out.write(("," if index else "") + json.dumps(entry, separators=(",", ":")))
        out.write("]}")


def _corpus(materials: int, seed: int) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The references and organizations, and the materials one by one (drawn from the
    same random sequence, so the corpus of a seed is always the same)."""
    rng = random.Random(seed)
    shape = shape_for(materials)
    organizations = [
        {
            "id": f"synth-org-{i:05d}",
            "name": f"Synthetic Organization {i:05d}",
            "kind": rng.choice(KINDS),
            "country": rng.choice(COUNTRIES),
        }
        for i in range(shape.organizations)
    ]
    references = [
        {
            "id": f"synth-ref-{i:06d}",
            "citation": f"Synthetic reference {i:06d} (benchmark data, not a publication)",
            "year": rng.randint(1985, 2025),
        }
        for i in range(shape.references)
    ]
    classes = list(CLASSES)
    weights = [CLASSES[c][0] for c in classes]

    def entries() -> Iterator[dict[str, Any]]:
        for index in range(materials):
            yield _material(rng, index, rng.choices(classes, weights)[0], shape)

    return {"references": references, "organizations": organizations}, entries()


def _material(rng: random.Random, index: int, cls: str, shape: Shape) -> dict[str, Any]:
    _, subclasses, bases, applications, degradable_share = CLASSES[cls]
    base = rng.choice(bases)
    words = rng.sample(WORDS, 6)
    name = f"Synthetic {base} {rng.choice('ABCDEFGHJKLMNPRSTUVWXZ')}{index:06d}"
    entry: dict[str, Any] = {
        "id": f"synth-{index:07d}",
        "name": name,
        "synonyms": [f"SX-{index:06d}"],
        "class": cls,
        "subclass": rng.choice(subclasses),
        "description": f"Synthetic {base} for {words[0]} {words[1]} use; {words[2]}, "
        f"{words[3]} and {words[4]} {words[5]} variants.",
        "degradable": rng.random() < degradable_share,
        "applications": rng.sample(applications, rng.randint(1, min(3, len(applications)))),
        "properties": _properties(rng, cls, shape),
        "suppliers": [
            {
                "organization": f"synth-org-{rng.randrange(shape.organizations):05d}",
                "trade_name": f"SynthTrade {base.split()[0].capitalize()} {rng.randint(1, 999)}",
                "form": rng.choice(["bar", "powder", "sheet", "granules", "fiber"]),
            }
            for _ in range(rng.choice((1, 2, 2, 3)))
        ],
        "regulatory": [_regulatory(rng, shape) for _ in range(rng.randint(1, 3))],
        "status": "published",
    }
    return entry


def _properties(rng: random.Random, cls: str, shape: Shape) -> list[dict[str, Any]]:
    available = [key for key, (per_class, _) in PROPERTIES.items() if cls in per_class]
    values: list[dict[str, Any]] = []
    while len(values) < 15:
        for key in available:
            if len(values) >= 15:
                break
            median, spread = PROPERTIES[key][0][cls]
            canonical = median * math.exp(rng.gauss(0, spread) * 0.5)
            canonical = min(canonical, BOUNDED.get(key, math.inf) * 0.99)
            unit, scale, offset = rng.choice(PROPERTIES[key][1])
            value: dict[str, Any] = {
                "property": key,
                "unit": unit,
                "source": f"synth-ref-{rng.randrange(shape.references):06d}",
            }
            if rng.random() < 0.3:
                low = canonical * rng.uniform(0.8, 0.95)
                high = min(canonical * rng.uniform(1.05, 1.25), BOUNDED.get(key, math.inf))
                value["min"] = round(low * scale + offset, 4)
                value["max"] = round(high * scale + offset, 4)
            else:
                value["value"] = round(canonical * scale + offset, 4)
                if rng.random() < 0.2:
                    value["uncertainty"] = round(abs(canonical * scale) * 0.05, 4)
            if rng.random() < 0.5:
                value["specimen"] = rng.choice(SPECIMENS)
            values.append(value)
    return values


def _regulatory(rng: random.Random, shape: Shape) -> dict[str, Any]:
    jurisdiction = rng.choices([j.value for j in Jurisdiction][:7], [40, 30, 10, 8, 5, 4, 3])[0]
    status = rng.choices([s.value for s in RegulatoryStatus], [40, 20, 25, 8, 5, 2])[0]
    return {
        "jurisdiction": jurisdiction,
        "status": status,
        "pathway": {"US-FDA": "510k", "EU-MDR": "CE", "JP-PMDA": "shonin"}.get(jurisdiction),
        "device_name": f"Synthetic device {rng.randint(1, 99999):05d}",
        "organization": f"synth-org-{rng.randrange(shape.organizations):05d}",
    }
