"""README's Layout section names the tree as it is: every package there, nothing that is not."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layout_paths() -> set[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Layout", 1)[1]
    block = section.split("```", 2)[1]
    return {m.group(1) for m in re.finditer(r"^(\S+/)\s", block, re.M)}


def test_every_path_the_layout_names_exists() -> None:
    missing = sorted(p for p in layout_paths() if not (ROOT / p).is_dir())
    assert not missing, f"README's Layout names folders that do not exist: {missing}"


def test_every_top_level_package_is_in_the_layout() -> None:
    packages = {f"{p.parent.name}/" for p in ROOT.glob("*/__init__.py")} - {"tests/"}
    unnamed = sorted(packages - layout_paths())
    assert not unnamed, f"README's Layout does not describe {unnamed}"


def test_the_composition_roots_subpackages_are_in_the_layout() -> None:
    subpackages = {f"visapi/{p.parent.name}/" for p in ROOT.glob("visapi/*/__init__.py")}
    assert subpackages <= layout_paths(), subpackages - layout_paths()
