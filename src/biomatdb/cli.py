"""The ``biomatdb`` command line (contract section 4): thin over the services.

Every error a user can cause is one line on stderr saying what to do, with an
exit code from :data:`EXIT_CODES` (the hidden ``--debug`` option shows the
traceback instead); long imports, exports and seeds show a progress bar on a
terminal.
"""

from __future__ import annotations

import errno
import functools
import inspect
import json
import sys
import threading
import typing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from biomatdb import resources
from biomatdb.errors import BiomatdbError, InvalidBundle

if TYPE_CHECKING:
    from rich.console import Console

#: The exit codes (also in the help epilog and the README).
EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_CODES = (
    "Exit codes: 0 done; "
    "1 the command ran and found problems (an import with errors, an unknown key name) "
    "or failed unexpectedly; "
    "2 usage or bad input: a bad option or value, a missing, unreadable or invalid file, "
    "an output path that cannot be written, a database that cannot be used "
    "(BIOMATDB_DATABASE_URL wrong, server unreachable, not migrated)."
)

#: How to get the PostgreSQL driver (biomatdb.db.POSTGRESQL_EXTRA, without importing it).
POSTGRESQL_INSTALL = "pip install 'biomatdb[postgresql]'"

#: ``ctx.meta`` key of the hidden ``--debug`` option.
DEBUG = "biomatdb.debug"
#: Seconds of work before a progress bar appears (on a terminal only).
PROGRESS_DELAY = 1.0


class CliError(Exception):
    """A user error: one ``error: ...`` line per problem, the last one with what to do."""

    def __init__(self, problems: str | Sequence[str], hint: str, code: int = EXIT_USAGE) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.hint = hint
        self.code = code
        super().__init__("; ".join([*self.problems, hint]))

    def show(self) -> None:
        *before, last = self.problems or ["failed"]
        for problem in before:
            typer.echo(f"error: {problem}", err=True)
        typer.echo(f"error: {last}; {self.hint}", err=True)


class _PlainArgument(TyperArgument):
    """An argument shown as ``FILE...`` in usage and help, without a type placeholder."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.metavar or (self.name or "value").upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


def _plain_help(params: list[Any]) -> list[Any]:
    """Help that reads like a usual CLI: ``--out FILE``, ``FILE...``, flags bare."""
    for param in params:
        if isinstance(param, TyperArgument):
            if param.metavar is None:
                param.metavar = (param.name or "value").upper()
            param.__class__ = _PlainArgument
        elif param.metavar is None:
            flag = getattr(param, "is_flag", False)
            param.metavar = "" if flag else (param.name or "value").upper()
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_help(super().get_params(ctx))


class _Group(TyperGroup):
    """Plain help; at the top, every exception becomes one line and an exit code."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_help(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if ctx.meta.get(DEBUG):
                raise
            failure = _usage_error(exc) if _is_control_flow(exc) else _explain(exc)
            if failure is None:
                raise
            failure.show()
            raise typer.Exit(code=failure.code) from None


def _is_control_flow(exc: Exception) -> bool:
    """Exit, Abort and usage errors of click (vendored by newer typer): typer shows them."""
    if isinstance(exc, typer.Exit | typer.Abort):
        return True
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        return True  # `biomatdb export | head`: typer exits quietly
    return type(exc).__module__.split(".")[0] in ("click", "typer")


def _usage_error(exc: Exception) -> CliError | None:
    """A usage error of a command's options or arguments (``No such option: --x``) as
    one line; other control flow (exit, abort, help on no arguments) passes."""
    kinds = {kind.__name__ for kind in type(exc).__mro__}
    if "UsageError" not in kinds or "NoArgsIsHelpError" in kinds:
        return None
    message = str(getattr(exc, "format_message", lambda: str(exc))()).rstrip(".")
    context = getattr(exc, "ctx", None)
    command = getattr(context, "command_path", None) or "biomatdb"
    return CliError(message, f"see {command} --help")


