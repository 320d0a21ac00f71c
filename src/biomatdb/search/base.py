"""The building blocks of search's extension points: request parameters and registries.

A filter, a sort or a facet is a small class registered by name (``@FILTERS.register``,
``@SORTS.register``, ``@FACETS.register``); the request parameters, their OpenAPI
documentation, the validation, the SQL and the fingerprint all follow from the
registries, in registration order.
"""

from __future__ import annotations

import keyword
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.sql.elements import BinaryExpression

T = TypeVar("T")
_C = TypeVar("_C", bound=type)
_B = TypeVar("_B", bound=BinaryExpression[bool])


def tagged(plain: BinaryExpression[bool], kind: type[_B]) -> _B:
    """``plain`` (say ``materials.id IN (...)``) as the same SQL in a subclass that
    carries what the condition was made of, so that a sort can find it among a
    search's conditions and use it (``fulltext.Matching``, ``filters.ValuesInRange``)."""
    return kind(
        plain.left,
        plain.right,
        plain.operator,
        type_=plain.type,
        negate=plain.negate,
        modifiers=plain.modifiers,
    )


@dataclass(frozen=True, slots=True)
class Parameter:
    """One search parameter, as named in the URL and in a JSON filter object.

    ``annotation`` is the type FastAPI and pydantic check before any search code
    runs (``str | None``, ``list[str]`` for a repeatable parameter, ``bool | None``,
    ``int``); its failures are reported by FastAPI (400) or by
    :meth:`SearchRequest.from_json`, with the same paths and messages.
    """

    name: str
    annotation: Any
    default: Any
    #: The OpenAPI description; ``{max_terms}`` stands for the cap.
    description: str
    max_length: int | None = None
    #: A repeatable parameter takes at most this many terms (refused before parsing;
    #: shown as ``maxItems``).
    max_terms: int | None = None
    #: Each term is one more subquery to plan and run: its cap is checked first.
    subquery_per_term: bool = False
    #: The values it takes, when the vocabulary is fixed: OpenAPI ``enum`` (on the items
    #: of a repeatable parameter), so that Swagger UI offers them. Documentation only:
    #: ``parse`` still checks, with its own message.
    enum: tuple[str, ...] | None = None
    #: A regular expression of the accepted text (OpenAPI ``pattern``; items likewise).
    pattern: str | None = None
    #: OpenAPI ``examples`` (for a repeatable parameter each example is a list).
    examples: tuple[Any, ...] = ()

    def schema_extra(self) -> dict[str, Any] | None:
        """What the OpenAPI schema of the parameter adds to its type: ``maxItems``,
        ``enum`` and ``pattern`` (on ``items`` when it is repeatable)."""
        extra: dict[str, Any] = {}
        constraints: dict[str, Any] = {}
        if self.enum is not None:
            constraints["enum"] = list(self.enum)
        if self.pattern is not None:
            constraints["pattern"] = self.pattern
        if self.max_terms is not None:
            extra["maxItems"] = self.max_terms
        if typing.get_origin(self.annotation) is list:
            if constraints:
                extra["items"] = {"type": "string", **constraints}
        else:
            extra.update(constraints)
        return extra or None

    @property
    def doc(self) -> str:
        """The description, with the cap written in."""
        return self.description.replace("{max_terms}", str(self.max_terms))

    @property
    def identifier(self) -> str:
        """The Python name of the parameter (``class`` is a keyword: ``class_``)."""
        if self.name.isidentifier() and not keyword.iskeyword(self.name):
            return self.name
        return self.name.replace("-", "_") + "_"


class Registry(Generic[T]):
    """Instances of registered classes by their ``name``, in registration order."""

    def __init__(self, what: str, *, reserved: tuple[str, ...] = ()) -> None:
        self._what = what
        self._reserved = reserved
        self._items: dict[str, T] = {}

    def register(self, cls: _C) -> _C:
        """Class decorator: one instance of ``cls`` serves every search."""
        item: T = cls()
        name = getattr(item, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"a {self._what} needs a class attribute 'name'")
        if name in self._items or name in self._reserved:
            raise ValueError(f"{self._what} {name!r} is already registered")
        self._items[name] = item
        return cls

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._items)
