"""A real PostgreSQL primary and streaming hot standby on loopback, for tests.

``replica_pair`` (session-scoped) makes two throwaway clusters with Debian's
postgresql-common tools: ``pg_createcluster`` a primary on a free port (from
5441 up) and start it; ``pg_createcluster`` a second cluster, empty its data
directory, ``pg_basebackup -R -X stream`` the primary into it and start it as a
hot standby. Both are stopped and dropped at the end of the session, also when
the setup fails half-way. A test file uses it with::

    pytest_plugins = ["tests.replica"]

    def test_x(replica_pair: ReplicaPair) -> None: ...

The clusters are named ``bmdbrepl_<pid>_<process start time>_{primary,standby}``:
before making its own, a run drops every cluster of that prefix whose process is
gone (a run killed with SIGKILL or SIGTERM cannot clean up after itself), and
never touches any other cluster. The tests skip, saying what is missing, where
postgresql-common, the server binaries or the rights to create clusters are not
there.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

PREFIX = "bmdbrepl_"
NAME_RE = re.compile(rf"^{PREFIX}(\d+)_(\d+)_(primary|standby)$")
DATABASE = "biomatdb_replica_test"
FIRST_PORT = 5441
CONF_ROOT = Path("/etc/postgresql")
DATA_ROOT = Path("/var/lib/postgresql")
LIB_ROOT = Path("/usr/lib/postgresql")
LOCK_FILE = Path("/tmp/biomatdb-replica-clusters.lock")
TOOLS = ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "pg_lsclusters")
COMMAND_TIMEOUT = 60.0

# Small and quick: a throwaway pair on a 2-core machine. The standby gets the same
# settings, so its max_connections & co. are never below the primary's (a standby
# refuses to start otherwise).
SERVER_OPTIONS = """\

