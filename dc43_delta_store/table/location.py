"""Where the table lives: a local path, an object-store URI, or a ``catalog.schema.table`` name.

With no catalog configured, a table name maps to a folder under the warehouse:
``governance.meta.contracts`` -> ``<warehouse>/governance/meta/contracts``. The warehouse is
the ``warehouse`` argument, else ``$DC43_DELTA_STORE_WAREHOUSE``, else ``./spark-warehouse``
(as Spark does); it may itself be a URI such as ``s3://bucket/warehouse``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidLocationError, InvalidRequestError
from .catalog import VendedCredentials

__all__ = [
    "WAREHOUSE_ENV",
    "TableLocation",
    "checked_options",
    "describe",
    "resolve_location",
    "secret_values",
]

WAREHOUSE_ENV = "DC43_DELTA_STORE_WAREHOUSE"
DEFAULT_WAREHOUSE = "spark-warehouse"
_NAME_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*", re.ASCII)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SECRET_NAME = re.compile(r"key|secret|token|password|sas|credential|session", re.IGNORECASE)
_SCHEMES = ("s3", "s3a", "az", "azure", "abfs", "abfss", "adl", "gs", "gcs", "file")


@dataclass(frozen=True)
class TableLocation:
    """A resolved table: ``uri``, and the storage options deltalake and polars get.

    For a Unity Catalog table, ``credentials`` vends short-lived credentials that are merged
    into :meth:`options` and renewed before they expire.
    """

    uri: str
    storage_options: Mapping[str, str] = field(default_factory=dict, repr=False)
    name: str | None = None
    credentials: VendedCredentials | None = field(default=None, repr=False, compare=False)

    def options(self) -> dict[str, str]:
        """The storage options to use now: the given ones and valid vended credentials."""
        options = dict(self.storage_options)
        if self.credentials is not None:
            options.update(self.credentials.current())
        return options

    @property
    def credentials_generation(self) -> int:
        """Changes each time vended credentials are renewed (0 without a catalog)."""
        if self.credentials is None:
            return 0
        self.credentials.current()
        return self.credentials.generation

    def redact(self, text: str) -> str:
        """``text`` without any secret storage option or vended credential."""
        secrets = secret_values(self.storage_options)
        if self.credentials is not None:
            secrets += self.credentials.secrets()
        for value in sorted(secrets, key=len, reverse=True):
            if len(value) >= 4:
                text = text.replace(value, "***")
        return text

    @property
    def local_path(self) -> Path | None:
        """The folder on this machine, or None for object stores."""
        return None if "://" in self.uri else Path(self.uri)

    def __str__(self) -> str:
        return f"{self.name} ({self.uri})" if self.name else self.uri

    def __repr__(self) -> str:
        keys = ", ".join(sorted(self.storage_options))
        return f"TableLocation(uri={self.uri!r}, name={self.name!r}, storage_options=[{keys}])"


def resolve_location(
    *,
    table: str | None = None,
    path: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, str] | None = None,
    warehouse: str | os.PathLike[str] | None = None,
) -> TableLocation:
    """Resolve exactly one of ``table`` (a name) or ``path`` (a path or URI).

    >>> resolve_location(table="gov.meta.contracts", warehouse="/srv/wh").uri
    '/srv/wh/gov/meta/contracts'
    """
    options = checked_options(storage_options)
    if (table is None) == (path is None):
        raise InvalidLocationError("give exactly one of table= (a name) or path= (a path or URI)")
    for name, value, kinds in (
        ("table", table, (str,)),
        ("path", path, (str, os.PathLike)),
        ("warehouse", warehouse, (str, os.PathLike)),
    ):
        if value is not None and not isinstance(value, kinds):
            raise InvalidLocationError(
                f"{name} must be {'text' if name == 'table' else 'a path or URI'}, not "
                f"{type(value).__name__}"
            )
    if path is not None:
        return TableLocation(_normalise(os.fspath(path), "path"), options)
    assert table is not None
    parts = _split_name(table)
    root = os.fspath(warehouse) if warehouse is not None else os.environ.get(WAREHOUSE_ENV)
    base = _normalise(root or DEFAULT_WAREHOUSE, "warehouse")
    if "://" in base:
        return TableLocation(base.rstrip("/") + "/" + "/".join(parts), options, table)
    resolved = Path(base, *parts).resolve()
    if not resolved.is_relative_to(Path(base).resolve()):
        raise InvalidLocationError(f"table name {table!r} escapes the warehouse {base}")
    return TableLocation(str(Path(base, *parts)), options, table)


def checked_options(storage_options: Mapping[str, str] | None) -> dict[str, str]:
    """``storage_options`` as a dict of text to text, or :class:`InvalidRequestError`."""
    if storage_options is None:
        return {}
    if not isinstance(storage_options, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in storage_options.items()
    ):
        raise InvalidRequestError(
            "storage_options must map option names to text values, as deltalake takes them"
        )
    return dict(storage_options)


def _split_name(table: str) -> list[str]:
    parts = table.split(".")
    if not 1 <= len(parts) <= 3 or not all(_NAME_PART.fullmatch(part) for part in parts):
        raise InvalidLocationError(
            f"table name {table!r} is not [catalog.][schema.]table with parts made of "
            "letters, digits, '_' and '-'; give a path= for anything else"
        )
    return parts


def _normalise(location: str, what: str) -> str:
    if not location.strip():
        raise InvalidLocationError(f"the {what} is empty")
    if "\x00" in location:
        raise InvalidLocationError(f"the {what} {location!r} contains a NUL character")
    if any("\ud800" <= character <= "\udfff" for character in location):
        raise InvalidLocationError(  # a file name in another encoding, as Python decodes it
            f"the {what} {location!r} is not valid UTF-8, which Delta tables need"
        )
    if "://" in location:
        scheme = location.split("://", 1)[0].lower()
        if scheme not in _SCHEMES:
            raise InvalidLocationError(
                f"unsupported {what} scheme {scheme!r}; use a local path or one of "
                + ", ".join(f"{s}://" for s in _SCHEMES)
            )
        if scheme == "file":
            return str(Path(location[len("file://") :]).absolute())
        return location.rstrip("/")
    return str(Path(location).expanduser().absolute())


def secret_values(storage_options: Mapping[str, str]) -> list[str]:
    """Values of options whose name says secret (key, secret, token, password, sas, credential)."""
    return [
        value
        for name, value in storage_options.items()
        if _SECRET_NAME.search(name) and isinstance(value, str)
    ]


def describe(exc: BaseException, location: TableLocation, limit: int = 600) -> str:
    """One line for an engine error: its cause chain without colours, secrets redacted."""
    lines = (_ANSI.sub("", line).replace("\u21b3", "").strip() for line in str(exc).splitlines())
    text = location.redact(" -> ".join(line for line in lines if line) or type(exc).__name__)
    return text if len(text) <= limit else text[: limit - 3] + "..."