def _explain(exc: Exception) -> CliError:
    """The one-line explanation of an exception raised by a command."""
    from alembic.util import CommandError
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from biomatdb.db import MissingDriver
    from biomatdb.errors import DatabaseNotReady

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, DatabaseNotReady):
        return CliError(exc.reason, exc.hint)
    if isinstance(exc, MissingDriver):
        return CliError(str(exc).split(": pip")[0], "install it: " + POSTGRESQL_INSTALL)
    if isinstance(exc, OSError):
        return _os_error(exc, "cannot use")
    if isinstance(exc, BiomatdbError):
        return _domain_error(exc, "see biomatdb --help")
    if isinstance(exc, SQLAlchemyError):
        found = _database_error(exc)
        if found is not None:
            return found
    if isinstance(exc, CommandError):  # Alembic: an unknown revision
        return CliError(str(exc), "give head, base or a revision id (see alembic history)")
    if isinstance(exc, ValidationError):  # the BIOMATDB_ settings
        problems = [
            f"BIOMATDB_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        ]
        return CliError(problems, "fix the environment variable (README, Configuration)")
    return CliError(
        f"unexpected {type(exc).__name__}: {exc}",
        "run again with --debug for the traceback and report it",
        code=EXIT_PROBLEMS,
    )


_OS_HINTS = {
    errno.ENOENT: "check the path: the file, or the folder it goes in, must exist",
    errno.EACCES: "check its permissions, or choose another path",
    errno.EPERM: "check its permissions, or choose another path",
    errno.EISDIR: "give a file, not a folder",
    errno.ENOTDIR: "check the path: a part of it is a file, not a folder",
    errno.EROFS: "the file system is read-only; choose another path",
    errno.ENOSPC: "the disk is full; free some space or choose another path",
}


def _os_error(exc: OSError, action: str) -> CliError:
    reason = exc.strerror or str(exc)
    if exc.filename is None:  # not a file: a socket (serve), a process
        if exc.errno == errno.EADDRINUSE:
            return CliError(reason, "choose another --port, or stop what listens on it")
        return CliError(reason, "run again with --debug for the details")
    hint = _OS_HINTS.get(exc.errno or 0, "check the path")
    return CliError(f"{action} {exc.filename}: {reason}", hint)


def _domain_error(exc: BiomatdbError, hint: str) -> CliError:
    """A service's refusal: bad input exits 2; a conflict with stored data or a busy
    database (the command ran) exits 1."""
    from biomatdb.errors import Conflict, NotFound, ServiceUnavailable

    problems = [f"--{p.path}: {p.message}" if p.path else p.message for p in exc.errors]
    ran = isinstance(exc, Conflict | NotFound | ServiceUnavailable)
    return CliError(problems or [exc.detail], hint, code=EXIT_PROBLEMS if ran else EXIT_USAGE)


def _database_error(exc: Exception) -> CliError | None:
    """A database that cannot be used: a bad URL, unreachable, not migrated (else None)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

    from biomatdb.migrations import shown_url
    from biomatdb.settings import get_settings

    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return CliError(
            f"BIOMATDB_DATABASE_URL is not a database URL ({exc})",
            "set it to sqlite:///PATH or postgresql://USER@HOST/DATABASE",
        )
    if not isinstance(exc, OperationalError | ProgrammingError):
        return None
    url = shown_url(get_settings().database_url)
    orig = str(exc.orig or exc).strip()
    reason = orig.splitlines()[0] if orig else type(exc).__name__
    # a table or a column missing: not migrated, or migrated to an older revision
    missing = getattr(exc.orig, "sqlstate", None) in ("42P01", "42703")
    if missing or "no such table" in orig or "no such column" in orig:
        return CliError(
            f"the database {url} is not migrated ({reason})", "run: biomatdb db upgrade"
        )
    if isinstance(exc, ProgrammingError):
        return None
    if url.startswith("sqlite"):
        hint = "check that the folder in BIOMATDB_DATABASE_URL exists and is writable"
    else:
        hint = "check BIOMATDB_DATABASE_URL and that the database server is running"
    return CliError(f"cannot use the database {url}: {reason}", hint)


app = typer.Typer(
    cls=_Group,
    help="biomatdb: the open biomaterials database.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(cls=_Group, help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
keys_app = typer.Typer(
    cls=_Group,
    help="API keys (shown once at creation, stored as a hash).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


def _show_version(value: bool) -> None:
    if value:
        from biomatdb import __version__

        typer.echo(f"biomatdb {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", hidden=True, help="show tracebacks instead of one line")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="print the version and exit", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """biomatdb: the open biomaterials database."""
    ctx.meta[DEBUG] = debug


def _say_database() -> None:
    """Which database a command works on (on stderr); a bad URL gets its own error."""
    from sqlalchemy.engine import make_url

    from biomatdb.migrations import shown_url
    from biomatdb.settings import get_settings

    url = get_settings().database_url
    try:
        make_url(url)
    except Exception:
        return
    typer.echo(f"database: {shown_url(url)}", err=True)


def _log_database() -> None:
    """``serve`` says which database it serves in its own log format (JSON lines)."""
    import logging
    import logging.config

    from biomatdb.api.observe import log_config
    from biomatdb.migrations import shown_url
    from biomatdb.settings import get_settings

    settings = get_settings()
    logging.config.dictConfig(log_config(settings.log_format, settings.log_level.upper()))
    logging.getLogger("biomatdb.serve").info("database: %s", shown_url(settings.database_url))


def _current_database() -> None:
    """Stop (exit 2, one line) unless the configured database exists and is at the
    schema revision of this code: never create an empty SQLite file, never a
    traceback from a missing table."""
    from biomatdb import migrations
    from biomatdb.db import get_engine

    migrations.check_current(get_engine())


F = typing.TypeVar("F", bound=typing.Callable[..., Any])


def needs_database(command: F) -> F:
    """A command that reads or writes the database: checked first (see above)."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _current_database()
        return command(*args, **kwargs)

    return typing.cast(F, checked)


def _stderr_console() -> Console:
    """The console progress goes to: stderr, a terminal only if stderr is one."""
    from rich.console import Console

    isatty = getattr(sys.stderr, "isatty", None)
    return Console(stderr=True, force_terminal=bool(isatty and isatty()))


class Progress:
    """A progress bar on stderr: only on a terminal, and only once the work has taken
    ``delay`` seconds (short commands stay quiet). ``total=None``: a spinner."""

    def __init__(
        self,
        console: Console,
        description: str,
        *,
        total: float | None,
        delay: float,
        percent: bool = False,
    ) -> None:
        from rich import progress as rp

        self._bar = rp.Progress(
            rp.SpinnerColumn(),
            rp.TextColumn("{task.description}"),
            rp.BarColumn(),
            rp.TaskProgressColumn() if percent else rp.MofNCompleteColumn(),
            rp.TimeElapsedColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,  # exports write to stdout meanwhile
            redirect_stderr=False,
        )
        self._task = self._bar.add_task(description, total=total)
        self._lock = threading.Lock()
        self._shown = self._closed = False
        self._timer: threading.Timer | None = None
        if not console.is_terminal:
            return
        if delay <= 0:
            self._show()
        else:
            self._timer = threading.Timer(delay, self._show)
            self._timer.daemon = True
            self._timer.start()

    def _show(self) -> None:
        with self._lock:
            if not self._closed and not self._shown:
                self._bar.start()
                self._shown = True

    def update(
        self,
        *,
        description: str | None = None,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
    ) -> None:
        self._bar.update(
            self._task,
            description=description,
            total=total,
            completed=completed,
            advance=advance,
            refresh=description is not None and self._shown,  # each phase is seen
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._shown:
                self._bar.stop()


@contextmanager
def progress(
    description: str, *, total: float | None = None, percent: bool = False
) -> Iterator[Progress]:
    """A :class:`Progress` on stderr for the duration of a block (``percent``: show the
    share done rather than "done/total")."""
    bar = Progress(
        _stderr_console(), description, total=total, delay=PROGRESS_DELAY, percent=percent
    )
    try:
        yield bar
    finally:
        bar.close()


#: After an import that wrote this many property values, refresh planner statistics.
LARGE_IMPORT = 5000


@db_app.command("upgrade", cls=_Command)
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision", metavar="REVISION")] = "head",
) -> None:
    """Apply migrations to BIOMATDB_DATABASE_URL (a SQLite file is created)."""
    from biomatdb import migrations
    from biomatdb.db import get_engine
    from biomatdb.settings import get_settings

    migrations.upgrade(revision=revision)
    at = migrations.database_revision(get_engine()) if revision == "head" else revision
    typer.echo(
        f"database at revision {revision}"
        + (f" ({at})" if at != revision else "")
        + f": {migrations.shown_url(get_settings().database_url)}"
    )


@db_app.command("downgrade", cls=_Command)
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="target revision", metavar="REVISION")],
) -> None:
    """Revert migrations (``base`` empties the database)."""
    from biomatdb import migrations
    from biomatdb.settings import get_settings

    migrations.downgrade(revision=revision)
    typer.echo(
        f"database at revision {revision}: {migrations.shown_url(get_settings().database_url)}"
    )


