"""``dc43-delta-store diff`` and ``dc43-delta-store compatibility``: what changed between two
contract versions, which SemVer bump it needs, and the table's compatibility policy."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import click

from ..compatibility import BUMPS, MODES, RULES, DiffResult, Mode, Override, Policy, diff
from ..compatibility.policy import parse_overrides
from ..compatibility.positions import line_map, line_of
from ..compatibility.report import github_annotations, junit_xml, rules_markdown, text_report
from ..compatibility.rules import bump_rank
from ..core.documents import CONTRACT_SUFFIXES, MAX_DEPTH, MAX_VALUES, load_document
from ..core.terminal import printable
from ..core.versions import is_prerelease
from ..core.yaml12 import load_yaml
from ..errors import ContractNotFoundError, InvalidContractError, InvalidRequestError
from .output import emit, to_json
from .support import (
    EXIT_CODES,
    Context,
    SafePath,
    output_options,
    pass_context,
    who_why,
    write_report,
)

__all__ = ["compatibility", "diff_command", "gate_column"]


def gate_column(rows: list[dict[str, Any]]) -> list[str]:
    """``["compatibility"]`` when a row carries the gate's verdict (a policy applies)."""
    return ["compatibility"] if any(row.get("compatibility") for row in rows) else []


@dataclass(frozen=True)
class _Source:
    """One side of a diff: the document, how to name it, and its file if it has one."""

    document: dict[str, Any]
    label: str
    file: Path | None


def _source(argument: str, context: Context) -> _Source:
    path = Path(argument)
    if path.is_file() or argument.lower().endswith(CONTRACT_SUFFIXES) or "@" not in argument:
        if not path.exists():
            raise click.BadParameter(
                f"{argument!r} is neither a file nor an ID@VERSION reference", param_hint="OLD/NEW"
            )
        return _Source(load_document(path), argument, path)
    contract_id, _, version = argument.rpartition("@")
    store = context.reader()
    if version == "latest":
        found = store.latest(contract_id)
        if found is None:
            raise ContractNotFoundError(contract_id, detail=" (no release to diff)")
        return _Source(found, argument, None)
    return _Source(store.get(contract_id, version), argument, None)


@click.command(name="diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    help="full (default): consumers and producers; backward: consumers only; forward: "
    "producers only; none: no verdicts. With ID@VERSION, the table's policy by default.",
)
@click.option(
    "--overrides",
    "overrides_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML/JSON list of overrides (rule, path, contract, bump, reason), applied first.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (same as --format json).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github: workflow annotations at the file and line of each change in NEW.",
)
@click.option(
    "--junit-xml",
    "junit_path",
    type=SafePath(dir_okay=False, path_type=Path),
    help="Write a JUnit report.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["major", "minor", "patch"]),
    help="Exit 7 when the changes need at least this bump.",
)
@click.option("--check", is_flag=True, help="Exit 7 when NEW's version does not bump OLD's enough.")
@pass_context
def diff_command(
    context: Context,
    old: str,
    new: str,
    mode: str | None,
    overrides_file: Path | None,
    as_json: bool,
    fmt: str,
    junit_path: Path | None,
    fail_on: str | None,
    check: bool,
) -> None:
    """Compare two contract versions (files, or ID@VERSION from the table)."""
    before, after = _source(old, context), _source(new, context)
    overrides: list[Override] = []
    if overrides_file is not None:
        overrides += _overrides(overrides_file)
    contract_id = after.document.get("id") or after.document.get("uuid")
    if before.file is None or after.file is None:
        settings = context.store().compatibility_settings()
        overrides += settings.ordered_overrides()
        table_mode = settings.policy_for(str(contract_id)).mode
        mode = mode or (table_mode if table_mode != "none" else None)
    result = diff(
        before.document,
        after.document,
        mode=cast(Mode, mode or "full"),
        overrides=overrides,
        contract_id=None if contract_id is None else str(contract_id),
    )
    lines = {}
    if after.file is not None and (fmt != "text" or as_json):
        lines = line_map(after.file.read_text(encoding="utf-8-sig"))
    if as_json or fmt == "json":
        click.echo(to_json(_as_json(result, before, after, lines), indent=2))
    elif fmt == "github":
        file = None if after.file is None else str(after.file)
        for command in github_annotations(result, file, lines):
            click.echo(command)
    else:
        click.echo(text_report(result, before.label, after.label), nl=False)
    if junit_path is not None:
        write_report(junit_path, junit_xml(result), "--junit-xml")
    failed = fail_on is not None and bump_rank(result.required_bump) >= BUMPS.index(fail_on)
    prerelease = result.new_version is not None and is_prerelease(result.new_version)
    if failed or (check and not result.compatible and not prerelease):
        sys.exit(EXIT_CODES["incompatible"])


def _as_json(
    result: DiffResult, before: _Source, after: _Source, lines: dict[Any, int]
) -> dict[str, Any]:
    data = result.to_dict()
    data["old"]["source"] = before.label
    data["new"]["source"] = after.label
    for change in data["changes"]:
        change["line"] = line_of(lines, change["pointer"]) if lines else None
    return data


