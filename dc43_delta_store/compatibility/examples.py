"""Example contracts for the rules: one base contract and, per rule, the edit that fires it.

An edit maps a JSON Pointer into the contract to a value (``None`` deletes, a final ``-``
appends to a list). ``old`` edits make the earlier version, ``new`` edits (applied on top of
the earlier version) the later one. Tests diff every example and check that its rule fires.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BASE", "Example", "example"]

BASE: dict[str, Any] = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "sales.customers",
    "name": "Customers",
    "version": "1.0.0",
    "status": "active",
    "domain": "sales",
    "description": {"purpose": "Customers of the web shop."},
    "tags": ["crm"],
    "servers": [
        {
            "server": "prod",
            "type": "postgres",
            "host": "db.example.com",
            "port": 5432,
            "database": "shop",
            "schema": "public",
        }
    ],
    "schema": [
        {
            "name": "customers",
            "physicalName": "customers",
            "logicalType": "object",
            "physicalType": "table",
            "properties": [
                {
                    "name": "id",
                    "logicalType": "integer",
                    "physicalType": "bigint",
                    "required": True,
                    "primaryKey": True,
                    "primaryKeyPosition": 1,
                },
                {
                    "name": "email",
                    "logicalType": "string",
                    "physicalType": "varchar(255)",
                    "logicalTypeOptions": {"maxLength": 255, "format": "email"},
                    "description": "Contact address.",
                },
                {
                    "name": "tier",
                    "logicalType": "string",
                    "physicalType": "varchar(8)",
                    "enum": [{"value": "gold"}, {"value": "silver"}],
                },
            ],
            "quality": [{"metric": "rowCount", "mustBeGreaterThan": 1000}],
        },
        {
            "name": "visits",
            "logicalType": "object",
            "properties": [{"name": "customer_id", "logicalType": "integer"}],
        },
    ],
    "slaProperties": [{"property": "retention", "value": 3, "unit": "y"}],
    "roles": [{"role": "analyst", "access": "read"}],
    "support": [{"channel": "#crm", "tool": "slack", "url": "https://chat.example.com/c"}],
    "team": {"name": "crm", "members": [{"username": "jo", "role": "owner"}]},
    "price": {"priceAmount": 10, "priceCurrency": "EUR", "priceUnit": "megabyte"},
    "customProperties": [{"property": "tier", "value": "silver"}],
    "contractCreatedTs": "2026-01-01T00:00:00Z",
}
"""The earlier version every example starts from (an ODCS v3.1.0 contract)."""


@dataclass(frozen=True)
class Example:
    """A pair of contract versions that fires one rule."""

    old_edits: Mapping[str, Any]
    new_edits: Mapping[str, Any]

    @property
    def old(self) -> dict[str, Any]:
        return _edited(BASE, self.old_edits)

    @property
    def new(self) -> dict[str, Any]:
        return _edited(self.old, self.new_edits)


def example(*, new: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> Example:
    return Example(dict(old or {}), dict(new))


def _edited(document: dict[str, Any], edits: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(document)
    for pointer, value in edits.items():
        *parents, last = pointer.lstrip("/").split("/")
        target: Any = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            if last == "-":
                target.append(copy.deepcopy(value))
            elif value is None:
                del target[int(last)]
            else:
                target[int(last)] = copy.deepcopy(value)
        elif value is None:
            del target[last]
        else:
            target[last] = copy.deepcopy(value)
    return result
