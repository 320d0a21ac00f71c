"""The syntax of each identifier scheme, its normal form, and its resolver link.

The normal form is what is stored and matched: ``identifier=chebi:chebi:52254``
finds ``CHEBI:52254``. Syntax only, no lookups: the service never calls out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from biomatdb.vocab import IdentifierScheme


@dataclass(frozen=True)
class Scheme:
    """One identifier scheme."""

    pattern: re.Pattern[str]
    #: How an id looks, for error messages (the contract's examples where it has one).
    example: str
    #: The id's page; ``{id}`` is the normal form.
    url: str
    upper: bool = True


SCHEMES: dict[str, Scheme] = {
    IdentifierScheme.chebi: Scheme(
        re.compile(r"^CHEBI:[1-9]\d{0,8}$"),
        "CHEBI: and digits, e.g. CHEBI:52254",
        "https://www.ebi.ac.uk/chebi/searchId.do?chebiId={id}",
    ),
    IdentifierScheme.pubchem_cid: Scheme(
        re.compile(r"^[1-9]\d{0,11}$"),
        "a positive integer",
        "https://pubchem.ncbi.nlm.nih.gov/compound/{id}",
    ),
    IdentifierScheme.cas: Scheme(
        re.compile(r"^[1-9]\d{1,6}-\d{2}-\d$"),
        "digits as NNNNNNN-NN-N with its check digit",
        "https://commonchemistry.cas.org/detail?cas_rn={id}",
    ),
    IdentifierScheme.mesh: Scheme(
        # Descriptors (D), supplementary concepts (C), qualifiers (Q).
        re.compile(r"^[DCQ]\d{6,9}$"),
        "D, C or Q and 6 to 9 digits, e.g. D006882",
        "https://meshb.nlm.nih.gov/record/ui?ui={id}",
    ),
    IdentifierScheme.unii: Scheme(
        re.compile(r"^[A-Z0-9]{10}$"),
        "10 capital letters or digits",
        "https://precision.fda.gov/uniisearch/srs/unii/{id}",
    ),
    IdentifierScheme.wikidata: Scheme(
        re.compile(r"^Q[1-9]\d{0,11}$"),
        "Q and digits, e.g. Q412252",
        "https://www.wikidata.org/wiki/{id}",
    ),
}


def cas_check_digit_ok(cas: str) -> bool:
    """The CAS Registry Number's check digit: the digits before it, from the right,
    weighted 1, 2, 3 ..., summed, modulo 10."""
    digits = cas.replace("-", "")
    body, check = digits[:-1], int(digits[-1])
    return sum(i * int(d) for i, d in enumerate(reversed(body), start=1)) % 10 == check


def normal(scheme: str, value: str) -> str:
    """The stored spelling of an id (upper case where the scheme is; trimmed)."""
    value = value.strip()
    found = SCHEMES.get(scheme)
    return value.upper() if found is not None and found.upper else value


def problem(scheme: str, value: str) -> str | None:
    """What is wrong with ``value`` as an id of ``scheme`` (normal form), or None."""
    found = SCHEMES.get(scheme)
    if found is None:
        return f"unknown identifier scheme {scheme!r}; choose from " + ", ".join(SCHEMES)
    if not found.pattern.match(value):
        return f"{value!r} is not a {scheme} identifier ({found.example})"
    if scheme == IdentifierScheme.cas and not cas_check_digit_ok(value):
        return f"{value!r} has a wrong CAS check digit"
    return None


def link(scheme: str, value: str) -> str | None:
    """Where a person can look the id up."""
    found = SCHEMES.get(scheme)
    return found.url.format(id=value) if found is not None else None
