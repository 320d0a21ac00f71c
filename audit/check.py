"""Sample the seed's values and regulatory records and show the source text that
confirms each: writes docs/data-audit.md.

audit/quotes.json (written by audit/merge_research.py) holds, for each value,
regulatory record and biocompatibility result that came from the issue 12 research,
the source text it was read from. This script

* checks every quote mechanically: the quoted item must still be in seed/ where the
  quote says, and its numbers (value, min, max) or its identifier must appear in the
  quote as printed (``1,500``, ``1500`` and ``1 500`` are one number; ``0.5`` and
  ``.5`` too);
* draws a fixed random sample (seeded, so the page is reproducible) of 30 property
  values and 20 regulatory records and prints each with its source, the place it was
  read and the quote, for a person to read;
* counts what the seed holds against issue 12's targets;
* lists the quotes the mechanical check cannot confirm (a number in words, digits
  spaced out, a unit printed apart) with what a person read in each
  (audit/readings.json): confirmed, or the value is fixed in research/ and merged.

    python audit/check.py [--out docs/data-audit.md] [--seed-number 12]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KINDS = {
    "property": "properties",
    "regulatory": "regulatory",
    "biocompatibility": "biocompatibility",
}
SAMPLE_VALUES = 30
SAMPLE_RECORDS = 20


def load_seed(seed_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    materials: dict[str, Any] = {}
    references: dict[str, Any] = {}
    for path in sorted(seed_dir.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        materials.update({m["id"]: m for m in document.get("materials", [])})
        references.update({r["id"]: r for r in document.get("references", [])})
    return materials, references


def spellings(number: float) -> set[str]:
    """How a number may be printed: 1500 as 1500, 1,500, 1 500, 1500.0; 0.5 as .5."""
    text = f"{number:.10g}"
    found = {text}
    if "e" not in text:
        whole, _, fraction = text.partition(".")
        grouped = f"{int(whole):,}" if whole.lstrip("-").isdigit() else whole
        for separator in (",", " ", "\u2009", "\u202f"):
            found.add(grouped.replace(",", separator) + (f".{fraction}" if fraction else ""))
        if whole in ("0", "-0") and fraction:
            found.add(f".{fraction}")
        for zeros in range(1, 4):  # 0.3 printed 0.30, 1.14 printed 1.140, 186 as 186.0
            found.add(f"{text}{'0' * zeros}" if fraction else f"{whole}.{'0' * zeros}")
    return found


def normal(text: str) -> str:
    """Quote text with the dashes, minus signs and spaces papers use made plain."""
    for odd in ("\u2212", "\u2013", "\u2014"):
        text = text.replace(odd, "-")
    return re.sub(r"\s+", " ", text)


def collapsed(text: str) -> str:
    """Some extractions space out every character of a table cell: "0 . 8 2 0"."""
    return re.sub(r"(?<!\S)(?:[\d.] ){2,}[\d.](?!\S)", lambda m: m.group(0).replace(" ", ""), text)


def number_in(number: float, quote: str) -> bool:
    texts = {normal(quote), collapsed(normal(quote))}
    for spelled in spellings(abs(number)):
        # Not a digit (or a decimal point and digit) on either side: 12 is not in 125.
        pattern = rf"(?<![\d.]){re.escape(spelled)}(?!\.?\d)"
        if any(re.search(pattern, text) for text in texts):
            return True
    return False


def confirms(kind: str, item: dict[str, Any], quote: str) -> tuple[bool, str]:
    """Whether the quote shows the item's numbers or identifier, and what was looked for."""
    if kind == "property":
        numbers = [item[k] for k in ("value", "min", "max") if item.get(k) is not None]
        missing = [n for n in numbers if not number_in(n, quote)]
        looked = ", ".join(f"{n:g}" for n in numbers)
        return not missing, looked
    if kind == "regulatory":
        identifier = item.get("identifier")
        if not identifier:
            return True, "(no identifier: device and holder)"
        plain = normal(quote).upper().replace(" ", "")
        return identifier.upper().replace(" ", "") in plain, identifier
    return True, item.get("result", "")


