"""Reading a bundle file piece by piece: memory holds one material, never the file.

A JSON bundle is walked by hand at the top level (``{``, keys, ``:``, ``,``, ``}``)
and inside ``materials`` (``[``, ``,``, ``]``); every value in between is decoded
by the standard library's C decoder (``JSONDecoder.raw_decode``) on a window of
the text that slides forward. So each material is decoded on its own and
dropped once handed over, and ``references``, ``organizations`` (small) and any
other top-level value are decoded whole. NDJSON is one material per line.

The rules are those of :func:`biomatdb.bundles.reader.decode`: NaN and Infinity
are decoded (validation names the field), duplicate keys, NUL characters and
absurd nesting are refused, and a syntax error names its line and column.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from biomatdb.bundles.reader import (
    NDJSON_SUFFIXES,
    _no_duplicate_keys,
    decode,
    nested_too_deeply,
    not_a_bundle,
    nul_problems,
)
from biomatdb.bundles.validation import NOT_AN_OBJECT
from biomatdb.errors import FieldProblem, InvalidBundle

#: Bytes read from the file at a time.
CHUNK_BYTES = 1 << 20
#: One top-level value or one material may take at most this many characters of
#: text: a larger one is an error, not a reason to hold the whole file.
MAX_PIECE_CHARS = 64 << 20

_SPACE = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys)


@dataclass(frozen=True, slots=True)
class TopLevel:
    """A top-level value other than the ``materials`` array (decoded whole)."""

    key: str
    value: Any


@dataclass(frozen=True, slots=True)
class Material:
    """One element of ``materials`` (``index``: its position in the array)."""

    index: int
    value: Any


@dataclass(frozen=True, slots=True)
class Broken:
    """A part that could not be decoded; reading goes on after it (NDJSON lines, NULs)."""

    problem: FieldProblem


Part = TopLevel | Material | Broken


class _Text:
    """The file's text as a window that grows at its end and is dropped at its start."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self.stream = stream
        self.name = name
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0  # the next character to read, in ``text``
        self.eof = False
        self.bytes_read = 0
        # Where text[0] is in the file, for error messages: line and column (1-based).
        self.line = 1
        self.column = 1

    def more(self) -> bool:
        """Read the next chunk; False at the end of the file."""
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK_BYTES)
        try:
            decoded = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise InvalidBundle(
                f"{self.name} is not UTF-8 text",
                errors=[
                    FieldProblem(
                        "", f"not UTF-8: {exc.reason} at byte {self.bytes_read + exc.start}"
                    )
                ],
            ) from exc
        self.bytes_read += len(chunk)
        if not chunk:
            self.eof = True
        if self.pos > CHUNK_BYTES:  # drop what was read
            self._drop()
        self.text += decoded
        return True

    def _drop(self) -> None:
        gone = self.text[: self.pos]
        lines = gone.count("\n")
        if lines:
            self.line += lines
            self.column = len(gone) - gone.rfind("\n")
        else:
            self.column += len(gone)
        self.text = self.text[self.pos :]
        self.pos = 0

    def skip_space(self) -> str:
        """Skip white space; the next character ('' at the end of the file)."""
        while True:
            end = _SPACE.match(self.text, self.pos)
            self.pos = end.end() if end else self.pos
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def value(self) -> tuple[Any, str]:
        """Decode the value at the current position and move past it: the value and
        its text."""
        self.skip_space()
        while True:
            try:
                value, end = _decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                # Cut off by the end of the window (an error there, or a string that
                # does not end in it): read on. Anywhere else it is the file's error.
                cut = exc.pos >= len(self.text) - 16 or exc.msg.startswith("Unterminated")
                if cut and self._can_grow():
                    continue
                raise self.invalid(exc.msg, exc.pos) from exc
            except ValueError as exc:  # a duplicate key (reader._no_duplicate_keys)
                raise not_a_bundle(self.name, str(exc)) from exc
            except RecursionError as exc:
                raise nested_too_deeply(self.name) from exc
            # A number that ends the window may go on in the next chunk.
            if end == len(self.text) and self._can_grow():
                continue
            piece = self.text[self.pos : end]
            self.pos = end
            return value, piece

    def _can_grow(self) -> bool:
        return len(self.text) - self.pos <= MAX_PIECE_CHARS and self.more()

    def expect(self, allowed: str, what: str) -> str:
        """The next non-space character, which must be one of ``allowed``."""
        found = self.skip_space()
        if not found or found not in allowed:
            raise self.invalid(f"Expecting {what}", self.pos)
        self.pos += 1
        return found

    def invalid(self, message: str, pos: int) -> InvalidBundle:
        before = self.text[:pos]
        lines = before.count("\n")
        line = self.line + lines
        column = pos - before.rfind("\n") if lines else self.column + pos
        return InvalidBundle(
            f"{self.name} is not valid JSON",
            errors=[FieldProblem("", f"invalid JSON at line {line} column {column}: {message}")],
        )


