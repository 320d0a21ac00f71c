"""The ``biomatdb`` command line (contract section 4): thin over the services."""

from __future__ import annotations

import inspect
import json
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from biomatdb import resources
from biomatdb.errors import InvalidBundle

app = typer.Typer(
    help="biomatdb: the open biomaterials database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
keys_app = typer.Typer(
    help="API keys (shown once at creation, stored as a hash).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")

#: After an import that wrote this many property values, refresh planner statistics.
LARGE_IMPORT = 5000


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply migrations to BIOMATDB_DATABASE_URL."""
    from biomatdb import migrations

    migrations.upgrade(revision=revision)
    typer.echo(f"database at revision {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target revision")]) -> None:
    """Revert migrations (``base`` empties the database)."""
    from biomatdb import migrations

    migrations.downgrade(revision=revision)
    typer.echo(f"database at revision {revision}")


def _run_import(files: list[Path], *, dry_run: bool, as_json: bool) -> None:
    from biomatdb.bundles.reader import read_file
    from biomatdb.db import get_engine, get_sessionmaker, refresh_statistics
    from biomatdb.exchange.importer import import_documents

    documents: list[tuple[str, Any]] = []
    decode_errors: list[dict[str, str]] = []
    for path in files:
        try:
            documents.append((str(path), read_file(path)))
        except InvalidBundle as exc:
            decode_errors.extend(
                {"path": f"{path}: {e.path}".rstrip(": "), "message": e.message} for e in exc.errors
            )
        except OSError as exc:
            decode_errors.append({"path": str(path), "message": f"cannot read: {exc.strerror}"})
    if decode_errors:
        _print_errors(decode_errors, as_json=as_json)
        raise typer.Exit(code=1)
    session = get_sessionmaker()()
    try:
        report = import_documents(
            session,
            documents,
            dry_run=dry_run,
            progress=lambda line: typer.echo(line, err=True),
            fresh_write_transaction=True,
        )
        if report.ok and not dry_run:
            session.commit()
            if report.property_values_written >= LARGE_IMPORT:
                refresh_statistics(get_engine())
        else:
            session.rollback()
    finally:
        session.close()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report.as_dict())
    if not report.ok:
        raise typer.Exit(code=1)


def _print_errors(errors: list[dict[str, str]], *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"ok": False, "errors": errors}, indent=2))
        return
    for error in errors:
        typer.echo(f"error: {error['path'] or '(document)'}: {error['message']}", err=True)
    typer.echo(f"{len(errors)} error(s); nothing was written", err=True)


def _print_report(report: dict[str, Any]) -> None:
    if report["errors"]:
        _print_errors(report["errors"], as_json=False)
        return
    for kind in ("references", "organizations", "materials"):
        counts = report[kind]
        typer.echo(
            f"{kind:>14}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged"
        )
    typer.echo(f"property values written: {report['property_values_written']}")
    typer.echo(report["summary"])


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="reader, curator, editor or admin")],
    name: Annotated[str, typer.Option(help="who uses the key; shown in the history")],
) -> None:
    """Create an API key and print it once."""
    from biomatdb.auth.keys import create_key
    from biomatdb.db import session_scope
    from biomatdb.errors import BiomatdbError

    try:
        with session_scope(write=True) as session:
            row, key = create_key(session, name=name, role=role)
    except BiomatdbError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(key)
    typer.echo(
        f"created key {row.name!r} with role {row.role}; it is shown only this once", err=True
    )


@keys_app.command("list")
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


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="the key's name")]) -> None:
    """Revoke a key by name; it stops working at once."""
    from biomatdb.auth.keys import revoke_key
    from biomatdb.db import session_scope
    from biomatdb.errors import BiomatdbError

    try:
        with session_scope(write=True) as session:
            revoke_key(session, name)
    except BiomatdbError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"revoked key {name!r}")


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="bundle files (JSON)", exists=False)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="validate and report; write nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Import bundles: all or nothing; every error is reported with its JSON path."""
    _run_import(files, dry_run=dry_run, as_json=as_json)


@app.command("seed")
def seed(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="validate and report; write nothing")
    ] = False,
) -> None:
    """Import the bundles shipped in seed/ (in file-name order)."""
    try:
        seed_dir = resources.seed_dir()
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    files = sorted(seed_dir.glob("*.json"))
    if not files:
        typer.echo(f"no seed bundles in {seed_dir}", err=True)
        raise typer.Exit(code=1)
    _run_import(files, dry_run=dry_run, as_json=False)


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
        option = typer.Option(f"--{parameter.name}", help=help_text, show_default=False)
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
        Path | None, typer.Option("--out", help="file to write (default: stdout)")
    ] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="bundle (JSON, importable), csv (one row per material), ndjson (one "
            "search item per line) or values-csv (one row per property value)",
        ),
    ] = "bundle",
    sort: Annotated[
        str | None, typer.Option(help="order of csv and ndjson rows (as the API's sort)")
    ] = None,
    units: Annotated[
        str | None, typer.Option(help="KEY:UNIT pairs, e.g. youngs_modulus:kPa (csv, ndjson)")
    ] = None,
    **filters: Any,
) -> None:
    """Write the published materials (all, or those the filter options match) as a
    bundle, CSV, NDJSON or a CSV of property values."""
    from biomatdb.db import session_scope
    from biomatdb.errors import BiomatdbError

    if format_ not in EXPORT_FORMATS:
        typer.echo(f"--format: choose one of {', '.join(EXPORT_FORMATS)}", err=True)
        raise typer.Exit(code=2)
    given = {name.removeprefix("filter_"): value for name, value in filters.items()}
    try:
        with session_scope() as session:
            chunks = _export_chunks(session, format_, given, sort, units)
            _write(chunks, out)
    except BiomatdbError as exc:
        for problem in exc.errors or []:
            typer.echo(f"--{problem.path}: {problem.message}", err=True)
        if not exc.errors:
            typer.echo(exc.detail, err=True)
        raise typer.Exit(code=2) from None


