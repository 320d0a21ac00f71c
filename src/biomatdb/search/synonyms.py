"""The curated vocabulary of the field: abbreviations, synonyms and spelling variants
that full-text search expands at query time (``biomatdb.search.fulltext``).

Each entry is ``(names, narrower)``. A query that contains one of the ``names`` (a
whole word, or several words in a row: ``stainless steel``) matches a material that
contains any of the ``names`` or any of the ``narrower`` terms, so ``PLA`` finds
poly(L-lactide) and poly(D,L-lactide), while ``PLLA`` stays specific. An abbreviation
with several meanings in the field (``HA``: hydroxyapatite, hyaluronic acid) is an
entry of its own whose narrower terms are its meanings: the long forms do not expand
back to the ambiguous abbreviation.

Terms are written normalised (``fulltext.normalize``: lower case, no accents, words
separated by single spaces; ``Ti-6Al-4V`` is ``ti 6al 4v``). Only field-standard
names belong here (ASTM / ISO designations, usual abbreviations, trade names used
as common nouns); ``tests/test_text_search.py`` checks them against the seed data.

This is code, not a file under ``seed/``: ``seed/*.json`` are bundles that the
importer reads, and the vocabulary ships with the wheel and is loaded once.
"""

from __future__ import annotations

#: ``(names, narrower terms)``: see the module documentation.
ENTRIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    # Metals
    (("ti64", "ti6al4v", "ti 6al 4v", "ti 6 4", "tc4", "ti grade 5", "ti gr 5"), ()),
    (("ti6al7nb", "ti 6al 7nb"), ()),
    (("cp ti", "cpti", "commercially pure titanium", "unalloyed titanium"), ()),
    (
        ("cocr", "co cr", "cobalt chromium", "cobalt chrome"),
        ("cocrmo", "cocrwni", "co 28cr 6mo", "co 20cr 15w 10ni"),
    ),
    (("cocrmo", "co cr mo", "cobalt chromium molybdenum", "cobalt chrome molybdenum"), ()),
    (("ss", "stainless steel", "316 l", "316lvm", "aisi 316l"), ("316l",)),
    (("nitinol", "niti", "nickel titanium", "ni ti", "tini"), ()),
    # Ceramics and glasses
    (("hap", "hydroxyapatite", "hydroxylapatite", "nha", "nano hydroxyapatite"), ()),
    (("ha",), ("hydroxyapatite", "hydroxylapatite", "hyaluronic acid", "hyaluronan")),
    (
        ("tcp", "tricalcium phosphate", "tri calcium phosphate"),
        ("beta tcp", "beta tricalcium phosphate", "alpha tcp"),
    ),
    (("beta tcp", "b tcp", "btcp", "beta tricalcium phosphate"), ()),
    (("bcp", "biphasic calcium phosphate", "ha tcp", "ha beta tcp", "hap tcp"), ()),
    (("bg",), ("bioactive glass", "bioglass")),
    (("bioactive glass", "bioglass"), ("45s5", "s53p4", "13 93")),
    (("45s5", "bioglass 45s5"), ()),
    (("zta", "zirconia toughened alumina", "alumina matrix composite", "amc"), ()),
    (
        (
            "y tzp",
            "ytzp",
            "3y tzp",
            "3ytzp",
            "tzp",
            "ysz",
            "yttria stabilized zirconia",
            "yttria stabilized tetragonal zirconia",
        ),
        (),
    ),
    (("zirconia", "zro2", "zirconium oxide", "zirconium dioxide"), ()),
    (("alumina", "al2o3", "aluminium oxide", "aluminum oxide"), ()),
    # Polymers
    (
        (
            "pla",
            "polylactide",
            "polylactic",
            "polylactic acid",
            "poly lactic acid",
            "poly lactide",
        ),
        (
            "plla",
            "pdlla",
            "lpla",
            "dlpla",
            "poly l lactide",
            "poly l lactic acid",
            "poly d l lactide",
            "poly dl lactide",
        ),
    ),
    (("plla", "lpla", "poly l lactide", "poly l lactic acid"), ()),
    (("pdlla", "dlpla", "poly d l lactide", "poly dl lactide", "poly dl lactic acid"), ()),
    (
        (
            "plga",
            "dlplg",
            "poly lactic co glycolic acid",
            "poly lactide co glycolide",
            "poly dl lactide co glycolide",
            "polylactide co glycolide",
        ),
        (),
    ),
    (("pga", "polyglycolide", "polyglycolic acid", "poly glycolic acid"), ()),
    (("pcl", "polycaprolactone", "poly caprolactone", "poly epsilon caprolactone"), ()),
    (("pdo", "pds", "ppdo", "polydioxanone", "poly p dioxanone"), ()),
    (
        (
            "peek",
            "polyetheretherketone",
            "polyether ether ketone",
            "poly ether ether ketone",
        ),
        (),
    ),
    (("cfr peek", "cf peek", "carbon fiber reinforced peek", "carbon fibre reinforced peek"), ()),
    (
        (
            "uhmwpe",
            "uhmw pe",
            "uhmw polyethylene",
            "ultra high molecular weight polyethylene",
        ),
        (),
    ),
    (("xlpe", "hxlpe", "highly crosslinked polyethylene", "highly cross linked polyethylene"), ()),
    (
        ("pmma", "polymethyl methacrylate", "poly methyl methacrylate", "polymethylmethacrylate"),
        (),
    ),
    (("pet", "polyethylene terephthalate", "poly ethylene terephthalate", "dacron"), ()),
    (
        ("ptfe", "polytetrafluoroethylene", "teflon"),
        ("eptfe", "e ptfe", "expanded ptfe", "expanded polytetrafluoroethylene"),
    ),
    (("eptfe", "e ptfe", "expanded ptfe", "expanded polytetrafluoroethylene", "gore tex"), ()),
    (("pdms", "polydimethylsiloxane", "silicone", "silicone rubber", "silicone elastomer"), ()),
    (("pu", "pur", "polyurethane"), ()),
    (("pva", "pvoh", "polyvinyl alcohol", "poly vinyl alcohol"), ()),
    (("peg", "polyethylene glycol"), ()),
    (("pp", "polypropylene"), ()),
    # Natural materials
    (("hyaluronic acid", "hyaluronan", "hyaluronate", "sodium hyaluronate", "hylan"), ()),
    (("bc", "bnc", "bacterial cellulose", "microbial cellulose", "bacterial nanocellulose"), ()),
    # British and American spellings
    (("aluminium", "aluminum"), ()),
    (("fibre", "fiber"), ()),
    (("fibres", "fibers"), ()),
    (("sulphate", "sulfate"), ()),
    (("stabilised", "stabilized"), ()),
    (("mineralised", "mineralized"), ()),
    (("gelatine", "gelatin"), ()),
)

#: The longest name, in words (a query is scanned for names up to this long).
LONGEST = max(len(name.split()) for names, _ in ENTRIES for name in names)


def _expansions() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for names, narrower in ENTRIES:
        for name in names:
            terms = found.setdefault(name, [])
            terms += [t for t in (*names, *narrower) if t not in terms]
    return {name: tuple(terms) for name, terms in found.items()}


#: Each name, and every term a query containing it matches (the name first).
EXPANSIONS: dict[str, tuple[str, ...]] = _expansions()