# -- the table's policy ----------------------------------------------------------------------


@click.group()
def compatibility() -> None:
    """Show or set the table's compatibility policy and overrides; list the rules."""


@compatibility.command(name="show")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_context
def show(context: Context, as_json: bool) -> None:
    """Print the table's policy, per-contract policies and overrides."""
    settings = context.reader().compatibility_settings()
    if as_json:
        click.echo(to_json(settings.to_dict(), indent=2))
        return
    click.echo(f"policy: {printable(str(settings.policy))}")
    for contract_id, policy in sorted(settings.contracts.items()):
        click.echo(printable(f"contract {contract_id}: {policy}"))
    for override in settings.overrides:
        shown = ", ".join(f"{k}={v}" for k, v in override.to_dict().items())
        click.echo(f"override: {printable(shown)}")


@compatibility.command(name="set")
@click.argument("policy", type=click.Choice([*MODES, "default"]))
@click.option(
    "--transitive", is_flag=True, help="Check against every earlier release of the major."
)
@click.option("--contract", "contract_id", help="Set it for this contract id only.")
@who_why
@pass_context
def set_policy(
    context: Context,
    policy: str,
    transitive: bool,
    contract_id: str | None,
    who: str | None,
    why: str | None,
) -> None:
    """Set the policy (none, backward, forward, full); 'default' drops a contract's own."""
    if policy == "default":
        if contract_id is None:
            raise click.UsageError("'default' removes a contract's own policy: give --contract")
        chosen = None
    else:
        chosen = Policy(cast(Mode, policy), transitive)
    settings = context.store().set_compatibility(chosen, contract_id=contract_id, who=who, why=why)
    where = f"contract {contract_id}" if contract_id else "table"
    shown = settings.policy_for(contract_id) if contract_id else settings.policy
    click.echo(printable(f"{where} policy: {shown}"), err=True)
    for problem in settings.problems:  # what this command did not repair
        click.echo(printable(f"warning: {problem}"), err=True)


@compatibility.command(name="override")
@click.argument("rule", required=False)
@click.option("--path", help="Only changes whose path matches this glob.")
@click.option("--contract", "contract_id", help="Only contracts whose id matches this glob.")
@click.option(
    "--bump", type=click.Choice(BUMPS), default="none", show_default=True, help="Bump to give."
)
@click.option("--reason", help="Why; shown in every report.")
@click.option("--remove", is_flag=True, help="Remove the override with this rule/path/contract.")
@click.option("--clear", is_flag=True, help="Remove every override (also an unreadable list).")
@who_why
@pass_context
def override(
    context: Context,
    rule: str | None,
    path: str | None,
    contract_id: str | None,
    bump: str,
    reason: str | None,
    remove: bool,
    clear: bool,
    who: str | None,
    why: str | None,
) -> None:
    """Re-rate a rule's changes (bump none: ignore them), table-wide or for some contracts."""
    store = context.store()
    if clear:
        if rule is not None or remove:
            raise click.UsageError("--clear removes every override: give no RULE and no --remove")
        store.set_compatibility_overrides([], who=who, why=why)
        click.echo("0 override(s)", err=True)
        return
    if rule is None:
        raise click.UsageError("give the RULE to override (or --clear)")
    added = Override(rule, path, contract_id, cast(Any, bump), reason)
    kept = [
        o
        for o in store.compatibility_settings().overrides
        if (o.rule, o.path, o.contract) != (rule, path, contract_id)
    ]
    if remove and len(kept) == len(store.compatibility_settings().overrides):
        raise InvalidRequestError(f"no override for rule {rule!r} with that path and contract")
    settings = store.set_compatibility_overrides(
        kept if remove else [*kept, added], who=who, why=why
    )
    click.echo(f"{len(settings.overrides)} override(s)", err=True)


@compatibility.command(name="rules")
@output_options
@click.option("--markdown", is_flag=True, help="The README's table.")
def rules(fmt: Any, markdown: bool) -> None:
    """List the compatibility rules with their verdicts and bumps per mode."""
    if markdown:
        click.echo(rules_markdown(), nl=False)
        return
    rows = [
        {
            "rule": rule.id,
            "change": rule.title,
            "consumers": rule.consumers,
            "producers": rule.producers,
            **{mode: rule.bump(mode) for mode in ("full", "backward", "forward")},
        }
        for rule in RULES.values()
    ]
    columns = ["rule", "change", "consumers", "producers", "full", "backward", "forward"]
    emit(rows, columns, fmt or "table", sys.stdout)


def _overrides(path: Path) -> tuple[Override, ...]:
    """The overrides in a YAML/JSON file (YAML 1.2, as contracts are read)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        data, _ = load_yaml(text, str(path), max_depth=MAX_DEPTH, max_values=MAX_VALUES)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"cannot read overrides file {path}: {exc}") from None
    except InvalidContractError as exc:
        raise InvalidRequestError(f"overrides file {exc}") from None
    return parse_overrides(data, str(path))
