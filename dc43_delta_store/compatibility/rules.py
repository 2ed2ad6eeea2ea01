"""The compatibility rules: what each kind of change means for consumers and producers.

An ODCS contract binds both sides: it says what consumers can rely on *and* what producers
must deliver, so every rule carries two verdicts:

- ``break``: that side's code or expectations can fail;
- ``weaker``: a guarantee got looser; nothing fails, but what was promised is less;
- ``ok``: no effect on that side.

A rule's bump under a mode looks at the sides the mode covers (``full``: both, ``backward``:
consumers, ``forward``: producers, ``none``: neither): ``major`` if one of them is ``break``,
else ``minor`` if one is ``weaker``, else the rule's ``base`` bump (``minor`` for a change
of structure, ``patch`` for documentation, ``none`` for governance metadata).

The table in the README is :func:`rules_markdown`; a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .examples import Example, example

__all__ = [
    "BUMPS",
    "MODES",
    "RULES",
    "Bump",
    "Mode",
    "Rule",
    "Verdict",
    "bump_rank",
    "max_bump",
]

Bump = Literal["none", "patch", "minor", "major"]
Mode = Literal["none", "backward", "forward", "full"]
Verdict = Literal["break", "weaker", "ok"]

BUMPS: tuple[Bump, ...] = ("none", "patch", "minor", "major")
MODES: tuple[Mode, ...] = ("none", "backward", "forward", "full")


def bump_rank(bump: Bump) -> int:
    return BUMPS.index(bump)


def max_bump(*bumps: Bump) -> Bump:
    """The largest of ``bumps`` (``"none"`` for none).

    >>> max_bump("patch", "major", "minor")
    'major'
    """
    return max(bumps, key=bump_rank, default="none")


@dataclass(frozen=True)
class Rule:
    """One kind of change: its stable ``id``, both verdicts, its base bump and an example."""

    id: str
    title: str
    consumers: Verdict
    producers: Verdict
    base: Bump
    example: Example
    note: str = ""

    def bump(self, mode: Mode) -> Bump:
        """The bump this change requires under ``mode``.

        >>> RULES["property-removed"].bump("full"), RULES["property-removed"].bump("forward")
        ('major', 'minor')
        """
        sides = {
            "full": (self.consumers, self.producers),
            "backward": (self.consumers,),
            "forward": (self.producers,),
            "none": (),
        }[mode]
        if "break" in sides:
            return "major"
        if "weaker" in sides:
            return max_bump("minor", self.base)
        return self.base


_P = "/schema/0/properties"
_EMAIL = f"{_P}/1"
_SLA = "/slaProperties/0"
_QUALITY = "/schema/0/quality/0"

_DEFINITIONS: list[Rule] = [
    # identity and governance
    Rule("id-changed", "contract id changed", "break", "break", "minor",
         example(new={"/id": "sales.clients"}),
         "A different id is another contract, not a new version: the store's gate never "
         "compares across ids, and `diff` reports it so it is not missed."),
    Rule("status-changed", "status changed", "ok", "ok", "none",
         example(new={"/status": "deprecated"}),
         "Governance metadata, not part of the promise: no bump."),
    Rule("timestamp-changed", "creation timestamp changed", "ok", "ok", "none",
         example(new={"/contractCreatedTs": "2026-02-01T00:00:00Z"})),
    Rule("api-version-changed", "ODCS apiVersion changed", "ok", "ok", "patch",
         example(new={"/apiVersion": "v3.2.0"}),
         "The content is compared after reading both versions of the standard alike."),
    Rule("labels-changed", "name, domain, data product or tenant changed", "ok", "ok", "patch",
         example(new={"/domain": "crm"})),
    # schema objects
    Rule("schema-added", "schema object added", "ok", "ok", "minor",
         example(new={"/schema/-": {"name": "addresses", "properties": []}})),
    Rule("schema-removed", "schema object removed", "break", "ok", "minor",
         example(new={"/schema/1": None})),
    Rule("deprecated-schema-removed", "deprecated schema object removed", "weaker", "ok", "minor",
         example(old={"/schema/1/tags": ["deprecated"]}, new={"/schema/1": None}),
         "Deprecated: tagged `deprecated`, or a custom property `deprecated` that is true. "
         "Override it to `major` if removals must wait for a major version."),
    Rule("schema-renamed", "schema object renamed (same id)", "break", "break", "minor",
         example(old={"/schema/0/id": "cust"}, new={"/schema/0/id": "cust",
                                                    "/schema/0/name": "clients"})),
    Rule("physical-name-changed", "physicalName or encryptedName changed", "break", "break",
         "minor", example(new={"/schema/0/physicalName": "crm_customers"}),
         "Consumers query the old name and producers write the new one."),
    # properties
    Rule("property-added", "optional property added", "ok", "ok", "minor",
         example(new={f"{_P}/-": {"name": "phone", "logicalType": "string"}})),
    Rule("required-property-added", "required property added", "ok", "break", "minor",
         example(new={f"{_P}/-": {"name": "phone", "logicalType": "string",
                                  "required": True}})),
    Rule("property-removed", "property removed", "break", "ok", "minor",
         example(new={_EMAIL: None})),
    Rule("deprecated-property-removed", "deprecated property removed", "weaker", "ok", "minor",
         example(old={f"{_EMAIL}/tags": ["deprecated"]}, new={_EMAIL: None}),
         "As for schema objects: deprecated in the earlier version, then removed."),
    Rule("property-renamed", "property renamed", "break", "break", "minor",
         example(new={f"{_EMAIL}/name": "mail"}),
         "Same `id` with a new name, or, without ids, a property removed and one added with "
         "the same content under another name."),
    Rule("now-required", "required false -> true", "ok", "break", "minor",
         example(new={f"{_EMAIL}/required": True})),
    Rule("now-optional", "required true -> false", "break", "ok", "minor",
         example(new={f"{_P}/0/required": False}),
         "Consumers now receive nulls they were promised they would not: a breaking change "
         "for them (`major` in `full` and `backward`, `minor` in `forward`)."),
    Rule("logical-type-changed", "logicalType changed", "break", "break", "minor",
         example(new={f"{_P}/0/logicalType": "string"})),
    Rule("physical-type-changed", "physicalType changed", "break", "break", "minor",
         example(new={f"{_EMAIL}/physicalType": "text"})),
    Rule("format-changed", "format, timezone or defaultTimezone changed", "break", "break",
         "minor", example(new={f"{_EMAIL}/logicalTypeOptions/format": "uri"})),
    Rule("constraint-tightened", "constraint tightened", "ok", "break", "minor",
         example(new={f"{_EMAIL}/logicalTypeOptions/maxLength": 100}),
         "maxLength/maximum/maxItems lowered, minLength/minimum/minItems raised, "
         "a pattern, format or enum added, a pattern changed."),
    Rule("constraint-loosened", "constraint loosened", "weaker", "ok", "minor",
         example(new={f"{_EMAIL}/logicalTypeOptions/maxLength": 320})),
    Rule("enum-value-removed", "enum value removed", "ok", "break", "minor",
         example(new={f"{_P}/2/enum/1": None})),
    Rule("enum-value-added", "enum value added", "weaker", "ok", "minor",
         example(new={f"{_P}/2/enum/-": {"value": "platinum"}}),
         "Consumers may meet a value they do not handle."),
    Rule("unique-changed", "unique changed", "break", "break", "minor",
         example(new={f"{_EMAIL}/unique": True})),
    Rule("primary-key-changed", "primaryKey or primaryKeyPosition changed", "break", "break",
         "minor", example(new={f"{_EMAIL}/primaryKey": True})),
    Rule("partitioning-changed", "partitioned or partitionKeyPosition changed", "ok", "ok",
         "minor", example(new={f"{_P}/0/partitioned": True})),
    Rule("classification-changed", "classification or criticalDataElement changed", "weaker",
         "ok", "minor", example(new={f"{_EMAIL}/classification": "restricted"})),
    Rule("semantic-type-changed", "semanticType changed", "weaker", "weaker", "minor",
         example(new={f"{_P}/0/semanticType": "dimension"})),
    Rule("relationship-changed", "relationship added, removed or changed", "weaker", "ok",
         "minor", example(new={f"{_P}/0/relationships": [{"to": "accounts.id"}]})),
    # quality
    Rule("error-quality-rule-added", "error-level quality rule added", "ok", "break", "minor",
         example(new={f"{_EMAIL}/quality": [{"metric": "nullValues", "mustBe": 0}]}),
         "Error level: `severity` error (or critical, fatal, blocker), or no severity, which "
         "dc43 and datacontract-cli enforce as errors; never a `type: text` rule, which only "
         "describes."),
    Rule("quality-rule-added", "other quality rule added", "ok", "ok", "minor",
         example(new={f"{_EMAIL}/quality": [{"metric": "nullValues", "mustBe": 0,
                                              "severity": "warning"}]})),
    Rule("error-quality-rule-tightened", "error-level quality rule tightened", "ok", "break",
         "minor", example(new={f"{_QUALITY}/mustBeGreaterThan": 5000}),
         "The accepted range of the measured value shrank, or the severity rose to error."),
    Rule("quality-rule-tightened", "other quality rule tightened", "ok", "ok", "minor",
         example(old={f"{_QUALITY}/severity": "warning"},
                 new={f"{_QUALITY}/severity": "warning", f"{_QUALITY}/mustBeGreaterThan": 5000})),
    Rule("quality-rule-loosened", "quality rule loosened", "weaker", "ok", "minor",
         example(new={f"{_QUALITY}/mustBeGreaterThan": 10})),
    Rule("quality-rule-removed", "quality rule removed", "weaker", "ok", "minor",
         example(new={_QUALITY: None})),
    Rule("error-quality-rule-changed", "error-level quality rule changed (no direction)",
         "weaker", "break", "minor", example(new={f"{_QUALITY}/unit": "percent"}),
         "Its query, arguments, unit or operator changed in a way that is neither a "
         "tightening nor a loosening."),
    Rule("quality-rule-changed", "other quality rule changed (no direction)", "weaker", "ok",
         "minor", example(old={f"{_QUALITY}/severity": "warning"},
                          new={f"{_QUALITY}/severity": "warning", f"{_QUALITY}/unit": "percent"})),
    # service levels
    Rule("sla-weakened", "SLA weakened", "break", "ok", "minor",
         example(new={f"{_SLA}/value": 2, f"{_SLA}/unit": "y"}),
         "Compared after unit normalisation (ms ... y; `m` is minutes, `mo` a twelfth of a "
         "year): a longer "
         "latency or frequency, a shorter retention, a lower availability, an earlier "
         "endOfSupport or endOfLife, a later timeOfAvailability."),
    Rule("sla-strengthened", "SLA strengthened", "ok", "ok", "minor",
         example(new={f"{_SLA}/value": 10})),
    Rule("sla-added", "SLA property added", "ok", "ok", "minor",
         example(new={"/slaProperties/-": {"property": "latency", "value": 4, "unit": "h"}})),
    Rule("sla-removed", "SLA property removed", "break", "ok", "minor",
         example(new={_SLA: None})),
    Rule("sla-changed", "SLA changed (no direction)", "break", "break", "minor",
         example(new={f"{_SLA}/element": "customers.email"}),
         "Its element changed, or a property whose direction is not known "
         "(generalAvailability, custom ones) or units that do not compare. Override it when it "
         "is a strengthening."),
    # servers and access
    Rule("server-added", "server added", "ok", "ok", "minor",
         example(new={"/servers/-": {"server": "dr", "type": "postgres", "host": "dr.example"}})),
    Rule("server-removed", "server removed", "break", "break", "minor",
         example(new={"/servers/0": None})),
    Rule("server-changed", "server connection changed", "break", "break", "minor",
         example(new={"/servers/0/host": "db2.example.com"}),
         "Any server field but description, environment, roles and custom properties: type, "
         "host, port, database, schema, location, format..."),
    Rule("role-added", "role added", "ok", "ok", "minor",
         example(new={"/roles/-": {"role": "auditor", "access": "read"}})),
    Rule("role-removed", "role removed", "weaker", "ok", "minor",
         example(new={"/roles/0": None})),
    Rule("role-changed", "role access or approvers changed", "weaker", "ok", "minor",
         example(new={"/roles/0/access": "write"})),
    # documentation
    Rule("description-changed", "description or business name changed", "ok", "ok", "patch",
         example(new={f"{_EMAIL}/description": "Where invoices are sent"})),
    Rule("tags-changed", "tags changed", "ok", "ok", "patch",
         example(new={"/tags": ["crm", "pii"]})),
    Rule("examples-changed", "examples changed", "ok", "ok", "patch",
         example(new={f"{_EMAIL}/examples": ["jo@example.com"]})),
    Rule("custom-properties-changed", "custom properties changed", "ok", "ok", "patch",
         example(new={"/customProperties/0/value": "gold"})),
    Rule("authoritative-definitions-changed", "authoritative definitions changed", "ok", "ok",
         "patch", example(new={"/authoritativeDefinitions": [
             {"type": "canonical", "url": "https://example.com/customers"}]})),
    Rule("lineage-changed", "transformLogic or transformSourceObjects changed", "ok", "ok",
         "patch", example(new={f"{_EMAIL}/transformLogic": "lower(email)"})),
    Rule("support-changed", "support channels changed", "ok", "ok", "patch",
         example(new={"/support/0/url": "https://chat.example.com/crm"})),
    Rule("team-changed", "team changed", "ok", "ok", "patch",
         example(new={"/team/members/-": {"username": "ada", "role": "owner"}})),
    Rule("price-changed", "price changed", "ok", "ok", "patch",
         example(new={"/price/priceAmount": 12})),
    Rule("malformed-changed", "part not in the shape ODCS gives it, changed", "break", "break",
         "minor", example(new={f"{_EMAIL}/logicalTypeOptions": "maxLength 255"}),
         "Where ODCS wants an object or a list of objects that the rules read -- schema "
         "objects, properties and array `items`, `logicalTypeOptions`, quality rules, "
         "servers, roles, SLA properties -- or a list of `enum` values, and the document has "
         "something else (text, a number, a mapping instead of a list), the diff cannot tell "
         "what changed there: a breaking change for both sides, never a patch. Other fields "
         "are compared as plain JSON under their own rule."),
    Rule("other-changed", "any other field changed", "ok", "ok", "patch",
         example(new={"/schema/0/properties/1/x-owner": "crm-team"}),
         "Fields no rule reads (extensions, vendor keys): documentation until a rule says "
         "otherwise."),
]  # fmt: skip

RULES: dict[str, Rule] = {rule.id: rule for rule in _DEFINITIONS}
"""Every rule by id, in the order of the README table."""
