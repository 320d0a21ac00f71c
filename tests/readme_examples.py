"""Running the README's ``curl`` examples in-process and checking the answers they
print: a line ``#  => PATH: JSON`` under a ``curl`` line says that PATH of the answer
is that JSON value.

PATH: ``data[0].id``, ``data[*].id`` (every item), ``meta.excluded[*].id``,
``rows[*].id``, ``rows[0]["density [g/cm^3]"]`` and ``header[0:6]`` for a CSV answer
(its rows as objects, its header row), ``titles`` for an SVG chart (the sorted titles
of its marks), ``lines`` for the count of lines of another text answer.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from fastapi.testclient import TestClient

CHECK = re.compile(r"^#\s+=> (?P<path>[^:]+): (?P<value>.+)$")
SEGMENT = re.compile(
    r'\.?(?P<key>[A-Za-z_][A-Za-z0-9_\-]*)|\["(?P<quoted>[^"]+)"\]|\[(?P<index>\*|-?\d+|\d*:\d*)\]'
)


@dataclass
class Example:
    """One curl command and the checks printed under it."""

    command: str
    checks: list[tuple[str, Any]] = field(default_factory=list)

    def request(self) -> tuple[str, str, dict[str, str], bytes | None]:
        """Method, path with query, headers and body of the command."""
        words = shlex.split(self.command)
        method, headers, body, url = "GET", {}, None, ""
        position = 1
        while position < len(words):
            word = words[position]
            if word in ("-X", "--request"):
                method = words[position + 1]
                position += 1
            elif word in ("-H", "--header"):
                name, _, value = words[position + 1].partition(":")
                headers[name.strip()] = value.strip()
                position += 1
            elif word in ("-d", "--data"):
                body = words[position + 1].encode("utf-8")
                method = "POST" if method == "GET" else method
                position += 1
            elif word in ("-o", "--output"):
                position += 1
            elif word.startswith("http"):
                url = word
            position += 1
        parts = urlsplit(url)
        return method, parts.path + (f"?{parts.query}" if parts.query else ""), headers, body


def examples(text: str) -> list[Example]:
    """The curl commands of ``text`` that have checks."""
    found: list[Example] = []
    current: Example | None = None
    for line in text.splitlines():
        if line.startswith("curl "):
            current = Example(line)
            found.append(current)
        elif current is not None and (match := CHECK.match(line)):
            current.checks.append((match["path"].strip(), json.loads(match["value"])))
        elif not line.startswith("#"):
            current = None
    return [e for e in found if e.checks]


def answer(client: TestClient, example: Example) -> Any:
    """The answer of ``example`` as data: JSON parsed; CSV as {"header", "rows"}; other
    text as {"lines": count}."""
    method, path, headers, body = example.request()
    response = client.request(method, path, headers=headers, content=body)
    assert response.status_code < 300, (example.command, response.text)
    kind = response.headers["content-type"].split(";")[0]
    if kind == "application/json":
        return response.json()
    if kind == "text/csv":
        header, *rows = list(csv.reader(io.StringIO(response.text, newline="")))
        return {"header": header, "rows": [dict(zip(header, row, strict=True)) for row in rows]}
    if kind == "image/svg+xml":
        root = ElementTree.fromstring(response.content)
        titles = root.iterfind(".//{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}title")
        return {"titles": sorted(t.text or "" for t in titles)}
    return {"lines": len(response.text.splitlines())}


def select(data: Any, path: str) -> Any:
    """The value at ``path`` (see the module doc)."""
    values, many = [data], False
    position = 0
    while position < len(path):
        match = SEGMENT.match(path, position)
        if match is None:
            raise ValueError(f"bad path {path!r} at {position}")
        position = match.end()
        if match["key"] is not None or match["quoted"] is not None:
            values = [v[match["key"] or match["quoted"]] for v in values]
        elif match["index"] == "*":
            values = [item for v in values for item in (v.values() if isinstance(v, dict) else v)]
            many = True
        elif ":" in match["index"]:
            start, _, stop = match["index"].partition(":")
            values = [v[int(start or 0) : int(stop) if stop else None] for v in values]
        else:
            values = [v[int(match["index"])] for v in values]
    return values if many else values[0]
