"""One table row per contract version: identity, lifted metadata, payload and fingerprint."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidContractError
from .canonical import canonical_json, fingerprint
from .versions import is_prerelease, version_sort_key

__all__ = ["MAX_IDENTITY_LENGTH", "ContractRow", "build_row", "check_identity", "contract_key"]

MAX_IDENTITY_LENGTH = 1000
_CONTROL = re.compile("[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ContractRow:
    """The columns this package derives from a document (``created_at`` is set at write)."""

    contract_id: str
    contract_key: str
    version: str
    name: str
    description: str | None
    json: str
    fingerprint: str
    status: str | None
    api_version: str | None
    domain: str | None
    data_product: str | None
    version_sort_key: str
    prerelease: bool

    @property
    def label(self) -> str:
        return f"contract {self.contract_id!r} version {self.version!r}"


def contract_key(contract_id: str) -> str:
    """The first 16 hex digits of SHA-256(contract_id): exact file statistics for any id.

    Delta truncates long strings in file statistics, so long ids sharing a prefix defeat
    file skipping, and ``optimize`` clusters files by this key (a Z-order on a string reads
    only its first bytes). In SQL: ``substring(sha2(contract_id, 256), 1, 16)``.

    >>> contract_key("sales.orders")
    '9070a83f92d8f415'
    """
    return hashlib.sha256(contract_id.encode("utf-8")).hexdigest()[:16]


def check_identity(
    value: object, field: str, *, context: str = "", label: str | None = None
) -> str:
    """Return ``value`` if it is a usable contract id or version, else raise naming ``field``.

    ``context`` prefixes the message (e.g. ``"contract 'sales.orders': "``).
    """
    field = context + field
    if value is None:
        raise InvalidContractError(f"{field} is missing", source=label)
    if not isinstance(value, str):
        raise InvalidContractError(
            f"{field} must be a string, got {type(value).__name__} {value!r}", source=label
        )
    if not value.strip():
        raise InvalidContractError(f"{field} is empty", source=label)
    if value != value.strip():
        raise InvalidContractError(
            f"{field} {value!r} has leading or trailing whitespace", source=label
        )
    if _CONTROL.search(value):
        raise InvalidContractError(f"{field} {value!r} contains control characters", source=label)
    if len(value) > MAX_IDENTITY_LENGTH:
        raise InvalidContractError(
            f"{field} is {len(value)} characters long, above {MAX_IDENTITY_LENGTH}", source=label
        )
    return value


def build_row(document: dict[str, Any], *, label: str | None = None) -> ContractRow:
    """Derive the row of ``document`` (a JSON tree from :func:`~.documents.load_document`)."""
    id_field = "id" if document.get("id") is not None else "uuid"
    if document.get(id_field) is None:
        raise InvalidContractError("contract has no id (ODCS v3 'id', v2 'uuid')", source=label)
    contract_id = check_identity(document[id_field], id_field, label=label)
    version = check_identity(
        document.get("version"), "version", context=f"contract {contract_id!r}: ", label=label
    )
    where = f"contract {contract_id!r} version {version!r}"
    name = _optional_text(document, "name", where, label)
    return ContractRow(
        contract_id=contract_id,
        contract_key=contract_key(contract_id),
        version=version,
        name=name or contract_id,
        description=_description(document.get("description"), where, label),
        json=canonical_json(document),
        fingerprint=fingerprint(document),
        status=_optional_text(document, "status", where, label),
        api_version=_optional_text(document, "apiVersion", where, label),
        domain=_text_or_none(document.get("domain")),
        data_product=_text_or_none(document.get("dataProduct")),
        version_sort_key=version_sort_key(version),
        prerelease=is_prerelease(version),
    )


def _optional_text(
    document: Mapping[str, Any], field: str, where: str, label: str | None
) -> str | None:
    value = document.get(field)
    if value is None or isinstance(value, str):
        return value
    raise InvalidContractError(
        f"{where}: {field} must be a string, got {type(value).__name__} {value!r}", source=label
    )


def _text_or_none(value: Any) -> str | None:
    """Fields lifted for SQL only: kept when they are text, else left to the payload."""
    return value if isinstance(value, str) else None


def _description(value: Any, where: str, label: str | None) -> str | None:
    """``description.usage`` as dc43 stores it; a plain-string description is kept as is."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _optional_text(value, "usage", f"{where}: description", label)
    raise InvalidContractError(
        f"{where}: description must be an object, got {type(value).__name__}", source=label
    )
