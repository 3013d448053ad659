"""Errors raised by claimtrack.

Every error the CLI can show is a ``ClaimtrackError``; its ``str()`` is one line that says what
went wrong and, where there is one, what to do about it. The CLI prints it on stderr and exits 1.

    ClaimtrackError
    ├── CorpusFileError      a shipped/edited corpus file is malformed (file, line, what)
    ├── StoreError           the SQLite store is missing, corrupt or locked
    │   ├── StoreBusyError   another process holds its write lock past the busy timeout
    │   └── StoreNewerError  it was written by a newer claimtrack
    ├── NotFoundError        an unknown claim / paper / inquiry id (names the closest ids)
    ├── ResultFileError      a replication result file is incomplete or invalid
    └── InputError           a bad argument (date, id, option value)
"""

from __future__ import annotations


class ClaimtrackError(Exception):
    """Base class: a one-line, user-facing message."""


class CorpusFileError(ClaimtrackError):
    """A corpus file is malformed. The message names the file, the line and the problem."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path, self.line, self.detail = path, line, message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # pickle-safe (errors cross process boundaries in the job runner)
        return (type(self), (self.path, self.line, self.detail))


class StoreError(ClaimtrackError):
    """The store cannot be opened or used as it is."""


class StoreBusyError(StoreError):
    """Another process holds the store's write lock (after the busy timeout): nothing is wrong
    with the file, so it must never be treated as unreadable (issue 22)."""


class StoreNewerError(StoreError):
    """The store was written by a newer claimtrack; this version neither writes nor replaces it."""


class NotFoundError(ClaimtrackError):
    """An id that is not in the store."""


class ResultFileError(ClaimtrackError):
    """A replication result file that cannot be imported."""


class InputError(ClaimtrackError):
    """A malformed user input (a date, an id, an option)."""