def _read_documents(files: Sequence[Path], *, as_json: bool) -> list[tuple[str, Any]]:
    """Every file decoded (a bundle, or NDJSON by its name); a file that cannot be read
    or decoded stops the command with exit 2, after all files are tried."""
    from biomatdb.bundles.reader import read_file

    documents: list[tuple[str, Any]] = []
    errors: list[dict[str, str]] = []
    hints: list[str] = []
    for path in files:
        try:
            documents.append((str(path), read_file(path)))
        except InvalidBundle as exc:
            errors.extend(
                {"path": f"{path}: {e.path}".rstrip(": "), "message": _decode_message(e.message)}
                for e in exc.errors
            )
            hints.append(_FIX_THE_FILE)
        except OSError as exc:
            errors.append({"path": str(path), "message": f"cannot read: {exc.strerror or exc}"})
            hints.append(_OS_HINTS.get(exc.errno or 0, "check the path"))
    _stop_if_unreadable(errors, hints, as_json=as_json)
    return documents


_FIX_THE_FILE = "fix the file: one JSON bundle, or NDJSON (.ndjson) with one material per line"


def _check_readable(files: Sequence[Path], *, as_json: bool) -> None:
    """Every file can be opened; else exit 2 naming each one that cannot."""
    errors: list[dict[str, str]] = []
    hints: list[str] = []
    for path in files:
        try:
            with path.open("rb") as stream:
                stream.read(0)
        except OSError as exc:
            errors.append({"path": str(path), "message": f"cannot read: {exc.strerror or exc}"})
            hints.append(_OS_HINTS.get(exc.errno or 0, "check the path"))
    _stop_if_unreadable(errors, hints, as_json=as_json)


