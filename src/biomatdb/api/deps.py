"""Request dependencies: the session (which owns the transaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends
from sqlalchemy.orm import Session

from biomatdb.db import begin_write, get_sessionmaker


async def get_session() -> AsyncIterator[Session]:
    """One session per request: commit on success, roll back on error.

    Asynchronous on purpose: creating a session does no I/O, and ending a read
    transaction is a few microseconds, so this runs on the event loop instead of
    costing the request two trips through the thread pool. Writes commit earlier,
    in :func:`run_write`.
    """
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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
