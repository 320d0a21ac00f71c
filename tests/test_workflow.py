"""The review workflow table: every move, who may make it, what the feed records."""

from __future__ import annotations

import pytest

from biomatdb.auth.keys import Principal
from biomatdb.errors import Conflict, Forbidden
from biomatdb.materials import workflow
from biomatdb.materials.workflow import DRAFT, IN_REVIEW, PUBLISHED, RETRACTED

ROLES = ("reader", "curator", "editor", "admin")


def key(role: str) -> Principal:
    return Principal(name=f"k-{role}", role=role)


@pytest.mark.parametrize(
    ("public", "latest", "target", "least_role", "action"),
    [
        (DRAFT, DRAFT, IN_REVIEW, "curator", "submitted"),
        (IN_REVIEW, IN_REVIEW, DRAFT, "curator", "returned_to_draft"),
        (IN_REVIEW, IN_REVIEW, PUBLISHED, "editor", "published"),
        (PUBLISHED, PUBLISHED, RETRACTED, "editor", "retracted"),
        (RETRACTED, RETRACTED, DRAFT, "curator", "returned_to_draft"),
        # A published material with a pending draft: the draft moves, the public stays...
        (PUBLISHED, DRAFT, IN_REVIEW, "curator", "submitted"),
        # ... and retraction withdraws the public version whatever the draft's status.
        (PUBLISHED, IN_REVIEW, RETRACTED, "editor", "retracted"),
    ],
)
def test_each_move_needs_its_role_and_names_its_action(
    public: str, latest: str, target: str, least_role: str, action: str
) -> None:
    for role in ROLES:
        allowed = ROLES.index(role) >= ROLES.index(least_role)
        if allowed:
            move = workflow.check_move(key(role), public, latest, target)
            assert (move.target, move.role, move.action) == (target, least_role, action)
        else:
            with pytest.raises(Forbidden):
                workflow.check_move(key(role), public, latest, target)


@pytest.mark.parametrize(
    ("public", "latest", "target", "message"),
    [
        (
            DRAFT,
            DRAFT,
            PUBLISHED,
            "is in status 'draft' and cannot move to 'published'; it can move to in_review",
        ),
        (DRAFT, DRAFT, RETRACTED, "is not published, so it cannot be retracted"),
        (IN_REVIEW, IN_REVIEW, IN_REVIEW, "it can move to draft, published"),
        (RETRACTED, RETRACTED, PUBLISHED, "it can move to draft"),
    ],
)
def test_impossible_moves_are_conflicts_that_say_what_is_possible(
    public: str, latest: str, target: str, message: str
) -> None:
    with pytest.raises(Conflict) as caught:
        workflow.check_move(key("admin"), public, latest, target, "m-1")
    assert caught.value.detail.startswith("material 'm-1' ")
    assert message in caught.value.detail


def test_a_curator_learns_the_role_problem_before_the_state_problem() -> None:
    with pytest.raises(Forbidden):
        workflow.check_move(key("curator"), DRAFT, DRAFT, PUBLISHED)


def test_editor_only_statuses_come_from_the_table() -> None:
    assert sorted(workflow.EDITOR_STATUSES) == ["published", "retracted"]


def test_entries_with_editor_statuses_are_named_by_path() -> None:
    entries = [
        ("materials[0]", {"status": "draft"}),
        ("materials[1]", {"status": "published"}),
        ("materials[2]", {"status": {"not": "a string"}}),
        ("materials[3]", ["not", "an", "entry"]),
        ("materials[4]", {"status": "retracted"}),
    ]
    assert workflow.editor_status_paths(key("curator"), entries) == [
        "materials[1].status",
        "materials[4].status",
    ]
    assert workflow.editor_status_paths(key("editor"), entries) == []
    with pytest.raises(Forbidden) as caught:
        workflow.check_entry_statuses(key("curator"), entries)
    assert "materials[1].status, materials[4].status" in caught.value.detail
