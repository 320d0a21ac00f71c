"""The built wheel works on its own: installed outside the checkout, from an empty folder.

The wheel is built from this checkout and installed (``--no-deps``) into a fresh
venv in a temporary directory. Its dependencies come from this project's venv
through a ``.pth`` line naming that venv's site-packages: a plain path entry, so
the ``.pth`` files in there (this checkout's editable install, ``/.../src``) are
not processed, and biomatdb can only come from the wheel (checked before and
after installing). The database follows the suite: SQLite, or a fresh
PostgreSQL database when BIOMATDB_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from biomatdb import __version__
from biomatdb.bundles.jsonschema import render
from tests.conftest import DatabaseFactory

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

SEARCH = """
import sys
from pathlib import Path

import biomatdb
from biomatdb.app import create_app
from fastapi.testclient import TestClient

here = Path(biomatdb.__file__).resolve()
assert here.is_relative_to(Path(sys.prefix).resolve()), here  # the wheel's, not the checkout's
with TestClient(create_app()) as client:
    response = client.get("/api/v1/materials?prop=youngs_modulus:100..130:GPa&class=metal")
    assert response.status_code == 200, response.text
    ids = [m["id"] for m in response.json()["data"]]
    # The web page: templates and assets come from the wheel too.
    page = client.get("/?class=metal&limit=200")
    assert page.status_code == 200, page.text
    assert all(f'href="/materials/{i}"' in page.text for i in ids), page.text
    for asset in ("/assets/site.css", "/assets/site.js", "/assets/favicon.svg"):
        assert client.get(asset).status_code == 200, asset
    print(" ".join(ids))
