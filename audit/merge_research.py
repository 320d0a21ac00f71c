"""Merge the research bundles of issue 12 (research/issue12/*.json) into seed/.

Each research bundle holds new materials, and for materials already in seed/ only the
items to add (the research helpers' brief, research/issue12/BRIEF.md). An import
replaces a whole material, so those items are appended to the seed entries here,
each once (a regulatory record by jurisdiction and identifier, an identifier by scheme
and id, anything else by its whole content). New materials go to the seed file of
their class; new references and organizations to 00-references.json and
05-organizations.json (an id defined twice must be defined alike, else the merge
stops and names it).

The quotes of each research bundle (<name>-quotes.json, the source text that shows
each value) follow their items to their place in seed/ and are written to
audit/quotes.json, which audit/check.py samples for docs/data-audit.md.

    python audit/merge_research.py [--research research/issue12] [--check]

``--check`` writes nothing and fails when merging would change seed/ (CI-style).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Research bundles in merge order (earlier ones win a tie on a material's fields).
ORDER = [
    "polyesters",
    "hydrogels-biocompat",
    "metals",
    "ceramics",
    "polymers",
    "resorbables",
    "naturals",
    "ceramics2",
    "scaffolds",
    "biocompat",
    "fda",
    "eu-jp",
]
LISTS = (
    "synonyms",
    "applications",
    "identifiers",
    "composition",
    "properties",
    "biocompatibility",
    "regulatory",
    "suppliers",
)
SCALARS = ("subclass", "description", "degradable")
KINDS = {
    "property": "properties",
    "regulatory": "regulatory",
    "biocompatibility": "biocompatibility",
}
METALLIC = {"metal", "ceramic", "glass"}
SEED_FILES = {
    "references": "00-references.json",
    "organizations": "05-organizations.json",
    "metallic": "10-metals-ceramics-glasses.json",
    "other": "20-polymers-composites-natural.json",
}


class MergeError(Exception):
    pass


def identity(field: str, item: Any) -> Any:
    """What makes two items of a list the same item."""
    if field == "regulatory" and item.get("identifier"):
        return (item["jurisdiction"], item["identifier"].upper())
    if field == "identifiers":
        return (item["scheme"], str(item["id"]).upper())
    return json.dumps(item, sort_keys=True)


class Seed:
    """The seed files, indexed by id."""

    def __init__(self, seed_dir: Path) -> None:
        self.dir = seed_dir
        self.files = {
            name: json.loads((seed_dir / name).read_text(encoding="utf-8"))
            for name in sorted(p.name for p in seed_dir.glob("*.json"))
        }
        self.warnings: list[str] = []
        self.materials: dict[str, dict[str, Any]] = {}
        self.references: dict[str, dict[str, Any]] = {}
        self.organizations: dict[str, dict[str, Any]] = {}
        for document in self.files.values():
            for m in document.get("materials", []):
                self.materials[m["id"]] = m
            for r in document.get("references", []):
                self.references[r["id"]] = r
            for o in document.get("organizations", []):
                self.organizations[o["id"]] = o

    def add_record(self, kind: str, entry: dict[str, Any], origin: str) -> None:
        known = self.references if kind == "references" else self.organizations
        found = known.get(entry["id"])
        if found is None:
            known[entry["id"]] = entry
            self.files[SEED_FILES[kind]].setdefault(kind, []).append(entry)
        else:  # the first definition stands; later ones only fill what it lacks
            for key, value in entry.items():
                if found.get(key) is None and value is not None:
                    found[key] = value
                elif value is not None and found[key] != value:
                    self.warnings.append(
                        f"{origin}: {kind} {entry['id']} {key}: kept {found[key]!r}, not {value!r}"
                    )

    def add_material(self, entry: dict[str, Any], origin: str) -> dict[tuple[str, int], int]:
        """Merge one research entry; returns (list, research index) -> seed index."""
        moved: dict[tuple[str, int], int] = {}
        target = self.materials.get(entry["id"])
        if target is None:
            target = {k: v for k, v in entry.items() if k not in LISTS}
            target.setdefault("status", "published")
            self.materials[entry["id"]] = target
            group = "metallic" if entry["class"] in METALLIC else "other"
            self.files[SEED_FILES[group]].setdefault("materials", []).append(target)
        elif target["class"] != entry["class"]:
            raise MergeError(
                f"{origin}: {entry['id']} is {entry['class']}, seed says {target['class']}"
            )
        for field in SCALARS:
            if target.get(field) is None and entry.get(field) is not None:
                target[field] = entry[field]
        for field in LISTS:
            items = target.setdefault(field, [])
            seen = {identity(field, item): i for i, item in enumerate(items)}
            for index, item in enumerate(entry.get(field) or []):
                key = identity(field, item)
                if key not in seen:
                    items.append(item)
                    seen[key] = len(items) - 1
                moved[(field, index)] = seen[key]
            if not items:
                del target[field]
        return moved

    def write(self) -> dict[str, str]:
        """The files as they would be written (name -> text)."""
        return {
            name: json.dumps(document, indent=1, ensure_ascii=False) + "\n"
            for name, document in self.files.items()
        }


def apply_evidence(seed: Seed, path: Path) -> None:
    """research/issue12/seed-evidence.json: the evidence of each value the seed had
    before issue 12 (and a note for the doubtful ones), judged against its source."""
    if not path.exists():
        return
    for judged in json.loads(path.read_text(encoding="utf-8")):
        values = seed.materials[judged["material"]]["properties"]
        value = values[judged["index"]]
        if value["property"] != judged["property"] or value.get("source") != judged["source"]:
            raise MergeError(f"seed-evidence: {judged['material']}[{judged['index']}] moved")
        if judged["evidence"] != "unsure" and value.get("evidence") is None:
            value["evidence"] = judged["evidence"]
        note = judged.get("note")
        conditions = value.setdefault("conditions", {})
        if note and "note" not in conditions:
            conditions["note"] = note
        if not conditions:
            del value["conditions"]


def merge(research: Path, seed_dir: Path) -> tuple[Seed, list[dict[str, Any]]]:
    seed = Seed(seed_dir)
    apply_evidence(seed, research / "seed-evidence.json")
    quotes: list[dict[str, Any]] = []
    for name in ORDER:
        path = research / f"{name}.json"
        if not path.exists():
            continue
        bundle = json.loads(path.read_text(encoding="utf-8"))
        for reference in bundle.get("references", []):
            seed.add_record("references", reference, name)
        for organization in bundle.get("organizations", []):
            seed.add_record("organizations", organization, name)
        moved: dict[str, dict[tuple[str, int], int]] = {}
        for entry in bundle.get("materials", []):
            moved[entry["id"]] = seed.add_material(entry, name)
        quotes_path = research / f"{name}-quotes.json"
        for quote in json.loads(quotes_path.read_text()) if quotes_path.exists() else []:
            field = KINDS[quote["kind"]]
            index = moved.get(quote["material"], {}).get((field, quote["index"]))
            if index is None:
                raise MergeError(
                    f"{name}-quotes: no {field}[{quote['index']}] of {quote['material']}"
                )
            item = seed.materials[quote["material"]][field][index]
            quotes.append({**quote, "index": index, "research": name, "item": item})
    return seed, quotes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--research", type=Path, default=ROOT / "research" / "issue12")
    parser.add_argument("--seed", type=Path, default=ROOT / "seed")
    parser.add_argument("--quotes", type=Path, default=ROOT / "audit" / "quotes.json")
    parser.add_argument("--check", action="store_true", help="write nothing; fail on a change")
    args = parser.parse_args()
    try:
        seed, quotes = merge(args.research, args.seed)
    except MergeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for warning in seed.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    texts = seed.write()
    quotes_text = json.dumps(quotes, indent=1, ensure_ascii=False) + "\n"
    if args.check:
        changed = [n for n, t in texts.items() if (args.seed / n).read_text() != t]
        return 1 if changed else 0
    for name, text in texts.items():
        (args.seed / name).write_text(text, encoding="utf-8")
    args.quotes.write_text(quotes_text, encoding="utf-8")
    materials = len(seed.materials)
    values = sum(len(m.get("properties", [])) for m in seed.materials.values())
    print(f"{materials} materials, {values} property values, {len(quotes)} quotes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
