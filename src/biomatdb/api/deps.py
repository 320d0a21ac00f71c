"""Request dependencies: the session (which owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from biomatdb.db import begin_write, get_sessionmaker


def get_session() -> Iterator[Session]:
    """One session per request: commit on success, roll back on error."""
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


def get_write_session(session: SessionDep) -> Session:
    """The request's session, holding the write lock from its first statement."""
    begin_write(session)
    return session


WriteSessionDep = Annotated[Session, Depends(get_write_session)]