"""

VERSIONS = (
    "import biomatdb, importlib.metadata as m; print(biomatdb.__version__, m.version('biomatdb'))"
)


class Installed:
    """A venv outside the checkout with the wheel installed."""

    def __init__(self, venv: Path, wheel: Path, work: Path) -> None:
        self.venv = venv
        self.wheel = wheel
        self.work = work  # an empty folder to run in

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def attempt(
        self, *args: str | Path, database_url: str | None = None, data_home: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BIOMATDB_"))}
        if database_url is not None:
            env["BIOMATDB_DATABASE_URL"] = database_url
        if data_home is not None:
            env["XDG_DATA_HOME"] = str(data_home)
        return subprocess.run(
            [str(a) for a in args],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def run(self, *args: str | Path, database_url: str | None = None) -> str:
        result = self.attempt(*args, database_url=database_url)
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
        return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT)
    dist = base / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist)]
    try:
        import hatchling  # noqa: F401  (the dev extra has it: build offline)

        build.append("--no-build-isolation")
    except ImportError:  # pip fetches the build backend
        pass
    built = subprocess.run([*build, str(ROOT)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("biomatdb-*.whl")

    venv = base / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    work = base / "empty"
    work.mkdir()
    target = Installed(venv, wheel, work)
    site = Path(
        target.run(
            target.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"
        ).strip()
    )
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_project_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    probe = "import importlib.util as u, alembic, fastapi; print(u.find_spec('biomatdb'))"
    assert target.run(target.python, "-c", probe).strip() == "None", "biomatdb leaks in"

    # Run by this venv's pip on the new venv's interpreter; --ignore-installed so pip
    # never looks at (let alone touches) the project venv seen through the .pth.
    target.run(
        sys.executable, "-m", "pip", "--python", target.python, "install", "--quiet",
        "--no-deps", "--no-index", "--ignore-installed", wheel,
    )  # fmt: skip
    return target


def test_the_wheel_carries_the_runtime_files(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for source in ("alembic", "seed", "schemas"):
        shipped = {
            f"biomatdb/_data/{p.relative_to(ROOT).as_posix()}"
            for p in (ROOT / source).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        assert shipped, source
        assert shipped <= names, shipped - names
    assert f"biomatdb-{__version__}.dist-info/licenses/LICENSE" in names
    assert "biomatdb/__main__.py" in names
    # PostgreSQL's driver only with the extra: SQLite users install nothing they skip.
    metadata = zipfile.ZipFile(installed.wheel).read(f"biomatdb-{__version__}.dist-info/METADATA")
    psycopg = [
        line for line in metadata.decode().splitlines() if line.startswith("Requires-Dist: psycopg")
    ]
    assert "Requires-Dist: psycopg[binary]>=3.1; extra == 'postgresql'" in psycopg
    assert all("; extra == " in line for line in psycopg), psycopg  # never required
    # the documentation pages' assets (served at /static, no CDN) and their licences
    static = {
        f"biomatdb/{p.relative_to(ROOT / 'src' / 'biomatdb').as_posix()}"
        for p in (ROOT / "src" / "biomatdb" / "static").rglob("*")
        if p.is_file()
    }
    assert "biomatdb/static/swagger-ui/swagger-ui-bundle.js" in static
    assert "biomatdb/static/redoc/redoc.standalone.js" in static
    assert static <= names, static - names
    # the web page's templates and assets
    web = {
        f"biomatdb/{p.relative_to(ROOT / 'src' / 'biomatdb').as_posix()}"
        for folder in ("templates", "assets")
        for p in (ROOT / "src" / "biomatdb" / "web" / folder).rglob("*")
        if p.is_file()
    }
    assert "biomatdb/web/templates/base.html" in web
    assert "biomatdb/web/assets/site.css" in web
    assert web <= names, web - names
    assert not any("__pycache__" in n for n in names)


def test_installed_commands_run_from_an_empty_folder(
    installed: Installed, databases: DatabaseFactory
) -> None:
    url = databases.new_url()
    biomatdb = installed.venv / "bin" / "biomatdb"
    assert "database at revision head" in installed.run(biomatdb, "db", "upgrade", database_url=url)
    seeded = installed.run(biomatdb, "seed", database_url=url)
    assert "171 material(s) were created" in seeded
    found = installed.run(installed.python, "-c", SEARCH, database_url=url)
    assert found.split() == [
        "cp-titanium-grade-1",
        "cp-titanium-grade-3",
        "niobium",
        "zinc-pure",
        "ti-6al-4v-eli",
        "ti-6al-4v",
    ]
    # Installed, `schema` prints (there is no source tree to write into), or writes --out.
    assert installed.run(biomatdb, "schema") == render()
    assert "Usage: python -m biomatdb" in installed.run(
        installed.python, "-m", "biomatdb", "--help"
    )
    assert installed.run(installed.python, "-c", VERSIONS).split() == [__version__] * 2
    assert installed.run(biomatdb, "--version") == f"biomatdb {__version__}\n"
    assert list(installed.work.iterdir()) == []
    out = installed.work.parent / "bundle.schema.json"
    installed.run(biomatdb, "schema", "--out", out)
    assert json.loads(out.read_text(encoding="utf-8"))["$defs"]["MaterialIn"]


def test_the_default_database_is_made_by_db_upgrade_in_the_users_data_folder(
    installed: Installed, tmp_path: Path
) -> None:
    """Without BIOMATDB_DATABASE_URL, from an empty folder: nothing is created until
    ``db upgrade`` makes the file in the user's data folder; then every command finds
    it, whatever folder it runs from."""
    biomatdb = installed.venv / "bin" / "biomatdb"
    data = tmp_path / "data"
    refused = installed.attempt(biomatdb, "seed", data_home=data)
    path = data / "biomatdb" / "biomatdb.sqlite3"
    assert refused.returncode == 2
    assert refused.stderr == (
        f"error: there is no database at {path}; run: biomatdb db upgrade (it creates it)\n"
    )
    assert not data.exists()
    upgraded = installed.attempt(biomatdb, "db", "upgrade", data_home=data)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.endswith(f": sqlite:///{path}\n")
    assert installed.attempt(biomatdb, "keys", "list", data_home=data).returncode == 0
    assert list(installed.work.iterdir()) == []