def _export_chunks(
    session: Any, format_: str, given: dict[str, Any], sort: str | None, units: str | None
) -> Iterator[bytes]:
    """The export as byte chunks (validated before the first chunk)."""
    from biomatdb.exchange.exporter import export_bundle
    from biomatdb.materials import export as material_export
    from biomatdb.search.repository import conditions
    from biomatdb.search.request import PARAMETERS, SearchRequest
    from biomatdb.units.output import OutputUnits
    from biomatdb.values import service as values

    identifiers = {p.identifier: p.name for p in PARAMETERS}
    raw = {identifiers[k]: v for k, v in given.items() if v not in (None, [])}
    query = SearchRequest.from_json({**raw, "sort": sort}).to_query()
    out = OutputUnits.parse(units)
    filtered = bool(raw)
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


def _write(chunks: Iterator[bytes], out: Path | None) -> None:
    if out is None:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    with out.open("wb") as file:
        for chunk in chunks:
            file.write(chunk)
    typer.echo(f"wrote {out}", err=True)


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
app.command("export")(export)


@app.command("synth")
def synth(
    materials: Annotated[int, typer.Option(help="number of materials", min=1)] = 1000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same bundle)")] = 1,
    out: Annotated[Path | None, typer.Option(help="write the bundle here")] = None,
    load: Annotated[bool, typer.Option("--import", help="import it into the database")] = False,
) -> None:
    """Generate a synthetic corpus with the shape of real data (benchmarks only)."""
    from biomatdb.synth import generate

    bundle = generate(materials, seed)
    if out is not None:
        out.write_text(json.dumps(bundle, separators=(",", ":")) + "\n", encoding="utf-8")
        typer.echo(f"wrote {materials} synthetic materials to {out}", err=True)
    if load:
        from biomatdb.db import session_scope
        from biomatdb.exchange.importer import import_documents

        with session_scope(write=True) as session:
            report = import_documents(session, [("synth", bundle)], actor="synth")
        if report.ok:
            from biomatdb.db import get_engine, refresh_statistics

            refresh_statistics(get_engine())
        _print_report(report.as_dict())
        if not report.ok:
            raise typer.Exit(code=1)
    if out is None and not load:
        sys.stdout.write(json.dumps(bundle, separators=(",", ":")) + "\n")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs), with the server limits of the settings."""
    from biomatdb import server

    server.run(host=host, port=port, workers=workers)


@app.command("schema")
def schema(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="where to write the JSON Schema (default: schemas/bundle.schema.json "
            "in a source checkout, stdout once installed)",
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
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # python -m biomatdb.cli
    main()
