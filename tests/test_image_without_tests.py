"""The image leaves tests/ out (.dockerignore), so no code outside tests/ may build a path into it:
the demo reads its data from <app>/demo_data/, and a reference to tests/ would break `load_demo`
(or worse) only in production."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SHIPPED_OR_NOT_OURS = {"tests", ".venv", ".git", "var", "build", "node_modules", "test-results"}


def references_to_tests(source: str) -> list[int]:
    """Lines whose string literals name the tests directory: "tests", "tests/...", ".../tests/..."."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts = node.value.replace("\\", "/").strip("/").split("/")
            if "tests" in parts and (len(parts) > 1 or node.value == "tests"):
                hits.append(node.lineno)
    return hits


def shipped_python_files() -> list[Path]:
    return sorted(
        p for p in ROOT.rglob("*.py")
        if not NOT_SHIPPED_OR_NOT_OURS & set(p.relative_to(ROOT).parts[:-1])
        and not any(part.endswith(".egg-info") for part in p.relative_to(ROOT).parts)
    )


def test_the_checker_finds_paths_into_tests_and_not_the_word_in_prose():
    assert references_to_tests('FIXTURES = Path(BASE_DIR) / "tests" / "fixtures"\n') == [1]
    assert references_to_tests('X = "x"\nDUMP = BASE / "tests/fixtures/incidents/x.json"\n') == [2]
    assert references_to_tests('P = "/app/tests/fixtures"\n') == [1]
    assert references_to_tests('"""Used by tests and the health check."""\nN = "latests"\n') == []


def test_no_shipped_module_builds_a_path_into_tests():
    files = shipped_python_files()
    assert ROOT / "registry" / "demo.py" in files and ROOT / "manage.py" in files
    found = {str(p.relative_to(ROOT)): lines for p in files if (lines := references_to_tests(p.read_text("utf-8")))}
    assert found == {}, f"these modules name tests/, which the image leaves out: {found}"


def test_the_image_leaves_tests_out_and_the_demo_data_in():
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert "tests" in ignored
    assert not any(line in ("demo_data", "*/demo_data", "**/demo_data") for line in ignored)
    from compliance import demo as compliance_demo
    from registry import demo as registry_demo

    for path in (registry_demo.CERTDATA, registry_demo.OWNERS_CSV, registry_demo.CHAINS, registry_demo.CROSS_SIGNED,
                 compliance_demo.DUMP):
        assert path.exists(), path
        assert "tests" not in path.relative_to(ROOT).parts
