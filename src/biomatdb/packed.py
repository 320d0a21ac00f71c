"""Packed property summaries: a material's summaries in one binary column
(``materials.summary``), read with its row.

A page of search results, a batch of an export and the candidates of a ranking
need every material's summaries. As rows of ``material_property_summaries`` they
cost a second query and 15 rows per material; as JSON, a float parser. Packed as
float64 records they cost a ``numpy.frombuffer``: a batch of 1,000 materials is
one array. The summary rows stay the source for filters and sorts (SQL reads
them); this column is derived from the same values by the projection.

A record is ``(key code, min, max, typical, count, digits)``, little-endian
float64; ``digits`` NaN when unknown. A key's code is its CRC-32, so that adding
properties to the catalogue never changes the codes of the others.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from biomatdb import catalogue

FIELDS = 6
KEY, MIN, MAX, TYPICAL, COUNT, DIGITS = range(FIELDS)
Summary = tuple[float, float, float, int, int | None]


def code(key: str) -> int:
    """The stable code of a property key."""
    return zlib.crc32(key.encode("utf-8"))


#: Property key of each code (the catalogue has no two keys with one code).
KEYS = {code(p.key): p.key for p in catalogue.CATALOGUE}
if len(KEYS) != len(catalogue.CATALOGUE):  # pragma: no cover - a catalogue edit
    raise RuntimeError("two property keys share a CRC-32: change packed.code")


def pack(summaries: Mapping[str, Summary]) -> bytes:
    """The records of ``{key: (min, max, typical, count, digits)}``, by key."""
    records = [
        (code(key), low, high, typical, count, np.nan if digits is None else digits)
        for key, (low, high, typical, count, digits) in sorted(summaries.items())
    ]
    return np.array(records, dtype="<f8").reshape(-1, FIELDS).tobytes()


def records(blob: bytes | None) -> npt.NDArray[np.float64]:
    """One material's records as an ``n x 6`` array (no copy)."""
    return np.frombuffer(blob or b"", dtype="<f8").reshape(-1, FIELDS)


def unpack(blob: bytes | None) -> dict[str, Summary]:
    """``{key: (min, max, typical, count, digits)}`` of one material, by key."""
    return {
        KEYS[int(key)]: (low, high, typical, int(count), None if digits != digits else int(digits))
        for key, low, high, typical, count, digits in records(blob).tolist()
    }


def batch(blobs: Sequence[bytes | None]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """The records of many materials at once: the row of each record (the index of
    its material in ``blobs``) and the ``n x 6`` records."""
    sizes = np.array([len(b) // (8 * FIELDS) if b else 0 for b in blobs], dtype=np.intp)
    rows = np.repeat(np.arange(len(blobs), dtype=np.intp), sizes)
    data = np.frombuffer(b"".join(b for b in blobs if b), dtype="<f8")
    return rows, data.reshape(-1, FIELDS)


def column(codes: npt.NDArray[np.float64], keys: Sequence[str]) -> npt.NDArray[np.intp]:
    """For each record code, the position of its key in ``keys`` (-1: not there)."""
    if not keys or not len(codes):
        return np.full(len(codes), -1, dtype=np.intp)
    wanted = np.array([code(key) for key in keys], dtype=np.float64)
    order = np.argsort(wanted)
    at = np.clip(np.searchsorted(wanted[order], codes), 0, len(keys) - 1)
    found: npt.NDArray[np.intp] = np.where(wanted[order][at] == codes, order[at], -1)
    return found
