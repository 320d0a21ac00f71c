"""Importing bundle files of any size: read, checked and written a batch at a time.

``biomatdb import`` and ``seed`` go through here (HTTP uploads, bounded in size,
take :func:`biomatdb.exchange.importer.import_documents`). The file's entries are
held one batch at a time, never all at once (``bundles.stream``; what grows with the
file is the set of ids seen, about 100 bytes a material: docs/performance.md), and
nothing of the all-or-nothing rule is lost: everything is written in the caller's one
transaction, which it commits only when the report has no error. Once a problem
is found, writing stops and checking goes on, so the report names every problem
(the first :data:`MAX_ERRORS`), as a whole-document import would.

The write lock is taken at the start (checking and writing interleave), so other
writers wait for a bulk import; readers do not.

References and organizations are read before the materials that cite them
when they come first in the file, as every bundle this service writes has them.
When they come after ``materials``, the file is read twice: the first reading
collects them and is rolled back (a savepoint), the second writes.
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.bundles.known import known_ids
from biomatdb.bundles.stream import Broken, TopLevel, file_parts
from biomatdb.bundles.validation import (
    TOP_LEVEL_KEYS,
    KnownIds,
    MaterialChecker,
    parse,
    sort_problems,
    valid,
)
from biomatdb.db import begin_write, first_load
from biomatdb.errors import FieldProblem, InvalidBundle
from biomatdb.exchange import plan
from biomatdb.exchange.importer import upsert_shared
from biomatdb.exchange.report import ImportReport, count_written
from biomatdb.materials import projection, store
from biomatdb.models import Change, Material, MaterialVersion, Organization, Reference
from biomatdb.models.base import table_of, utcnow

#: The tables a load fills: into an empty database, the indexes of each (and
#: PostgreSQL's foreign keys) are made after the rows (``db.first_load``).
LOADED_TABLES = [
    table_of(model) for model in (Material, MaterialVersion, Change, *projection.CHILD_TABLES)
]
#: Materials checked and written together (about 15,000 property values).
BATCH_MATERIALS = 1000
#: A report lists at most this many problems, then says how many more there are.
MAX_ERRORS = 1000

#: ``progress(bytes read, bytes in all files, file name, writing)``, called when a file
#: starts and after each batch; ``writing``: no problem so far, so what is read is
#: written (never in a dry run).
Progress = Callable[[int, int, str, bool], None]


@dataclass
class _Shared:
    """The references and organizations of one file, as decoded (None: absent)."""

    references: Any = None
    organizations: Any = None
    #: Set when one of them comes after ``materials`` (the file is read again).
    late: bool = False


@dataclass
class _Import:
    session: Session
    report: ImportReport
    dry_run: bool
    actor: str
    may_change_shared: bool
    batch_materials: int
    progress: Progress | None
    total_bytes: int
    now: Any = field(default_factory=utcnow)
    #: Ids declared by the files read so far (a later file may name them).
    earlier_references: set[str] = field(default_factory=set)
    earlier_organizations: set[str] = field(default_factory=set)
    #: Dry runs: what earlier files would have written (``plan``).
    planned_shared: dict[Any, dict[str, Any]] = field(default_factory=dict)
    planned_materials: dict[str, str] = field(default_factory=dict)
    #: Parts that could not be decoded: the command stops with these alone.
    unreadable: list[FieldProblem] = field(default_factory=list)
    hidden_errors: int = 0
    bytes_before: int = 0

    @property
    def writing(self) -> bool:
        return not self.dry_run and not self.report.errors and not self.unreadable

    def problems(self, prefix: str, problems: list[FieldProblem]) -> None:
        sort_problems(problems)
        room = max(0, MAX_ERRORS - len(self.report.errors))
        self.report.errors.extend(
            {"path": prefix + p.path, "message": p.message} for p in problems[:room]
        )
        self.hidden_errors += max(0, len(problems) - room)

    def known(self) -> KnownIds:
        return KnownIds(
            references=known_ids(self.session, Reference, frozenset(self.earlier_references)),
            organizations=known_ids(
                self.session, Organization, frozenset(self.earlier_organizations)
            ),
        )

    # -- one file ---------------------------------------------------------------------

    def file(self, path: Path, prefix: str) -> None:
        before = copy.deepcopy(
            (self.report, self.earlier_references, self.earlier_organizations, self.planned_shared)
        )
        planned_materials = dict(self.planned_materials)
        hidden_errors = self.hidden_errors
        self._progress(0, path)
        savepoint = self.session.begin_nested() if not self.dry_run else None
        try:
            shared = self.read(path, prefix, None)
        except BaseException:
            if savepoint is not None:
                savepoint.rollback()
            raise
        if shared.late and not self.unreadable:
            # The first reading checked materials against too few ids: start the file
            # again, knowing them all.
            if savepoint is not None:
                savepoint.rollback()
                savepoint = self.session.begin_nested()
            report, self.earlier_references, self.earlier_organizations, self.planned_shared = (
                before
            )
            self.report.__dict__.update(report.__dict__)
            self.planned_materials = planned_materials
            self.hidden_errors = hidden_errors
            self.read(path, prefix, shared)
        if savepoint is not None and savepoint.is_active:
            savepoint.commit()
        self.bytes_before += path.stat().st_size

    def read(self, path: Path, prefix: str, given: _Shared | None) -> _Shared:
        """One reading of a file; ``given``: its references and organizations, found by
        an earlier reading (the parts themselves are then skipped)."""
        shared = given or _Shared()
        checker: MaterialChecker | None = None
        batch: list[tuple[int, Any]] = []
        cell = [0]
        for part in file_parts(path, cell):
            if isinstance(part, Broken):
                self.unreadable.append(
                    FieldProblem(f"{path}: {part.problem.path}".rstrip(": "), part.problem.message)
                )
            elif isinstance(part, TopLevel):
                self._top_level(part, shared, given is not None, checker is not None, prefix)
            else:
                if checker is None:
                    checker = self.shared_records(shared, prefix)
                if part.value is not None:  # None: a line that is not JSON (unreadable)
                    batch.append((part.index, part.value))
                if len(batch) >= self.batch_materials:
                    self.materials(checker, batch, prefix)
                    batch = []
                    self._progress(cell[0], path)
        if checker is None:
            checker = self.shared_records(shared, prefix)
        if batch:
            self.materials(checker, batch, prefix)
        self._progress(cell[0], path)
        return shared

    def _top_level(
        self,
        part: TopLevel,
        shared: _Shared,
        again: bool,
        after_materials: bool,
        prefix: str,
    ) -> None:
        """Keep the references and organizations; report anything else (in file order)."""
        problems: list[FieldProblem] = []
        if part.key in ("references", "organizations"):
            if not again:
                setattr(shared, part.key, part.value)
                shared.late = shared.late or after_materials
        elif part.key == "materials":
            if part.value is not None:
                problems.append(FieldProblem("materials", "must be a list"))
        else:
            problems.append(
                FieldProblem(
                    part.key, "unknown field; a bundle has only " + ", ".join(TOP_LEVEL_KEYS)
                )
            )
        self.problems(prefix, problems)

    def _progress(self, done: int, path: Path) -> None:
        if self.progress is not None:
            self.progress(self.bytes_before + done, self.total_bytes, str(path), self.writing)

    # -- the parts --------------------------------------------------------------------

    def shared_records(self, shared: _Shared, prefix: str) -> MaterialChecker:
        """Check (and write, or plan) a file's references and organizations; the checker
        of its materials."""
        raw = {
            key: value
            for key, value in (
                ("references", shared.references),
                ("organizations", shared.organizations),
            )
            if value is not None
        }
        known = self.known()
        parsed = parse(raw, known=known)
        self.problems(prefix, parsed.problems)
        references = [e for _, e in valid(parsed.references)]
        organizations = [e for _, e in valid(parsed.organizations)]
        if self.dry_run and not self.report.errors:
            for model, entries, counts in (
                (Reference, references, self.report.references),
                (Organization, organizations, self.report.organizations),
            ):
                plan.plan_shared(
                    self.session,
                    model,
                    entries,
                    counts,
                    self.planned_shared,
                    self.may_change_shared,
                )
        elif self.writing:
            for model, entries, counts in (
                (Reference, references, self.report.references),
                (Organization, organizations, self.report.organizations),
            ):
                upsert_shared(
                    self.session,
                    model,
                    entries,
                    counts,
                    self.now,
                    self.actor,
                    self.may_change_shared,
                )
        checker = MaterialChecker(parsed.declared_references, parsed.declared_organizations, known)
        self.earlier_references |= parsed.declared_references
        self.earlier_organizations |= parsed.declared_organizations
        return checker

    def materials(
        self, checker: MaterialChecker, batch: list[tuple[int, Any]], prefix: str
    ) -> None:
        problems: list[FieldProblem] = []
        entries = checker.check(batch, problems)
        self.problems(prefix, problems)
        if self.dry_run and not self.report.errors:
            for item in store.planned_outcomes(self.session, entries, self.planned_materials):
                count_written(self.report, item)
        elif self.writing:
            for item in store.write_entries(self.session, entries, actor=self.actor, now=self.now):
                count_written(self.report, item)
        # The cyclic collector is off during an import (import_files), but writing a
        # batch leaves reference cycles: SQLAlchemy's expanding IN parameters (the
        # chunks of ids and slugs) refer to themselves through their clones, and held
        # each batch's id lists until the end: 0.9 MB more per batch, 291 MB at the
        # end of a 100k import. Collecting the youngest generation after each batch
        # frees them (about 1 ms: it holds what this batch made); the peak was 204 MB.
        gc.collect(0)


def import_files(
    session: Session,
    paths: Sequence[Path],
    *,
    dry_run: bool = False,
    actor: str = "cli",
    may_change_shared: bool = True,
    progress: Progress | None = None,
    batch_materials: int = BATCH_MATERIALS,
) -> ImportReport:
    """Check and (unless ``dry_run`` or any problem) write bundle files, in order, in the
    session's transaction; the caller commits when the report is ok.

    Raises :class:`InvalidBundle` when a file is not a bundle that can be read (not
    UTF-8, not JSON, a NUL character): with every such problem of every file, each
    path starting with the file's name; nothing of the problems of the entries.
    """
    report = ImportReport(dry_run=dry_run, documents=[str(p) for p in paths])
    run = _Import(
        session,
        report,
        dry_run,
        actor,
        may_change_shared,
        batch_materials,
        progress,
        total_bytes=sum(p.stat().st_size for p in paths),
    )
    if not dry_run:
        begin_write(session)
    # Millions of short-lived objects: the cyclic collector would rescan the long-lived
    # ones again and again (importer.write_documents); the cycles a batch leaves are
    # collected after it (_Import.materials).
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Only into an empty database: on PostgreSQL dropping an index locks its table
        # until the commit, and a reader of a table that happens to be empty (say
        # material_identifiers) in a database in use would wait for the whole load.
        empty = session.scalar(select(Material.id).limit(1)) is None
        deferred: AbstractContextManager[list[str]] = (
            first_load(session, LOADED_TABLES) if empty and not dry_run else nullcontext([])
        )
        with deferred:
            for path in paths:
                try:
                    run.file(path, f"{path}: " if len(paths) > 1 else "")
                except InvalidBundle as exc:  # the file's text cannot be read on: next file
                    run.unreadable += [
                        FieldProblem(f"{path}: {p.path}".rstrip(": "), p.message)
                        for p in exc.errors
                    ]
    finally:
        if collecting:
            gc.enable()
    if run.unreadable:
        raise InvalidBundle("files that cannot be read as bundles", errors=run.unreadable)
    if run.hidden_errors:
        report.errors.append(
            {
                "path": "",
                "message": f"and {run.hidden_errors} more problem(s): only the first "
                f"{MAX_ERRORS} are listed",
            }
        )
    session.flush()
    return report