def _stop_if_unreadable(errors: list[dict[str, str]], hints: list[str], *, as_json: bool) -> None:
    """Exit 2 with every file problem (nothing was written), if there is any."""
    if not errors:
        return
    if as_json:
        typer.echo(json.dumps({"ok": False, "errors": errors}, indent=2))
        raise typer.Exit(code=EXIT_USAGE)
    raise CliError(
        [f"{e['path']}: {e['message']}" for e in errors],
        "; ".join(dict.fromkeys(hints)) + " (nothing was written)",
    )


def _decode_message(message: str) -> str:
    if "Extra data" in message:
        return f"{message} (NDJSON? name the file .ndjson)"
    return message


def _import(
    documents: list[tuple[str, Any]],
    *,
    dry_run: bool,
    bar: Progress,
    actor: str = "cli",
    statistics_after: int = LARGE_IMPORT,
) -> Any:
    """Validate and write (unless ``dry_run`` or any error), committing on success;
    the bar counts the materials of the documents written."""
    from biomatdb.db import get_sessionmaker
    from biomatdb.exchange.importer import import_documents

    counts = [_material_count(document) for _, document in documents]
    started = 0
    # Not on a terminal (a log, a pipe): each document's "writing FILE: N material(s)"
    # is a line of its own, as scripts and tests/test_robustness.py read it.
    plain = not _stderr_console().is_terminal

    def writing(line: str) -> None:  # called before each document is written, in order
        nonlocal started
        bar.update(description=line, total=sum(counts), completed=sum(counts[:started]))
        started += 1
        if plain:
            typer.echo(line, err=True)

    session = get_sessionmaker()()
    try:
        report = import_documents(
            session,
            documents,
            dry_run=dry_run,
            actor=actor,
            progress=writing,
            fresh_write_transaction=True,
        )
        bar.update(completed=sum(counts))
        _finish(session, report, dry_run=dry_run, bar=bar, statistics_after=statistics_after)
    finally:
        session.close()
    return report


def _finish(
    session: Any, report: Any, *, dry_run: bool, bar: Progress, statistics_after: int
) -> None:
    """Commit an import that wrote without a problem (then refresh the planner's
    statistics after a large one); roll back anything else."""
    from biomatdb.db import get_engine, refresh_statistics

    if not report.ok or dry_run:
        session.rollback()
        return
    bar.update(description="committing")
    session.commit()
    if report.property_values_written >= statistics_after:
        bar.update(description="refreshing planner statistics")
        refresh_statistics(get_engine())


def _material_count(document: Any) -> int:
    materials = document.get("materials") if isinstance(document, dict) else None
    return len(materials) if isinstance(materials, list) else 0


def _run_import(files: Sequence[Path], *, dry_run: bool, as_json: bool) -> None:
    _check_readable(files, as_json=as_json)
    verb = "checking" if dry_run else "checking, then writing"
    with progress(f"{verb} {len(files)} file(s)", percent=True) as bar:
        report = _import_files(files, dry_run=dry_run, as_json=as_json, bar=bar)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report.as_dict())
    if not report.ok:
        raise typer.Exit(code=EXIT_PROBLEMS)


def _import_files(files: Sequence[Path], *, dry_run: bool, as_json: bool, bar: Progress) -> Any:
    """Read, check and write (unless ``dry_run`` or any error) bundle files a batch at a
    time (``exchange.streaming``: entries are held a batch at a time, never a whole file),
    committing on success. The bar follows the bytes read."""
    from biomatdb.db import get_sessionmaker
    from biomatdb.exchange.streaming import import_files

    # Not on a terminal (a log, a pipe): "writing FILE" once a file's first batch is
    # written, a line of its own, as scripts and tests/test_robustness.py read it.
    plain = not _stderr_console().is_terminal
    announced: set[str] = set()

    def moved(done: int, total: int, name: str, writing: bool) -> None:
        if name not in announced:
            announced.add(name)
            bar.update(description=f"{'writing' if writing else 'checking'} {name}")
        if plain and writing and done and f"writing {name}" not in announced:
            announced.add(f"writing {name}")
            typer.echo(f"writing {name}", err=True)
        bar.update(total=total, completed=done)

    session = get_sessionmaker()()
    try:
        try:
            report = import_files(session, files, dry_run=dry_run, progress=moved)
        except InvalidBundle as exc:
            session.rollback()
            errors = [{"path": e.path, "message": _decode_message(e.message)} for e in exc.errors]
            _stop_if_unreadable(errors, [_FIX_THE_FILE], as_json=as_json)
            raise
        _finish(session, report, dry_run=dry_run, bar=bar, statistics_after=LARGE_IMPORT)
    finally:
        session.close()
    return report


