"""diff over real contracts: every pair of corpus documents sharing an id, and its speed.

    python benchmarks/diff_corpus.py [--corpus ../shared/odcs/corpus] [--out FILE]

(The corpus is found as the tests find it: ``$DC43_SHARED/odcs/corpus``, by default
``../shared`` beside the repository.)

1. Reads every document of the shared ODCS corpus (INDEX.tsv), groups them by contract id
   (v3 ``id``, v2 ``uuid``) and diffs every pair of each group, lower version first.
   Prints the pairs, how many require each bump, and how often each rule fired. Any
   exception is a failure (the run exits 1).
2. Times diff on two 200 KB contracts (the corpus's largest, Bitol's AdventureWorks example,
   177 KB as JSON, with a few of its tables copied to reach 200 KB; against an equal copy, a
   reordered copy and a copy with 25 edits), next to a baseline
   measured in the same run: serialising both documents to canonical JSON and comparing the
   texts, the least any comparison of two documents costs. Goal: <= 50 ms.
3. Times put() of successive versions of one contract without a policy and under ``full``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dc43_delta_store.compatibility import diff  # noqa: E402
from dc43_delta_store.core.documents import load_document  # noqa: E402
from dc43_delta_store.core.versions import version_sort_key  # noqa: E402
from dc43_delta_store.errors import InvalidContractError  # noqa: E402

CORPUS = Path(os.environ.get("DC43_SHARED", ROOT.parent / "shared")) / "odcs" / "corpus"
LARGE = "bitol-dev/docs/examples/all/postgresql-adventureworks-contract.odcs.yaml"
GOAL_MS = 50.0
TARGET_BYTES = 200_000

Document = dict[str, Any]


@dataclass
class Summary:
    """What the corpus run found."""

    pairs: int = 0
    bumps: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def corpus_documents(corpus: Path) -> list[tuple[str, Document]]:
    """Every readable corpus document with its file name (unreadable ones are skipped)."""
    files = [
        line.split("\t", 1)[0]
        for line in (corpus / "INDEX.tsv").read_text(encoding="utf-8").splitlines()[1:]
    ]
    documents = []
    for name in files:
        try:
            documents.append((name, load_document(corpus / name)))
        except InvalidContractError:
            continue
    return documents


def corpus_pairs(corpus: Path) -> list[tuple[str, Document, str, Document]]:
    """Every pair of documents with the same contract id, the lower version first."""
    groups: dict[str, list[tuple[str, Document]]] = {}
    for name, document in corpus_documents(corpus):
        contract_id = document.get("id") or document.get("uuid")
        if isinstance(contract_id, str) and contract_id:
            groups.setdefault(contract_id, []).append((name, document))
    pairs = []
    for members in groups.values():
        members.sort(key=lambda item: (version_sort_key(str(item[1].get("version"))), item[0]))
        for (old_name, old), (new_name, new) in combinations(members, 2):
            pairs.append((old_name, old, new_name, new))
    return pairs


def run_pairs(pairs: list[tuple[str, Document, str, Document]]) -> Summary:
    summary = Summary()
    started = time.perf_counter()
    for old_name, old, new_name, new in pairs:
        summary.pairs += 1
        try:
            result = diff(old, new)
        except Exception as exc:  # the run reports every crash, then fails
            summary.failures.append(f"{old_name} -> {new_name}: {type(exc).__name__}: {exc}")
            continue
        summary.bumps[result.required_bump] += 1
        summary.rules.update(change.rule for change in result.changes)
    summary.seconds = time.perf_counter() - started
    return summary


def edited(document: Document, edits: int, seed: int = 1) -> Document:
    """``document`` with its lists reordered and ``edits`` property edits."""
    rng = random.Random(seed)
    new = copy.deepcopy(document)
    rng.shuffle(new["schema"])
    for obj in new["schema"]:
        rng.shuffle(obj.get("properties") or [])
    for number in range(edits):
        obj = rng.choice(new["schema"])
        props = obj["properties"]
        kind = number % 5
        if kind == 0 and len(props) > 1:
            props.pop(rng.randrange(len(props)))
        elif kind == 1:
            props.append({"name": f"added_{number}", "logicalType": "string"})
        elif kind == 2:
            rng.choice(props)["required"] = True
        elif kind == 3:
            rng.choice(props)["physicalType"] = "text"
        else:
            rng.choice(props)["description"] = f"edited {number}"
    return new


def timed_ms(function: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``function`` in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def padded(document: Document, size: int) -> Document:
    """``document`` with copies of its schema objects (renamed) until its JSON is ``size``
    bytes or more."""
    result = copy.deepcopy(document)
    originals = list(result["schema"])
    number = 0
    while len(json.dumps(result).encode("utf-8")) < size:
        extra = copy.deepcopy(originals[number % len(originals)])
        extra["name"] = f"{extra['name']}_copy{number}"
        result["schema"].append(extra)
        number += 1
    return result


def speed(corpus: Path, repeat: int = 30) -> dict[str, Any]:
    old = padded(load_document(corpus / LARGE), TARGET_BYTES)
    size = len(json.dumps(old).encode("utf-8"))

    def canonical_compare(a: Document, b: Document) -> bool:
        dump = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
        return json.dumps(a, **dump) == json.dumps(b, **dump)  # type: ignore[arg-type]

    cases = {
        "identical": copy.deepcopy(old),
        "reordered": edited(old, 0),
        "25 edits": edited(old, 25),
    }
    rows = {}
    for label, new in cases.items():
        changes = len(diff(old, new).changes)
        diff_ms = timed_ms(lambda new=new: diff(old, new), repeat)
        base_ms = timed_ms(lambda new=new: canonical_compare(old, new), repeat)
        rows[label] = {
            "changes": changes,
            "diff_ms": round(diff_ms, 2),
            "canonical_json_compare_ms": round(base_ms, 2),
            "ratio": round(diff_ms / base_ms, 2),
        }
    return {"document_bytes": size, "goal_ms": GOAL_MS, "cases": rows}


def gated_puts(versions: int = 30) -> dict[str, Any]:
    """Median put() of successive patch versions of one ~1 KB contract, without a policy and
    under ``full``: what the gate (a read of earlier versions and a diff) adds to a put."""
    import tempfile

    from dc43_delta_store import DeltaContractStore
    from dc43_delta_store.compatibility.examples import BASE

    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for policy in ("none", "full"):
            store = DeltaContractStore(path=f"{folder}/{policy}", validation="off")
            store.set_compatibility(policy)
            times = []
            for number in range(versions):
                document = {**BASE, "version": f"1.0.{number}"}
                started = time.perf_counter()
                store.put(document)
                times.append((time.perf_counter() - started) * 1000)
            rows[policy] = round(statistics.median(times[1:]), 2)
    return {"versions": versions, "put_ms": rows, "ratio": round(rows["full"] / rows["none"], 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, help="Also write the numbers here as JSON.")
    args = parser.parse_args()
    if not (args.corpus / "INDEX.tsv").exists():
        print(f"skipped: no corpus at {args.corpus} (set DC43_SHARED)", file=sys.stderr)
        return 0
    pairs = corpus_pairs(args.corpus)
    summary = run_pairs(pairs)
    print(
        f"{summary.pairs} pairs of corpus documents sharing an id, diffed in "
        f"{summary.seconds:.2f} s; {len(summary.failures)} failures"
    )
    print("\nrequired bump   pairs")
    for bump in ("major", "minor", "patch", "none"):
        print(f"{bump:<15} {summary.bumps[bump]:>5}")
    print("\nrule                                 fired")
    for rule, count in summary.rules.most_common():
        print(f"{rule:<36} {count:>5}")
    for failure in summary.failures:
        print("FAILED", failure, file=sys.stderr)
    measured = speed(args.corpus)
    print(
        f"\ndiff of two {measured['document_bytes'] / 1000:.0f} KB contracts (median ms; "
        f"baseline: canonical JSON of both, compared)"
    )
    print(f"{'case':<12} {'changes':>7} {'diff':>8} {'baseline':>9} {'ratio':>6}")
    for label, row in measured["cases"].items():
        print(
            f"{label:<12} {row['changes']:>7} {row['diff_ms']:>8.2f} "
            f"{row['canonical_json_compare_ms']:>9.2f} {row['ratio']:>6.2f}"
        )
    slowest = max(row["diff_ms"] for row in measured["cases"].values())
    print(
        f"goal <= {GOAL_MS:.0f} ms: {'met' if slowest <= GOAL_MS else 'MISSED'} "
        f"(slowest {slowest:.1f} ms)"
    )
    puts = gated_puts()
    print(
        f"\nput() of {puts['versions']} successive versions, median ms: no policy "
        f"{puts['put_ms']['none']:.1f}, policy full {puts['put_ms']['full']:.1f} "
        f"({puts['ratio']:.2f}x)"
    )
    if args.out:
        report = {
            "pairs": summary.pairs,
            "failures": summary.failures,
            "required_bumps": dict(summary.bumps),
            "rules": dict(summary.rules.most_common()),
            "speed": measured,
            "gated_puts": puts,
        }
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
