"""One table row per contract version: identity, lifted metadata, payload and fingerprint."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidContractError
from .canonical import payload_and_fingerprint
from .versions import is_prerelease, version_sort_key

__all__ = [
    "MAX_IDENTITY_LENGTH",
    "ContractRow",
    "build_row",
    "check_identity",
    "contract_key",
    "document_fields",
]

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


# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties): characters that render as
# nothing, beyond the format characters (Cf) the category check finds.
_INVISIBLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # fmt: skip
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})


def check_identity(
    value: object,
    field: str,
    *,
    context: str = "",
    label: str | None = None,
    new: bool = False,
) -> str:
    """Return ``value`` if it is a usable contract id or version, else raise naming ``field``.

    ``context`` prefixes the message (e.g. ``"contract 'sales.orders': "``). A ``new`` id or
    version (one being stored) must also be safe to show: in Unicode NFC, and without
    invisible, bidirectional-control or other format characters, nor spaces other than
    U+0020 — so two ids that look alike are one id. Lookups accept what older versions of
    this package stored.

    >>> check_identity("sales.orders\u202e", "id", new=True)
    Traceback (most recent call last):
    ...
    dc43_delta_store.errors.InvalidContractError: id 'sales.orders\u202e' contains U+202E \
RIGHT-TO-LEFT OVERRIDE at position 13: an invisible, bidirectional-control or non-ASCII \
space character
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
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidContractError(
            f"{field} {value!r} holds an unpaired surrogate (U+{ord(value[exc.start]):04X}) at "
            f"position {exc.start + 1}: not valid Unicode",
            source=label,
        ) from None
    if new and not value.isascii():
        _check_safe_to_show(value, field, label)
    return value


def _check_safe_to_show(value: str, field: str, label: str | None) -> None:
    for position, char in enumerate(value, 1):
        code = ord(char)
        category = unicodedata.category(char)
        if (category in _UNSAFE_CATEGORIES and char != " ") or any(
            low <= code <= high for low, high in _INVISIBLE
        ):
            raise InvalidContractError(
                f"{field} {value!r} contains {_describe(char)} at position {position}: an "
                "invisible, bidirectional-control or non-ASCII space character",
                source=label,
            )
    if not unicodedata.is_normalized("NFC", value):
        normal = unicodedata.normalize("NFC", value)
        position = next(
            (i for i, char in enumerate(value) if unicodedata.combining(char)),
            next(i for i, (a, b) in enumerate(zip(value, normal, strict=False)) if a != b),
        )
        raise InvalidContractError(
            f"{field} {value!a} is not in Unicode NFC form ({_describe(value[position])} "
            f"at position {position + 1}); write it as {normal!r}",
            source=label,
        )


def _describe(char: str) -> str:
    name = unicodedata.name(char, "") or f"unnamed, category {unicodedata.category(char)}"
    return f"U+{ord(char):04X} {name}"


def build_row(document: dict[str, Any], *, label: str | None = None) -> ContractRow:
    """Derive the row of ``document`` (a JSON tree from :func:`~.documents.load_document`)."""
    id_field = "id" if document.get("id") is not None else "uuid"
    if document.get(id_field) is None:
        raise InvalidContractError("contract has no id (ODCS v3 'id', v2 'uuid')", source=label)
    contract_id = check_identity(document[id_field], id_field, label=label, new=True)
    version = check_identity(
        document.get("version"),
        "version",
        context=f"contract {contract_id!r}: ",
        label=label,
        new=True,
    )
    where = f"contract {contract_id!r} version {version!r}"
    name = _optional_text(document, "name", where, label)
    payload, digest = payload_and_fingerprint(document)
    return ContractRow(
        contract_id=contract_id,
        contract_key=contract_key(contract_id),
        version=version,
        name=name or contract_id,
        description=_description(document.get("description"), where, label),
        json=payload,
        fingerprint=digest,
        status=_optional_text(document, "status", where, label),
        api_version=_optional_text(document, "apiVersion", where, label),
        domain=_text_or_none(document.get("domain")),
        data_product=_text_or_none(document.get("dataProduct")),
        version_sort_key=version_sort_key(version),
        prerelease=is_prerelease(version),
    )


def document_fields(payload: str | None) -> dict[str, str | None]:
    """``status``, ``api_version``, ``domain`` and ``data_product`` of a stored JSON payload,
    as :func:`build_row` lifts them, for rows other writers stored without them: text
    values only, None where absent, not text, or the payload is not a JSON object.

    >>> document_fields('{"apiVersion": "3.0.2", "status": "active", "domain": 1}')
    {'status': 'active', 'api_version': '3.0.2', 'domain': None, 'data_product': None}
    """
    try:
        document = json.loads(payload) if payload is not None else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {}
    return {
        "status": _text_or_none(document.get("status")),
        "api_version": _text_or_none(document.get("apiVersion")),
        "domain": _text_or_none(document.get("domain")),
        "data_product": _text_or_none(document.get("dataProduct")),
    }


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