def _print_errors(errors: list[dict[str, str]]) -> None:
    for error in errors:
        typer.echo(f"error: {error['path'] or '(document)'}: {error['message']}", err=True)
    typer.echo(f"{len(errors)} error(s); nothing was written; fix them and run again", err=True)


def _print_report(report: dict[str, Any]) -> None:
    if report["errors"]:
        _print_errors(report["errors"])
        return
    for kind in ("references", "organizations", "materials"):
        counts = report[kind]
        typer.echo(
            f"{kind:>14}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged"
        )
    typer.echo(f"property values written: {report['property_values_written']}")
    for change in report.get("changes", []):
        typer.echo(f"updated {change['id']}: {_change_text(change)}")
    typer.echo(report["summary"])


def _change_text(change: dict[str, Any]) -> str:
    """``fields name; properties +0 ~1 -3 (removed density, ...)`` of one update."""
    parts = [f"fields {', '.join(change['fields'])}"] if change["fields"] else []
    for name, counts in change["sections"].items():
        text = f"{name} +{counts['added']} ~{counts['changed']} -{counts['removed']}"
        if counts["removed_ids"]:
            shown = counts["removed_ids"][:10]
            more = len(counts["removed_ids"]) - len(shown)
            text += f" (removed {', '.join(shown)}{f' and {more} more' if more else ''})"
        parts.append(text)
    return "; ".join(parts) or "status only"


@keys_app.command("create", cls=_Command)
@needs_database
def keys_create(
    role: Annotated[str, typer.Option(help="reader, curator, editor or admin", metavar="ROLE")],
    name: Annotated[
        str, typer.Option(help="who uses the key; shown in the history", metavar="NAME")
    ],
) -> None:
    """Create an API key and print it once."""
    from biomatdb.auth.keys import create_key
    from biomatdb.db import session_scope

    try:
        with session_scope(write=True) as session:
            row, key = create_key(session, name=name, role=role)
    except BiomatdbError as exc:
        taken = exc.status == 409  # the name is taken
        hint = "choose another --name (see biomatdb keys list)" if taken else ""
        raise _domain_error(exc, hint or "see biomatdb keys create --help") from exc
    typer.echo(key)
    typer.echo(
        f"created key {row.name!r} with role {row.role}; it is shown only this once", err=True
    )


@keys_app.command("list", cls=_Command)
@needs_database
def keys_list() -> None:
    """List keys: name, role, created, revoked (never the key)."""
    from biomatdb.auth.keys import list_keys
    from biomatdb.db import session_scope

    with session_scope() as session:
        for row in list_keys(session):
            revoked = row.revoked_at.isoformat() if row.revoked_at else "-"
            typer.echo(
                f"{row.name}\t{row.role}\tbmdb_{row.lookup}_...\t"
                f"{row.created_at.isoformat()}\trevoked: {revoked}"
            )


@keys_app.command("revoke", cls=_Command)
@needs_database
def keys_revoke(
    name: Annotated[str, typer.Argument(help="the key's name", metavar="NAME")],
) -> None:
    """Revoke a key by name; it stops working at once."""
    from biomatdb.auth.keys import revoke_key
    from biomatdb.db import session_scope

    try:
        with session_scope(write=True) as session:
            revoke_key(session, name)
    except BiomatdbError as exc:
        raise _domain_error(exc, "see biomatdb keys list for the names") from exc
    typer.echo(f"revoked key {name!r}")


_DRY_RUN_HELP = "validate and report; write nothing"


