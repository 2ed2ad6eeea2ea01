"""Who may read and who may write: bearer tokens with scopes, and the write routes.

Tokens come from a file (one ``SCOPE TOKEN`` per line, scope ``read`` or ``write``; lines
starting with ``#`` are comments), from ``DC43_DELTA_STORE_READ_TOKENS`` and
``DC43_DELTA_STORE_WRITE_TOKENS`` (comma-separated), and from dc43's ``[auth] token``
(which dc43's service accepts for every route: both scopes). A write token may read too.

- Reads are open unless a read token exists (then every request needs a token).
- Writes need a write token: a server without one is read-only — except dc43's
  configuration without an ``[auth] token`` (and no write token), whose writes are open, as
  dc43's own service is. ``--read-only`` refuses every write route with 403 whatever the
  token.

Tokens are compared in constant time (SHA-256 digests, ``hmac.compare_digest``, every
configured token tried) and never appear in a message, a repr or the access log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidRequestError

__all__ = ["READ", "WRITE", "Decision", "Guard", "Tokens", "is_write"]

READ, WRITE = "read", "write"
READ_TOKENS_VAR = "DC43_DELTA_STORE_READ_TOKENS"
WRITE_TOKENS_VAR = "DC43_DELTA_STORE_WRITE_TOKENS"
_SCOPES = {READ: frozenset({READ}), WRITE: frozenset({READ, WRITE})}
_NONE: frozenset[str] = frozenset()
_HOW = f"give write tokens in {WRITE_TOKENS_VAR} or --tokens-file to allow writes"
# POST routes that compute an answer and write nothing
_READING_POSTS = re.compile(r"^/contracts/[^/]+/(diff|check)$")


def is_write(method: str, path: str) -> bool:
    """Whether a request may change something: PUT, PATCH, DELETE, and POST except this
    server's diff and check (dc43's POST routes record links, drafts and results).

    >>> is_write("PUT", "/contracts/x/versions/1"), is_write("POST", "/contracts/x/check")
    (True, False)
    """
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    return not (method == "POST" and _READING_POSTS.match(path))


class Tokens:
    """Configured tokens, kept as SHA-256 digests with their scopes.

    >>> tokens = Tokens([("s3cret", "write")])
    >>> sorted(tokens.scopes("s3cret")), tokens.scopes("guess"), tokens
    (['read', 'write'], frozenset(), Tokens(1 write, 0 read))
    """

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._entries: list[tuple[bytes, frozenset[str]]] = []
        for token, scope in entries:
            if scope not in _SCOPES:
                raise InvalidRequestError(f"token scope must be 'read' or 'write', not {scope!r}")
            if not token:
                raise InvalidRequestError("a token cannot be empty")
            self._entries.append((_digest(token), _SCOPES[scope]))

    @classmethod
    def load(
        cls,
        file: str | os.PathLike[str] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        full_access: str | None = None,
    ) -> Tokens:
        """Tokens from ``file``, the environment, and ``full_access`` (dc43's token)."""
        env = os.environ if env is None else env
        entries: list[tuple[str, str]] = []
        if file is not None:
            entries += _read_file(Path(file))
        for variable, scope in ((READ_TOKENS_VAR, READ), (WRITE_TOKENS_VAR, WRITE)):
            entries += [(t, scope) for t in _split(env.get(variable, ""))]
        if full_access:
            entries.append((full_access, WRITE))
        return cls(entries)

    def scopes(self, presented: str | None) -> frozenset[str]:
        """The scopes of a presented token (empty when it is unknown)."""
        if presented is None:
            return _NONE
        digest = _digest(presented)
        found = _NONE
        for known, scopes in self._entries:  # no early exit: the time does not say which
            if hmac.compare_digest(digest, known):
                found = scopes
        return found

    @property
    def writers(self) -> int:
        return sum(WRITE in scopes for _, scopes in self._entries)

    @property
    def readers(self) -> int:
        return len(self._entries) - self.writers

    def __repr__(self) -> str:
        return f"Tokens({self.writers} write, {self.readers} read)"


@dataclass(frozen=True)
class Decision:
    """Whether a request may go on; if not, its status (401/403) and why."""

    allowed: bool
    status: int = 200
    detail: str = ""


@dataclass(frozen=True)
class Guard:
    """Applies :class:`Tokens` and ``read_only`` to requests (see the module doc).

    >>> guard = Guard(Tokens([("w", "write")]))
    >>> guard.decide("GET", "/contracts/x/latest", None).allowed
    True
    >>> guard.decide("PUT", "/contracts/x/versions/1", None).status
    401
    """

    tokens: Tokens
    read_only: bool = False
    reads_need_token: bool | None = None  # None: when a read-only token exists
    open_writes: bool = False  # no token at all: writes as open as dc43's own service's

    @property
    def private(self) -> bool:
        """Whether every request needs a token."""
        if self.reads_need_token is not None:
            return self.reads_need_token
        return self.tokens.readers > 0

    def decide(self, method: str, path: str, authorization: str | None) -> Decision:
        writing = is_write(method, path)
        if writing and self.read_only:
            return Decision(False, 403, "this server is read-only (--read-only): writes refused")
        if writing and not self.tokens.writers:
            if self.open_writes:
                return Decision(True)
            return Decision(False, 403, f"this server has no write token: writes refused ({_HOW})")
        if not writing and not self.private:
            return Decision(True)
        scopes = self.tokens.scopes(_bearer(authorization))
        if not scopes:
            what = "a valid bearer token" + (" with the write scope" if writing else "")
            return Decision(False, 401, f"this request needs {what}")
        if writing and WRITE not in scopes:
            return Decision(False, 403, "this token may read but not write")
        return Decision(True)

    def describe(self) -> str:
        """One line for the startup message (counts only, never a token)."""
        if self.read_only:
            return "read-only (--read-only)"
        if not self.tokens.writers:
            if self.open_writes:
                return "writes and reads open, as dc43's service without [auth] token"
            return f"read-only ({_HOW})"
        reads = "with a token" if self.private else "open"
        return f"writes with one of {self.tokens.writers} write token(s); reads {reads}"


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _read_file(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"cannot read the tokens file {path}: {exc}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        content = line.strip()
        if not content or content.startswith("#"):
            continue
        scope, _, token = content.partition(" ")
        if scope not in _SCOPES or not token.strip() or " " in token.strip():
            raise InvalidRequestError(
                f"{path} line {number}: expected 'read TOKEN' or 'write TOKEN' "
                "(the token itself is not shown)"
            )
        entries.append((token.strip(), scope))
    return entries