def _nul_problems(piece: str, value: Any, path: str) -> list[FieldProblem]:
    # The walk of the value only when its text holds a NUL at all.
    return nul_problems(value, path) if "\\u0000" in piece or "\x00" in piece else []


def json_parts(stream: IO[bytes], name: str, progress: list[int] | None = None) -> Iterator[Part]:
    """The parts of a JSON bundle, in file order.

    ``progress``: a one-item list that is kept at the number of bytes read (for a
    progress bar). A top level that is not an object is refused at once (it cannot
    be a bundle, and decoding it whole would hold all of it)."""
    text = _Text(stream, name)
    first = text.skip_space()
    if first != "{":
        if not first:
            raise text.invalid("Expecting value", text.pos)
        raise not_a_bundle(name, NOT_AN_OBJECT)
    text.pos += 1
    yield from _members(text, progress)
    if text.skip_space():
        raise text.invalid("Extra data", text.pos)
    if progress is not None:
        progress[0] = text.bytes_read


def _members(text: _Text, progress: list[int] | None) -> Iterator[Part]:
    """The top-level object's members, after its ``{`` and up to its ``}``."""
    seen: set[str] = set()
    if text.skip_space() == "}":
        text.pos += 1
        return
    while True:
        if text.skip_space() != '"':
            raise text.invalid("Expecting property name enclosed in double quotes", text.pos)
        key, _ = text.value()
        if key in seen:
            raise not_a_bundle(text.name, f"duplicate key {key!r} in one JSON object")
        seen.add(key)
        text.expect(":", "':' delimiter")
        if key == "materials" and text.skip_space() == "[":
            yield from _materials(text, progress)
        else:
            value, piece = text.value()
            for problem in _nul_problems(piece, value, key):
                yield Broken(problem)
            yield TopLevel(key, value)
        if text.expect(",}", "',' delimiter") == "}":
            return


def _materials(text: _Text, progress: list[int] | None) -> Iterator[Part]:
    text.pos += 1  # the "["
    if text.skip_space() == "]":
        text.pos += 1
        return
    index = 0
    while True:
        text.skip_space()
        value, piece = text.value()
        nul = _nul_problems(piece, value, f"materials[{index}]")
        for problem in nul:
            yield Broken(problem)
        yield Material(index, None if nul else value)
        if progress is not None:
            progress[0] = text.bytes_read
        index += 1
        if text.expect(",]", "',' delimiter") == "]":
            return


def ndjson_parts(stream: IO[bytes], name: str, progress: list[int] | None = None) -> Iterator[Part]:
    """NDJSON of materials: the Nth non-blank line is ``materials[N-1]``; a line that is
    not JSON is a :class:`Broken` part (its material is None) and reading goes on."""
    index = 0
    done = 0
    number = 0
    while line := stream.readline(MAX_PIECE_CHARS + 1):
        number += 1
        done += len(line)
        if len(line) > MAX_PIECE_CHARS and not line.endswith(b"\n"):
            while (rest := stream.readline(CHUNK_BYTES)) and not rest.endswith(b"\n"):
                done += len(rest)  # the rest of the line is skipped, a chunk at a time
            done += len(rest)
            message = f"line {number}: longer than {MAX_PIECE_CHARS:,} bytes; one material a line"
            yield Broken(FieldProblem(f"materials[{index}]", message))
            yield Material(index, None)
            index += 1
            continue
        if not line.strip():
            continue
        try:
            yield Material(index, decode(line, name=f"line {number}"))
        except InvalidBundle as exc:
            for p in exc.errors:
                yield Broken(FieldProblem(f"materials[{index}]", f"line {number}: {p.message}"))
            yield Material(index, None)
        index += 1
        if progress is not None:
            progress[0] = done


def file_parts(path: Path, progress: list[int] | None = None) -> Iterator[Part]:
    """The parts of a bundle file (``.ndjson`` / ``.jsonl``: one material per line)."""
    with path.open("rb") as stream:
        if path.suffix.lower() in NDJSON_SUFFIXES:
            yield from ndjson_parts(stream, str(path), progress)
        else:
            yield from json_parts(stream, str(path), progress)
