"""SECURITY.md's table cannot rot: every test it cites exists, and the security suite's tests are all cited."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _citations() -> list[tuple[str, str]]:
    return CITATION.findall((ROOT / "SECURITY.md").read_text(encoding="utf-8"))


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_test_cited_in_security_md_exists() -> None:
    citations = _citations()
    assert len(citations) >= 40, "SECURITY.md cites almost no tests: is the pattern still `file::test`?"
    missing = [
        f"{file}::{name}"
        for file, name in citations
        if not (ROOT / file).is_file() or name not in _tests_in(ROOT / file)
    ]
    assert not missing, f"SECURITY.md cites tests that do not exist: {missing}"


def test_every_test_of_the_security_suite_is_cited_in_security_md() -> None:
    cited = set(_citations())
    suite = Path(__file__).resolve().parent
    uncited = [
        f"{path.relative_to(ROOT).as_posix()}::{name}"
        for path in sorted(suite.glob("test_*.py"))
        if path.name != Path(__file__).name
        for name in sorted(_tests_in(path))
        if (path.relative_to(ROOT).as_posix(), name) not in cited
    ]
    # Helpers' own checks (the walk notices what it should) need no line in the table.
    uncited = [entry for entry in uncited if "walk" not in entry and "window" not in entry and "budget" not in entry]
    assert not uncited, f"add these to SECURITY.md's table: {uncited}"


def test_the_check_would_notice_a_renamed_test() -> None:
    assert "test_every_test_cited_in_security_md_exists" in _tests_in(Path(__file__))
    assert "test_that_was_renamed" not in _tests_in(Path(__file__))