@app.command("import", cls=_Command)
@needs_database
def import_(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="bundle files: JSON, or NDJSON with one material per line (.ndjson, .jsonl)",
            metavar="FILE",
            exists=False,
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_DRY_RUN_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Import bundles: all or nothing; every error is reported with its JSON path."""
    _run_import(files, dry_run=dry_run, as_json=as_json)


@app.command("seed", cls=_Command)
@needs_database
def seed(
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_DRY_RUN_HELP)] = False,
) -> None:
    """Import the bundles shipped in seed/ (in file-name order)."""
    try:
        seed_dir = resources.seed_dir()
    except FileNotFoundError as exc:
        raise CliError(str(exc), "reinstall biomatdb, or run from a source checkout") from exc
    files = sorted(seed_dir.glob("*.json"))
    if not files:
        raise CliError(f"no seed bundles in {seed_dir}", "reinstall biomatdb")
    _run_import(files, dry_run=dry_run, as_json=False)


@app.command("import-openfda", cls=_Command)
@needs_database
def import_openfda(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="openFDA device 510(k) or PMA JSON files (the download format, "
            '{"results": [...]}); De Novo records are in the 510(k) files',
            metavar="FILE",
            exists=False,
        ),
    ],
    mapping: Annotated[
        Path,
        typer.Option(
            "--mapping",
            help='JSON: {"product_codes": {"HWC": ["ti-6al-4v-eli"]}, "device_names": '
            '[{"pattern": "*PEEK*", "materials": ["peek"]}], "applicants": {"Applicant '
            'Name": "org-id"}}; which materials a device holds is the curator\'s call',
            metavar="MAPPING",
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_DRY_RUN_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Add FDA records to the materials their devices hold: each cleared, granted or
    approved record once, applicants as organizations, one reference per record; through
    the same all-or-nothing import as a bundle."""
    from biomatdb.db import get_sessionmaker
    from biomatdb.errors import FieldProblem
    from biomatdb.exchange import openfda

    problems: list[FieldProblem] = []
    # Read and decoded as bundles are: one line per unreadable file, exit 2.
    (_, raw_mapping), *documents = _read_documents([mapping, *files], as_json=as_json)
    rules = openfda.read_mapping(raw_mapping, problems)
    records = [
        record
        for name, document in documents
        for record in openfda.read_records(document, name, problems)
    ]
    conversion = None
    if not problems:
        with get_sessionmaker()() as session:
            conversion = openfda.to_bundle(session, records, rules, problems)
    if problems or conversion is None:
        _print_errors([{"path": p.path, "message": p.message} for p in problems])
        raise typer.Exit(code=EXIT_PROBLEMS)
    verb = "checking" if dry_run else "checking, then writing"
    with progress(f"{verb} {conversion.added} record(s)") as bar:
        report = _import([("openfda", conversion.bundle)], dry_run=dry_run, bar=bar)
    outcome = {
        "records": len(records),
        "added": conversion.added,
        "already_present": conversion.already_present,
        "not_marketing": conversion.not_marketing,
        "pma_supplements": conversion.supplements,
        "unmatched": conversion.unmatched,
    }
    if as_json:
        typer.echo(json.dumps({"openfda": outcome, **report.as_dict()}, indent=2))
    else:
        typer.echo(
            f"{len(records)} record(s): {conversion.added} added, "
            f"{conversion.already_present} already present, "
            f"{len(conversion.unmatched)} matched no material"
            + (f" ({', '.join(conversion.unmatched[:10])})" if conversion.unmatched else "")
            + f", {len(conversion.not_marketing)} not a clearance or approval, "
            f"{conversion.supplements} PMA supplement(s) skipped"
        )
        _print_report(report.as_dict())
    if not report.ok:
        raise typer.Exit(code=EXIT_PROBLEMS)


@app.command("quality", cls=_Command)
@needs_database
def quality(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="findings listed per section")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """The data quality report, a curator's worklist: values without a DOI, class-generic
    values, outliers per property and class, materials without values, conflicting
    values, organizations nothing links to (also GET /api/v1/quality)."""
    from biomatdb.db import get_sessionmaker
    from biomatdb.quality import service

    with get_sessionmaker()() as session:
        found = service.report(session, limit=limit)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for name, section in found["sections"].items():
        typer.echo(f"{name}: {section['count']}  ({section['about']})")
        for item in section["items"]:
            typer.echo("  " + _finding_text(item))
        if section["count"] > len(section["items"]):
            typer.echo(f"  ... and {section['count'] - len(section['items'])} more (--limit)")


def _finding_text(item: dict[str, Any]) -> str:
    """One finding on one line: what it is about, then its details."""
    subject = item.get("material") or item.get("organization") or ""
    if "property" in item and "index" in item:
        canonical = item["canonical"]
        shown = (
            f"{canonical['min']:g}"
            if canonical["min"] == canonical["max"]
            else f"{canonical['min']:g}-{canonical['max']:g}"
        )
        where = f"{subject} properties[{item['index']}] {item['property']} = {shown} "
        where += canonical["unit"]
        extra = f" (z {item['z']:+.1f}, class {item['class']})" if "z" in item else ""
        source = f"; source {item['source']}" if item.get("source") else ""
        return str(where + extra + source)
    if "ratio" in item:
        return (
            f"{subject} {item['property']} ({item['specimen'] or 'no specimen'}): "
            f"{item['lowest']:g} to {item['highest']:g} {item['unit']}, {item['ratio']}x, "
            f"{item['values']} values"
        )
    return f"{subject}: {item.get('name', '')}"


EXPORT_FORMATS = ("bundle", "csv", "ndjson", "values-csv")


def _filter_options() -> list[inspect.Parameter]:
    """A ``--NAME`` option per search filter parameter (repeatable ones repeat), built
    from the registries like the API's query parameters."""
    from biomatdb.search.request import FILTER_PARAMETERS, PARAMETERS

    options = []
    for parameter in PARAMETERS:
        if parameter.name not in FILTER_PARAMETERS:
            continue
        repeatable = typing.get_origin(parameter.annotation) is list
        kind: Any = list[str] | None if repeatable else str | None
        help_text = parameter.doc.replace("{max_terms}", str(parameter.max_terms))
        option = typer.Option(
            f"--{parameter.name}",
            help=help_text,
            show_default=False,
            metavar="WORDS" if parameter.name == "q" else parameter.name.upper(),
        )
        options.append(
            inspect.Parameter(
                f"filter_{parameter.identifier}",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[kind, option],
            )
        )
    return options


def export(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="file to write (default: stdout)", metavar="FILE"),
    ] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="bundle (JSON, importable), csv (one row per material), ndjson (one "
            "search item per line) or values-csv (one row per property value)",
            metavar="FORMAT",
        ),
    ] = "bundle",
    sort: Annotated[
        str | None,
        typer.Option(help="order of csv and ndjson rows (as the API's sort)", metavar="SORT"),
    ] = None,
    units: Annotated[
        str | None,
        typer.Option(
            help="KEY:UNIT pairs, e.g. youngs_modulus:kPa (csv, ndjson)", metavar="KEY:UNIT,..."
        ),
    ] = None,
    **filters: Any,
) -> None:
    """Write the published materials (all, or those the filter options match) as a \
bundle, CSV, NDJSON or a CSV of property values."""
    from biomatdb.db import session_scope

    if format_ not in EXPORT_FORMATS:
        raise CliError(
            f"--format: unknown format {format_!r}", f"choose one of {', '.join(EXPORT_FORMATS)}"
        )
    given = {name.removeprefix("filter_"): value for name, value in filters.items()}
    try:
        query = _export_query(given, sort, units)
    except BiomatdbError as exc:
        raise _domain_error(exc, "see biomatdb export --help") from exc
    with progress(f"exporting {format_}") as bar, _output(out) as sink, session_scope() as session:
        _copy(_export_chunks(session, format_, query), sink, bar)
    if out is not None:
        typer.echo(f"wrote {out}", err=True)