# biomatdb test cluster (tests/replica.py): these last lines override the above
listen_addresses = '127.0.0.1'
shared_buffers = 16MB
max_connections = 20
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
autovacuum = off
ssl = off
"""
HBA = """\
# biomatdb test cluster (tests/replica.py): trust on loopback only
local   all             all                     trust
host    all             all     127.0.0.1/32    trust
local   replication     all                     trust
host    replication     all     127.0.0.1/32    trust
"""


class ReplicaSetupError(RuntimeError):
    """A step of making the pair failed (the message holds the tool's output)."""


@dataclass
class ReplicaPair:
    """The running pair: SQLAlchemy URLs (``postgresql://``, no driver named) of the
    same database on the primary and on the standby."""

    version: str
    primary_name: str
    standby_name: str
    primary_port: int
    replica_port: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def primary_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/{DATABASE}"

    @property
    def replica_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.replica_port}/{DATABASE}"

    def wait_for_replay(self, timeout: float = 10.0) -> None:
        """Wait until the standby has replayed all the WAL the primary has written so
        far (``pg_current_wal_lsn()`` now, on the primary)."""
        with _connect(self.primary_port) as primary:
            target = _scalar(primary, "SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + timeout
        with _connect(self.replica_port) as standby:
            while True:
                replayed = _scalar(standby, "SELECT pg_last_wal_replay_lsn()::text")
                caught_up = _scalar(
                    standby,
                    "SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)",
                    (target,),
                )
                if caught_up:
                    return
                if time.monotonic() >= deadline:
                    receiver = standby.execute(
                        "SELECT status, flushed_lsn::text, last_msg_receipt_time::text"
                        " FROM pg_stat_wal_receiver"
                    ).fetchone()
                    raise TimeoutError(
                        f"the standby (port {self.replica_port}) has not replayed the"
                        f" primary's WAL up to {target} within {timeout:g} s: it is at"
                        f" {replayed}; WAL receiver (status, flushed, last message):"
                        f" {receiver or 'none, not connected to the primary'}"
                    )
                time.sleep(0.02)


# -- tools ------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    """Ours, without the libpq variables (PGHOST, PGPORT, ...) that would redirect a tool."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


def _spawn(args: Sequence[str], *, as_owner: bool = False) -> subprocess.Popen[str]:
    """Start a tool (as the clusters' owner, postgres, when ``as_owner`` and we are root)
    in a process group of its own, which ``_finish`` kills whole if it has to."""
    command = list(args)
    if as_owner and os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.Popen(
        command,
        cwd="/",
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _finish(process: subprocess.Popen[str], *, check: bool = True) -> str:
    """Wait for a tool; on a time-out or an interrupt of the run (Ctrl-C) kill it and its
    children (pg_createcluster's initdb, runuser's pg_basebackup) before going on, so the
    clean-up never races a tool still writing."""
    args = process.args
    command = " ".join(map(str, args)) if isinstance(args, list) else str(args)
    try:
        stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT)
    except BaseException as error:
        _kill(process)
        if isinstance(error, subprocess.TimeoutExpired):
            raise ReplicaSetupError(f"{command} took over {COMMAND_TIMEOUT:g} s") from error
        raise
    if check and process.returncode != 0:
        raise ReplicaSetupError(f"{command} failed (exit {process.returncode}):\n{stdout}{stderr}")
    return stdout


def _kill(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _run(args: Sequence[str], *, as_owner: bool = False, check: bool = True) -> str:
    return _finish(_spawn(args, as_owner=as_owner), check=check)


def _connect(port: int, dbname: str = DATABASE) -> psycopg.Connection[tuple[Any, ...]]:
    import psycopg  # not at the top: without it the tests skip, saying so

    return psycopg.connect(
        host="127.0.0.1",
        port=port,
        user="postgres",
        dbname=dbname,
        autocommit=True,
        connect_timeout=5,
    )


def _scalar(
    connection: psycopg.Connection[tuple[Any, ...]], sql: str, params: Sequence[Any] = ()
) -> Any:
    row = connection.execute(sql, params).fetchone()
    return None if row is None else row[0]


def _server_version() -> str | None:
    """The newest installed PostgreSQL major version with a server and pg_basebackup."""
    found = []
    if LIB_ROOT.is_dir():
        for entry in LIB_ROOT.iterdir():
            bindir = entry / "bin"
            if entry.name.isdigit() and all(
                (bindir / tool).is_file() for tool in ("postgres", "initdb", "pg_basebackup")
            ):
                found.append(int(entry.name))
    return str(max(found)) if found else None


def missing_requirement() -> str | None:
    """Why the pair cannot be made here, or None."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found (Debian's postgresql-common)"
    version = _server_version()
    if version is None:
        return f"no PostgreSQL server with pg_basebackup under {LIB_ROOT}/<version>/bin"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'biomatdb[postgresql]')"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "runuser not found (to run pg_basebackup as the postgres user)"
        return None
    # Not root: clusters are then owned by us and need these folders to be writable.
    for folder in (CONF_ROOT / version, DATA_ROOT / version):
        place = folder if folder.exists() else folder.parent
        if not os.access(place, os.W_OK):
            return f"no permission to create clusters ({place} is not writable; run as root)"
    return None


# -- names, ports, leftovers ---------------------------------------------------------


def _start_time(pid: int) -> str | None:
    """The start time of a process (clock ticks after boot), None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _owner_token() -> str:
    pid = os.getpid()
    return f"{pid}_{_start_time(pid) or 0}"


def _is_stale(name: str) -> bool:
    """Whether a cluster of ours belongs to a process that is gone (pid and start time)."""
    match = NAME_RE.match(name)
    if match is None:
        return False
    return _start_time(int(match.group(1))) != match.group(2)


def _remove_leftovers(version: str) -> None:
    """Drop the clusters of earlier runs that were killed before their clean-up."""
    config_dir = CONF_ROOT / version
    names = sorted(p.name for p in config_dir.iterdir()) if config_dir.is_dir() else []
    for name in names:
        if _is_stale(name):
            log.warning("dropping cluster %s/%s left by an earlier, aborted run", version, name)
            error = _drop(version, name)
            if error is not None:
                log.warning("could not drop %s/%s: %s", version, name, error)
    # a run killed inside pg_createcluster may leave a data directory and no config
    data_dir = DATA_ROOT / version
    if data_dir.is_dir():
        for path in data_dir.iterdir():
            if _is_stale(path.name) and not (config_dir / path.name).exists():
                log.warning("removing %s left by an earlier, aborted run", path)
                shutil.rmtree(path, ignore_errors=True)


def _used_ports() -> set[int]:
    """The ports of every cluster postgresql-common knows, running or not."""
    import json

    try:
        clusters = json.loads(_run(["pg_lsclusters", "--json"]))
    except (ReplicaSetupError, ValueError):
        return set()
    return {int(c["port"]) for c in clusters if str(c.get("port", "")).isdigit()}


def _port_is_free(port: int) -> bool:
    if Path(f"/var/run/postgresql/.s.PGSQL.{port}").exists():
        return False
    with socket.socket() as sock:
        # as the server binds: a port whose old connections linger in TIME_WAIT is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    used = _used_ports()
    ports: list[int] = []
    port = FIRST_PORT
    while len(ports) < count and port < 65535:
        if port not in used and _port_is_free(port):
            ports.append(port)
        port += 1
    if len(ports) < count:
        raise ReplicaSetupError(f"no {count} free ports from {FIRST_PORT} up")
    return ports


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Serializes choosing ports and creating clusters between concurrent runs."""
    with open(LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- clusters -------------------------------------------------------------------------


def _create_commands(version: str, names_ports: Sequence[tuple[str, int]]) -> None:
    """pg_createcluster the clusters side by side (each one's initdb takes ~1 s)."""
    processes = [
        _spawn(
            [
                "pg_createcluster",
                "--quiet",
                "--no-status",
                "--start-conf=manual",
                "--locale=C.UTF-8",
                "-p",
                str(port),
                "-d",  # where _drop and the basebackup look, whatever createcluster.conf says
                str(DATA_ROOT / version / name),
                version,
                name,
                "--",
                "--auth=trust",
                "--no-sync",
            ]
        )
        for name, port in names_ports
    ]
    failures = []
    try:
        for process in processes:
            try:
                _finish(process)
            except ReplicaSetupError as error:
                failures.append(str(error))
    except BaseException:
        for process in processes:  # interrupted: stop the other one too
            if process.poll() is None:
                _kill(process)
        raise
    if failures:
        raise ReplicaSetupError("\n".join(failures))
    for name, _port in names_ports:
        config = CONF_ROOT / version / name
        with open(config / "postgresql.conf", "a") as conf:
            conf.write(SERVER_OPTIONS)
        (config / "pg_hba.conf").write_text(HBA)


def _start(version: str, name: str) -> None:
    """What ``pg_ctlcluster start`` does, minus its stability probe (three psql
    connections half a second apart, 2 s a start): pg_ctl -w with Debian's config."""
    socket_dir = Path("/var/run/postgresql")  # the clusters' unix_socket_directories
    if not socket_dir.is_dir() and os.geteuid() == 0:
        socket_dir.mkdir(mode=0o2775, parents=True)
        shutil.chown(socket_dir, "postgres", "postgres")
    pg_ctl = str(LIB_ROOT / version / "bin" / "pg_ctl")
    config = CONF_ROOT / version / name / "postgresql.conf"
    logfile = f"/var/log/postgresql/postgresql-{version}-{name}.log"
    _run(
        [
            pg_ctl,
            "start",
            "--wait",
            "--timeout=30",
            "--silent",
            "-D",
            str(DATA_ROOT / version / name),
            "-l",
            logfile,
            "-o",
            f'-c config_file="{config}"',
        ],
        as_owner=True,
    )


def _drop(version: str, name: str) -> str | None:
    """Stop (immediately: the data is thrown away) and drop a cluster; the error, if any."""
    with contextlib.suppress(ReplicaSetupError):  # not running, or stop timed out
        _run(
            [
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                version,
                name,
                "stop",
                "-m",
                "immediate",
            ],
            check=False,
        )
    try:
        _run(["pg_dropcluster", "--stop", version, name])
    except ReplicaSetupError as error:
        if (CONF_ROOT / version / name).exists():
            return str(error)
    # a pg_createcluster stopped half-way leaves a data directory and no config
    shutil.rmtree(DATA_ROOT / version / name, ignore_errors=True)
    return None


def _wait_for(what: str, check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception as error:  # the server may not be up yet
            last = repr(error)
        else:
            last = "not yet"
        if time.monotonic() >= deadline:
            raise ReplicaSetupError(f"{what}: not within {timeout:g} s ({last})")
        time.sleep(0.05)


def _make_pair(pair: ReplicaPair, created: list[str]) -> None:
    version = pair.version
    mark = time.monotonic()

    def lap(step: str) -> None:
        nonlocal mark
        now = time.monotonic()
        pair.timings[step] = now - mark
        mark = now

    with _lock():
        lap("wait for lock")  # another run creating its clusters
        _remove_leftovers(version)
        lap("drop leftovers")
        pair.primary_port, pair.replica_port = _free_ports(2)
        created += [pair.primary_name, pair.standby_name]
        _create_commands(
            version,
            [(pair.primary_name, pair.primary_port), (pair.standby_name, pair.replica_port)],
        )
    lap("create clusters")

    _start(version, pair.primary_name)
    with _connect(pair.primary_port, "postgres") as admin:
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    lap("start primary")

    standby_data = DATA_ROOT / version / pair.standby_name
    for path in standby_data.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    _run(
        [
            str(LIB_ROOT / version / "bin" / "pg_basebackup"),
            "-D",
            str(standby_data),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "--no-sync",
            "-h",
            "127.0.0.1",
            "-p",
            str(pair.primary_port),
            "-U",
            "postgres",
        ],
        as_owner=True,
    )
    lap("pg_basebackup")

    _start(version, pair.standby_name)
    with _connect(pair.replica_port) as standby:
        if _scalar(standby, "SELECT pg_is_in_recovery()") is not True:
            raise ReplicaSetupError(f"{pair.standby_name} is not in recovery: not a standby")

        def streaming() -> bool:
            status = _scalar(standby, "SELECT status FROM pg_stat_wal_receiver")
            return bool(status == "streaming")

        _wait_for(f"{pair.standby_name} streaming from the primary", streaming, 10.0)
    pair.wait_for_replay()
    lap("start standby")


@pytest.fixture(scope="session")
def replica_pair() -> Iterator[ReplicaPair]:
    """A running primary and its streaming hot standby on loopback (dropped afterwards)."""
    reason = missing_requirement()
    if reason is not None:
        pytest.skip(f"no primary + standby pair: {reason}")
    version = _server_version()
    assert version is not None
    token = _owner_token()
    pair = ReplicaPair(
        version=version,
        primary_name=f"{PREFIX}{token}_primary",
        standby_name=f"{PREFIX}{token}_standby",
        primary_port=0,
        replica_port=0,
    )
    created: list[str] = []
    started = time.monotonic()
    failed = True
    try:
        _make_pair(pair, created)
        pair.timings["total setup"] = time.monotonic() - started
        log.info(
            "replica pair %s/%s (port %d) -> %s (port %d) ready: %s",
            version,
            pair.primary_name,
            pair.primary_port,
            pair.standby_name,
            pair.replica_port,
            ", ".join(f"{step} {seconds:.2f} s" for step, seconds in pair.timings.items()),
        )
        failed = False
        yield pair
    finally:
        teardown_start = time.monotonic()
        # the standby first, so it does not keep trying to reach a stopped primary
        errors = [e for name in reversed(created) if (e := _drop(version, name)) is not None]
        pair.timings["teardown"] = time.monotonic() - teardown_start
        log.info("replica pair dropped in %.2f s", pair.timings["teardown"])
        if errors:
            message = "could not drop the replica test clusters:\n" + "\n".join(errors)
            if failed:
                log.error(message)  # the setup's own error is the one to show
            else:
                raise ReplicaSetupError(message)
