"""Moved to :mod:`biomatdb.kit.cursor` (kept while search code still imports it here)."""

from biomatdb.kit.cursor import VERSION, bad_cursor, decode, encode

__all__ = ["VERSION", "bad_cursor", "decode", "encode"]