def _export_query(given: dict[str, Any], sort: str | None, units: str | None) -> Any:
    """The search the filter options ask for, checked before anything is opened:
    ``(query, output units, filtered?)``."""
    from biomatdb.search.request import PARAMETERS, SearchRequest
    from biomatdb.units.output import OutputUnits

    identifiers = {p.identifier: p.name for p in PARAMETERS}
    raw = {identifiers[k]: v for k, v in given.items() if v not in (None, [])}
    query = SearchRequest.from_json({**raw, "sort": sort}).to_query()
    return query, OutputUnits.parse(units), bool(raw)


def _export_chunks(session: Any, format_: str, checked: Any) -> Iterator[bytes]:
    """The export as byte chunks."""
    from biomatdb.exchange.exporter import export_bundle
    from biomatdb.materials import export as material_export
    from biomatdb.search.repository import conditions
    from biomatdb.values import service as values

    query, out, filtered = checked
    if format_ == "bundle":
        where = conditions(session, query) if filtered else None
        bundle = export_bundle(session, where)
        text = json.dumps(bundle, indent=1, ensure_ascii=False) + "\n"
        typer.echo(f"exported {len(bundle['materials'])} materials", err=True)
        return iter([text.encode("utf-8")])
    if format_ == "csv":
        return material_export.csv(session, query, out)
    if format_ == "ndjson":
        return material_export.ndjson(session, query, out)
    return values.csv(session, values.ValuesQuery(query, None, out))


@contextmanager
def _output(out: Path | None) -> Iterator[IO[bytes]]:
    """Standard output, or the file ``out`` (opened first, so that a bad path fails
    before the export runs; removed again if the export fails)."""
    if out is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        file = out.open("wb")
    except OSError as exc:
        raise _os_error(exc, "cannot write") from exc
    try:
        with file:
            yield file
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def _copy(chunks: Iterator[bytes], sink: IO[bytes], bar: Progress) -> None:
    lines = 0
    for chunk in chunks:
        sink.write(chunk)
        lines += chunk.count(b"\n")
        bar.update(completed=lines)


