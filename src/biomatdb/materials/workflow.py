"""The review workflow: which status moves exist, who may make them, what the feed says.

One table, read by every path that changes a status: single-material writes
(``curation``), the versions and projection (``store``) and bundle imports
(HTTP and CLI). A move is checked against the latest version's status, except
retraction, which withdraws the *public* version whatever drafts follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from biomatdb.auth.keys import Principal
from biomatdb.errors import Conflict, Forbidden
from biomatdb.vocab import MaterialStatus

DRAFT = MaterialStatus.draft.value
IN_REVIEW = MaterialStatus.in_review.value
PUBLISHED = MaterialStatus.published.value
RETRACTED = MaterialStatus.retracted.value


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed move: from ``source`` to ``target`` by ``role`` or above."""

    source: str
    target: str
    role: str
    #: The change-feed action recorded for it.
    action: str
    #: Checked against the public status (the projection), not the latest version's.
    of_public: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition(DRAFT, IN_REVIEW, "curator", "submitted"),
    Transition(IN_REVIEW, DRAFT, "curator", "returned_to_draft"),
    Transition(IN_REVIEW, PUBLISHED, "editor", "published"),
    Transition(PUBLISHED, RETRACTED, "editor", "retracted", of_public=True),
    Transition(RETRACTED, DRAFT, "curator", "returned_to_draft"),
)

#: Statuses only an editor may set, by a move or in a written entry (PUT, import).
EDITOR_STATUSES = frozenset(t.target for t in TRANSITIONS if t.role == "editor")


def find(public_status: str, latest_status: str, target: str, subject: str = "") -> Transition:
    """The move to ``target`` from the material's statuses; 409 naming the possible ones."""
    name = f"material {subject!r}" if subject else "the material"
    for transition in TRANSITIONS:
        if transition.target != target:
            continue
        current = public_status if transition.of_public else latest_status
        if transition.source == current:
            return transition
    if any(t.target == target and t.of_public for t in TRANSITIONS):
        raise Conflict(f"{name} is not {PUBLISHED}, so it cannot be {target}")
    allowed = sorted(t.target for t in TRANSITIONS if t.source == latest_status and not t.of_public)
    raise Conflict(
        f"{name} is in status {latest_status!r} and cannot move to {target!r}; "
        + (f"it can move to {', '.join(allowed)}" if allowed else "no move is possible"),
    )


def check_move(
    principal: Principal, public_status: str, latest_status: str, target: str, subject: str = ""
) -> Transition:
    """The allowed move, after the role checks: 403 before 409, so that a key that may
    never make a move learns that first."""
    if target in EDITOR_STATUSES and not principal.at_least("editor"):
        raise Forbidden(
            f"only editors publish and retract; key {principal.name!r} has role {principal.role}"
        )
    transition = find(public_status, latest_status, target, subject)
    if not principal.at_least(transition.role):
        raise Forbidden(
            f"moving a material from {transition.source!r} to {target!r} needs role "
            f"{transition.role} or above; key {principal.name!r} has {principal.role}"
        )
    return transition


def editor_status_paths(principal: Principal, entries: list[tuple[str, Any]]) -> list[str]:
    """The paths of ``(path, raw entry)`` whose ``status`` the principal may not write.

    Checked on raw entries, before validation: a request the role may not make at
    all is a 403, whatever else is wrong with it.
    """
    if principal.at_least("editor"):
        return []
    return [
        f"{path}.status" if path else "status"
        for path, raw in entries
        if isinstance(raw, dict)
        and isinstance(raw.get("status"), str)  # anything else is a validation error
        and raw["status"] in EDITOR_STATUSES
    ]


def check_entry_statuses(principal: Principal, entries: list[tuple[str, Any]]) -> None:
    """403 when a curator's entries set an editor-only status (``published``, ``retracted``)."""
    paths = editor_status_paths(principal, entries)
    if paths:
        raise Forbidden(
            f"key {principal.name!r} (role {principal.role}) cannot set status published or "
            f"retracted ({', '.join(paths[:10])}); write drafts and submit them for review",
        )
