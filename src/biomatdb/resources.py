"""Where the runtime files are: the migrations, the seed bundles, the bundle JSON Schema.

One source, two places to find it. ``alembic/``, ``seed/`` and ``schemas/`` live
at the top level of the source tree (the project's layout: developers edit them
there, ``alembic`` runs there with ``alembic.ini``). The wheel build copies them
into the package as ``biomatdb/_data/{alembic,seed,schemas}`` (pyproject.toml,
``[tool.hatch.build.targets.wheel.sources]``), so an installed biomatdb carries
its own copy and finds it with :mod:`importlib.resources`. In a source checkout
or an editable install there is no ``_data``: the files are read at the top
level of the checkout. Nothing else in the code knows about either place.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The package subdirectory the wheel build puts the runtime files in.
PACKAGED = "_data"
SCHEMA_FILE = "bundle.schema.json"


def checkout_root() -> Path | None:
    """The source checkout this package is imported from (``<root>/src/biomatdb``),
    or None when biomatdb is installed (there is no source tree to read or write)."""
    package = Path(__file__).resolve().parent
    root = package.parents[1]
    if package.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def data_dir(name: str) -> Path:
    """The directory ``name`` (``alembic``, ``seed`` or ``schemas``): the packaged copy
    when biomatdb is installed from a wheel, else the checkout's top-level one."""
    packaged = files(__package__ or "biomatdb").joinpath(PACKAGED, name)
    # Alembic and the seed reader need real files: a package imported from a zip
    # archive has none (and biomatdb is never installed that way).
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    root = checkout_root()
    if root is not None and (root / name).is_dir():
        return root / name
    raise FileNotFoundError(
        f"biomatdb's {name}/ directory is missing: neither {packaged} (installed package)"
        " nor a source checkout's top level holds it; reinstall biomatdb"
    )


def migrations_dir() -> Path:
    """The Alembic script directory (env.py, versions/)."""
    return data_dir("alembic")


def seed_dir() -> Path:
    """The seed bundles (imported in file-name order)."""
    return data_dir("seed")


def schema_file() -> Path:
    """The committed bundle JSON Schema (read-only once installed)."""
    return data_dir("schemas") / SCHEMA_FILE