def shown(kind: str, item: dict[str, Any]) -> str:
    if kind == "property":
        if item.get("value") is not None:
            number = f"{item['value']:g}"
        else:
            number = "-".join(f"{item[k]:g}" for k in ("min", "max") if item.get(k) is not None)
        qualifier = item.get("qualifier", "=")
        prefix = "" if qualifier == "=" else f"{qualifier} "
        return f"{item['property']} {prefix}{number} {item['unit']}"
    if kind == "regulatory":
        parts = [
            item.get("jurisdiction"),
            item.get("identifier"),
            item.get("status"),
            item.get("device_name"),
            item.get("decision_date"),
        ]
        return " · ".join(str(p) for p in parts if p)
    return f"{item['endpoint']}: {item['result']}"


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def load_readings(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """What a person read in each quote the mechanical check cannot confirm."""
    readings = json.loads(path.read_text(encoding="utf-8"))
    return {(r["material"], r["item"]): r for r in readings}


def unread(
    failures: list[tuple[dict[str, Any], str]], readings: dict[tuple[str, str], Any]
) -> list[tuple[dict[str, Any], str]]:
    return [
        (q, looked)
        for q, looked in failures
        if (q["material"], shown(q["kind"], q["item"])) not in readings
    ]


def check_quotes(
    materials: dict[str, Any], quotes: list[dict[str, Any]]
) -> tuple[list[tuple[dict[str, Any], bool, str]], list[Any]]:
    """Each quote with whether it shows its item's numbers; and the stale quotes."""
    checked: list[tuple[dict[str, Any], bool, str]] = []
    stale = []
    for quote in quotes:
        field = KINDS[quote["kind"]]
        items = materials.get(quote["material"], {}).get(field, [])
        item = items[quote["index"]] if quote["index"] < len(items) else None
        if item != quote["item"]:
            stale.append(quote)
            continue
        ok, looked = confirms(quote["kind"], item, quote["quote"])
        checked.append((quote, ok, looked))
    return checked, stale


def build(seed_dir: Path, quotes_path: Path, readings_path: Path, number: int) -> str:
    materials, references = load_seed(seed_dir)
    quotes = json.loads(quotes_path.read_text(encoding="utf-8"))
    readings = load_readings(readings_path)
    checked, stale = check_quotes(materials, quotes)
    failures = [(q, looked) for q, ok, looked in checked if not ok]
    rng = random.Random(number)
    values = [c for c in checked if c[0]["kind"] == "property"]
    records = [c for c in checked if c[0]["kind"] == "regulatory"]
    sample = rng.sample(values, min(SAMPLE_VALUES, len(values))) + rng.sample(
        records, min(SAMPLE_RECORDS, len(records))
    )
    lines = _header(
        materials, quotes, checked, stale, failures, len(unread(failures, readings)), number
    )
    for heading, kind in (("Property values", "property"), ("Regulatory records", "regulatory")):
        lines += [
            f"## Sample: {heading.lower()}",
            "",
            "| # | material | item | source | read at | quote | shows it |",
            "| ---: | --- | --- | --- | --- | --- | --- |",
        ]
        for i, (quote, ok, looked) in enumerate((s for s in sample if s[0]["kind"] == kind), 1):
            reference = references.get(quote["source"], {})
            source = quote["source"] + (
                f" (doi:{reference['doi']})" if reference.get("doi") else ""
            )
            lines.append(
                f"| {i} | {quote['material']} | {cell(shown(kind, quote['item']))} "
                f"| {cell(source)} | {cell(quote['where'])} | {cell(quote['quote'])} "
                f"| {'yes' if ok else 'NO'}: {cell(looked)} |"
            )
        lines.append("")
    if failures:
        lines += [
            "## Quotes that do not show their number as printed",
            "",
            "A number in words, digits spaced out, a unit printed apart: what a person "
            "read in each (audit/readings.json).",
            "",
            "| material | item | looked for | quote | read by a person |",
            "| --- | --- | --- | --- | --- |",
        ]
        for q, looked in failures:
            item = shown(q["kind"], q["item"])
            reading = readings.get((q["material"], item))
            verdict = f"{reading['verdict']}: {reading['reading']}" if reading else "NOT YET READ"
            lines.append(
                f"| {q['material']} | {cell(item)} | {cell(looked)} | {cell(q['quote'])} "
                f"| {cell(verdict)} |"
            )
        lines.append("")
    return "\n".join(lines)


def _header(
    materials: dict[str, Any],
    quotes: list[Any],
    checked: list[Any],
    stale: list[Any],
    failures: list[Any],
    not_read: int,
    number: int,
) -> list[str]:
    values = [v for m in materials.values() for v in m.get("properties", [])]
    evidence = Counter(v.get("evidence") or "(none)" for v in values)
    records = [r for m in materials.values() for r in m.get("regulatory", [])]
    jurisdictions = Counter(r["jurisdiction"] for r in records)
    certified = sum(1 for r in records if r["jurisdiction"] == "EU-MDR" and r.get("notified_body"))
    results = [b for m in materials.values() for b in m.get("biocompatibility", [])]
    endpoints = Counter(b["endpoint"] for b in results)
    published = sum(1 for m in materials.values() if m.get("status") == "published")
    return [
        "# Data audit",
        "",
        "Produced by `python audit/check.py` (do not edit by hand): the seed's counts "
        "against issue 12's targets, a mechanical check of every recorded quote, and a "
        f"fixed random sample (seed {number}) of {SAMPLE_VALUES} property values and "
        f"{SAMPLE_RECORDS} regulatory records, each with the source text that confirms it. "
        "The quotes were read through the tool library's `search` by the research helpers "
        "of issue 12 (`research/issue12/`, with their notes on every doubt) and follow "
        "their items into `seed/` (`audit/merge_research.py`).",
        "",
        "## Counts",
        "",
        "| what | count | target |",
        "| --- | ---: | ---: |",
        f"| materials | {len(materials)} ({published} published) | 150 |",
        f"| property values | {len(values)} | 1,200 |",
        f"| biocompatibility results | {len(results)} over {len(endpoints)} endpoints "
        "| 80 over 6 |",
        f"| regulatory records | {len(records)} over {len(jurisdictions)} jurisdictions "
        "| 80 over 3 |",
        "",
        "Evidence of the values: "
        + ", ".join(f"{k} {n}" for k, n in sorted(evidence.items()))
        + ".",
        "Regulatory records by jurisdiction: "
        + ", ".join(f"{k} {n}" for k, n in sorted(jurisdictions.items()))
        + ".",
        f"EU CE marks with their notified body named: {certified} of "
        f"{jurisdictions['EU-MDR']}; none carries a certificate number: no certificate, "
        "SSCP, EUDAMED or NANDO page of these devices is among the sources the tool "
        "library holds (research/issue12/eu-jp-notes.md, eu-notified-bodies-notes.md).",
        "Biocompatibility results by endpoint: "
        + ", ".join(f"{k} {n}" for k, n in sorted(endpoints.items()))
        + ".",
        "",
        "## Every quote, checked",
        "",
        f"{len(quotes)} quotes recorded; {len(stale)} no longer match their item in seed/ "
        f"(an item edited since); of the {len(checked)} that do, {len(checked) - len(failures)} "
        "show the item's numbers (or identifier) as printed and "
        f"{len(failures)} do not (listed at the end). A person read each of those: "
        f"{len(failures) - not_read} confirmed as recorded, {not_read} not yet read.",
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=Path, default=ROOT / "seed")
    parser.add_argument("--quotes", type=Path, default=ROOT / "audit" / "quotes.json")
    parser.add_argument("--readings", type=Path, default=ROOT / "audit" / "readings.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "data-audit.md")
    parser.add_argument("--seed-number", type=int, default=12)
    args = parser.parse_args()
    args.out.write_text(
        build(args.seed, args.quotes, args.readings, args.seed_number), encoding="utf-8"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