export.__signature__ = inspect.signature(export, eval_str=True).replace(  # type: ignore[attr-defined]
    parameters=[
        *(
            p
            for p in inspect.signature(export, eval_str=True).parameters.values()
            if p.name != "filters"
        ),
        *_filter_options(),
    ]
)
app.command("export", cls=_Command)(needs_database(export))


@app.command("synth", cls=_Command)
def synth(
    materials: Annotated[int, typer.Option(help="number of materials", min=1, metavar="N")] = 1000,
    seed: Annotated[
        int, typer.Option(help="random seed (same seed, same bundle)", metavar="N")
    ] = 1,
    out: Annotated[Path | None, typer.Option(help="write the bundle here", metavar="FILE")] = None,
    load: Annotated[bool, typer.Option("--import", help="import it into the database")] = False,
) -> None:
    """Generate a synthetic corpus with the shape of real data (benchmarks only)."""
    from biomatdb.synth import generate

    bundle = generate(materials, seed)
    if out is not None:
        try:
            out.write_text(json.dumps(bundle, separators=(",", ":")) + "\n", encoding="utf-8")
        except OSError as exc:
            raise _os_error(exc, "cannot write") from exc
        typer.echo(f"wrote {materials} synthetic materials to {out}", err=True)
    if load:
        with progress("checking, then writing the synthetic bundle") as bar:
            report = _import(
                [("synth", bundle)], dry_run=False, bar=bar, actor="synth", statistics_after=0
            )
        _print_report(report.as_dict())
        if not report.ok:
            raise typer.Exit(code=EXIT_PROBLEMS)
    if out is None and not load:
        sys.stdout.write(json.dumps(bundle, separators=(",", ":")) + "\n")


@app.command("serve", cls=_Command)
def serve(
    host: Annotated[str, typer.Option(help="interface to bind", metavar="HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port", metavar="PORT")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes", metavar="N")] = 1,
    upgrade: Annotated[
        bool,
        typer.Option(
            "--upgrade", help="migrate the database first (else a database not at head stops)"
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs), with the server limits of the settings.

    Refuses to start on a database that is missing, unmigrated or at another schema
    revision than this code's (run ``biomatdb db upgrade``, or pass --upgrade)."""
    from biomatdb import migrations, server

    if upgrade:
        migrations.upgrade()
    _current_database()
    _log_database()
    server.run(host=host, port=port, workers=workers)


@app.command("backup", cls=_Command)
def backup_(
    file: Annotated[Path, typer.Argument(help="where to write the backup", metavar="FILE")],
) -> None:
    """Write the whole database to FILE while the service keeps running (SQLite: its
    online backup API, the file is a database; PostgreSQL: pg_dump's custom format)."""
    from biomatdb import backup
    from biomatdb.db import get_engine

    _say_database()
    try:
        backup.backup(get_engine(), file)
    except backup.BackupFailed as exc:
        raise CliError(exc.problem, exc.hint) from exc
    typer.echo(f"wrote {file}", err=True)


@app.command("restore", cls=_Command)
def restore(
    file: Annotated[Path, typer.Argument(help="a backup of biomatdb backup", metavar="FILE")],
    force: Annotated[
        bool, typer.Option("--force", help="replace a database that holds materials")
    ] = False,
) -> None:
    """Replace the database with a backup (SQLite file, or pg_restore of a pg_dump in
    one transaction). Stop the service first; a database holding materials needs
    --force."""
    from biomatdb import backup
    from biomatdb.db import get_engine

    _say_database()
    try:
        revision = backup.restore(get_engine(), file, force=force)
    except backup.BackupFailed as exc:
        raise CliError(exc.problem, exc.hint) from exc
    except BiomatdbError as exc:  # not a backup file
        raise CliError(exc.detail, "give a file written by biomatdb backup") from exc
    if revision is None:
        typer.echo(
            f"restored {file}; its schema is older than this biomatdb's: run biomatdb db upgrade",
            err=True,
        )
    else:
        typer.echo(f"restored {file} (revision {revision})", err=True)


@app.command("schema", cls=_Command)
def schema(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="where to write the JSON Schema (default: schemas/bundle.schema.json "
            "in a source checkout, stdout once installed)",
            metavar="FILE",
        ),
    ] = None,
) -> None:
    """Regenerate the bundle JSON Schema (schemas/bundle.schema.json) from the models."""
    from biomatdb.bundles.jsonschema import render

    text = render()
    if out is None:
        if resources.checkout_root() is None:
            sys.stdout.write(text)  # installed: there is no source tree to write into
            return
        out = resources.schema_file()
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _os_error(exc, "cannot write") from exc
    typer.echo(f"wrote {out}", err=True)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # python -m biomatdb.cli
    main()
