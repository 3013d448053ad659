"""House rules that can be checked mechanically (../shared/reference/style-anchors.md):
imports go one way (app → claimtrack → corpus; replicate stands alone), pages hold no SQL,
HTTP or torch, and no module grows past 600 lines.

    python -m pytest tests/test_layering.py -q
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "corpus": {"claimtrack", "app", "replicate"},
    "claimtrack": {"app", "replicate"},
    "replicate": {"claimtrack", "corpus", "app"},
    "app": {"sqlite3", "httpx", "requests", "torch", "replicate", "chromadb", "transformers"},
}
# Embedding text for search needs a torch model (all-MiniLM-L6-v2); only the index may load it.
TORCH_ALLOWED = {"claimtrack/index.py", "claimtrack/embedding.py"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_go_one_way(package):
    bad = {}
    for path in files(package):
        rel = str(path.relative_to(ROOT))
        forbidden = set(FORBIDDEN[package])
        if package == "claimtrack" and rel not in TORCH_ALLOWED:
            forbidden |= {"torch"}
        hit = imports(path) & forbidden
        if hit:
            bad[rel] = sorted(hit)
    assert not bad, f"layering violated: {bad}"


def test_no_module_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for pkg in ("corpus", "claimtrack", "replicate", "app")
            for p in files(pkg) if (n := len(p.read_text().splitlines())) > 600}
    assert not long, f"split these modules: {long}"
