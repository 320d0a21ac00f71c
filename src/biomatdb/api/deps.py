"""Request dependencies: the session (which owns the transaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from biomatdb.db import begin_write, get_sessionmaker, session_scope, start_budget
from biomatdb.errors import WriteBusy
from biomatdb.settings import get_settings

#: Writes of one process that may hold a worker thread at once. Writers are
#: serialised by the database's write lock anyway; the others wait here, on the
#: event loop, so that a burst of writes cannot take every thread from readers.
WRITE_SLOTS = 2


def session_dependency(
    factory: Callable[[], sessionmaker[Session]],
) -> Callable[[], AsyncIterator[Session]]:
    """A request dependency: one session per request from ``factory()``, committed on
    success, rolled back on error, after starting the request's database budget.

    Asynchronous on purpose: creating a session does no I/O, and ending a read
    transaction is a few microseconds, so this runs on the event loop instead of
    costing the request two trips through the thread pool. Writes commit earlier,
    in :func:`run_write`.
    """

    async def session_per_request() -> AsyncIterator[Session]:
        # The request's database time starts now: every statement it runs, in any
        # worker thread, must end within BIOMATDB_QUERY_TIMEOUT_SECONDS of this.
        start_budget(get_settings().query_timeout_seconds)
        with session_scope(factory()) as session:
            yield session

    return session_per_request


#: Requests that must see the primary: writes, and reads whose answer depends on what
#: the caller may just have written (a key holder reads their own writes) or on the
#: current version (conditional requests check ETags against the primary).
_PRIMARY_HEADERS = ("authorization", "if-none-match", "if-match", "cookie")


def reads_from_replica(request: Request) -> bool:
    """Whether this request may be served by the read replica (when one is set):
    an anonymous, unconditional GET or HEAD."""
    if request.method not in ("GET", "HEAD"):
        return False
    headers = request.headers
    return not any(name in headers for name in _PRIMARY_HEADERS)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: on the read replica (``BIOMATDB_DATABASE_READ_URL``) for
    anonymous unconditional reads, else on the primary."""
    settings = get_settings()
    replica = bool(settings.database_read_url) and reads_from_replica(request)
    start_budget(settings.query_timeout_seconds)  # as session_dependency does
    with session_scope(get_sessionmaker(bounded=True, replica=replica)) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
T = TypeVar("T")


def run_write(session: Session, work: Callable[[], T]) -> T:
    """Run one write as its own transaction, all in the calling (worker) thread.

    The read transaction the request may have opened (the API key lookup) is
    ended first, so that the write lock is the new transaction's first statement
    (``BEGIN IMMEDIATE`` on SQLite; a PostgreSQL advisory lock). The commit
    happens here, before the response is built: a client that holds a 2xx can
    read its own write, and a failed commit is an error answer, not a success.
    Doing all of it in one thread means a writer waiting for the lock never
    needs a second thread to finish, so writers cannot starve the thread pool.
    """
    session.commit()
    begin_write(session)
    try:
        result = work()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


async def in_write_slot(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run ``work(*args)`` (which calls :func:`run_write`) in a worker thread, once one
    of the process's write slots is free; 503 with Retry-After when none frees up
    within the lock timeout."""
    state = request.app.state
    gate: anyio.Semaphore | None = getattr(state, "write_gate", None)
    if gate is None:
        gate = state.write_gate = anyio.Semaphore(WRITE_SLOTS)
    timeout = get_settings().lock_timeout_seconds
    with anyio.move_on_after(timeout or None) as waiting:
        await gate.acquire()
    if waiting.cancelled_caught:
        raise WriteBusy(timeout)
    try:
        return await run_in_threadpool(work, *args)
    finally:
        gate.release()
