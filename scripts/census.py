"""The code's shape in figures: lines per package, the longest functions, test functions per
tier, and the sleeps left in tests. `python3 scripts/census.py [--top N]` from the project root;
the issue-12 closing note quotes it."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

PACKAGES = ("domain", "app", "graph", "rest", "infrastructure", "visapi")
TIERS = ("unit", "integration", "e2e", "fuzz")
TEST_DEF = re.compile(r"^\s*(async )?def test_", re.M)
SLEEP = re.compile(r"sleep\(")


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "node_modules" not in p.parts)


def functions(root: Path) -> list[tuple[int, str]]:
    found = []
    for package in PACKAGES:
        for path in python_files(root / package):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    found.append((lines, f"{path.relative_to(root)}:{node.name}"))
    return sorted(found, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--top", type=int, default=15)
    top = parser.parse_args().top
    root = Path.cwd()
    print("package          modules   lines  largest module")
    for package in PACKAGES:
        files = python_files(root / package)
        sizes = sorted(((len(p.read_text("utf-8").splitlines()), p) for p in files), reverse=True)
        largest = f"{sizes[0][1].relative_to(root)} ({sizes[0][0]})" if sizes else "-"
        total = sum(n for n, _ in sizes)
        print(f"{package:<16} {len(files):>7} {total:>7}  {largest}")
    print(f"\nlongest {top} functions (lines, def to last line)")
    for lines, name in functions(root)[:top]:
        print(f"{lines:>5}  {name}")
    counts = {
        tier: sum(
            len(TEST_DEF.findall(p.read_text("utf-8"))) for p in python_files(root / "tests" / tier)
        )
        for tier in TIERS
    }
    total = sum(counts.values())
    print(
        "\ntest functions: " + ", ".join(f"{t} {n}" for t, n in counts.items()), f"(total {total})"
    )
    print(f"unit share: {counts['unit'] / total:.1%}")
    sleeps = [
        f"{p.relative_to(root)}:{i}"
        for p in python_files(root / "tests")
        if not {"bench", "faults"} & set(p.parts)
        for i, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if SLEEP.search(line)
    ]
    print(f"sleep( calls in tests (bench and faults aside): {len(sleeps)}")


if __name__ == "__main__":
    main()
