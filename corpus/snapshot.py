"""Read the shipped corpus snapshot: human-editable YAML files under ``corpus/data/``.

Each file is a YAML list of mappings. ``read_items(path)`` returns them as ``Item``s that
remember the line each item and each of its keys starts on, so that a validation error
downstream can say ``claims.yaml:212: ...``. Malformed YAML raises ``SnapshotError`` with the
file and line the parser stopped at. The file formats are documented in ``corpus/data/README.md``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# libyaml's C parser reads the corpus ~20x faster than the pure-Python one (init: 1.1 s -> 0.05 s
# of parsing, issue 23); both build the same nodes, so the pure-Python one is only the fallback.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DATA_DIR = Path(__file__).resolve().parent / "data"
FILES = ("papers.yaml", "claims.yaml", "relations.yaml", "evidence.yaml", "inquiries.yaml")
RESULTS_DIR = "results"  # replication result files shipped with the corpus (data/results/*.json)


class SnapshotError(Exception):
    """A snapshot file that cannot be read: ``path``, ``line`` (1-based or None), ``message``."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")

    def __reduce__(self):
        return (type(self), (self.path, self.line, self.message))


@dataclass(frozen=True)
class Item:
    """One mapping from a snapshot file, with where it came from."""

    data: dict[str, Any]
    path: str
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str | None) -> int:
        return self.key_lines.get(key or "", self.line)


def _plain(node: yaml.Node, loader: Any) -> Any:
    return loader.construct_object(node, deep=True)


def _refuse_aliases(name: str, text: str) -> None:
    """Anchors and aliases (``&a`` / ``*a``) are refused: a few lines of them expand to gigabytes
    (a "billion laughs" bomb), and hand-edited corpus files have no need for them.

    An anchor needs a ``&`` and an alias a ``*``: a file with neither (the shipped corpus) is
    parsed once, not twice; otherwise its events are scanned (in C where available) first."""
    if "&" not in text and "*" not in text:
        return
    try:
        for event in yaml.parse(text, Loader=LOADER):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise SnapshotError(name, event.start_mark.line + 1,
                                    "YAML anchors and aliases (&name / *name) are not allowed in "
                                    "corpus files; write the value out")
    except yaml.YAMLError:
        return  # malformed YAML: the full parse below reports where


def read_items(path: str | Path) -> list[Item]:
    """Parse one snapshot file into line-numbered items."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(name, None, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise SnapshotError(name, line, f"not UTF-8 text (byte {raw[exc.start]:#04x} at offset "
                                        f"{exc.start}); save the file as UTF-8") from None
    _refuse_aliases(name, text)
    loader = LOADER(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return []
        if not isinstance(root, yaml.SequenceNode):
            raise SnapshotError(name, root.start_mark.line + 1, "expected a list of entries")
        items = []
        for node in root.value:
            line = node.start_mark.line + 1
            if not isinstance(node, yaml.MappingNode):
                raise SnapshotError(name, line, "expected a mapping (key: value) entry")
            key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
            data = _plain(node, loader)
            items.append(Item(data=data, path=name, line=line, key_lines=key_lines))
        return items
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SnapshotError(name, line, f"malformed YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SnapshotError(name, None, f"malformed YAML: {exc}") from None
    finally:
        loader.dispose()


def result_files(data_dir: str | Path = DATA_DIR) -> list[Path]:
    """Replication result files shipped with the corpus, oldest name first."""
    folder = Path(data_dir) / RESULTS_DIR
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def digest(data_dir: str | Path = DATA_DIR) -> str:
    """A hash of every snapshot file, so ``claimtrack init`` can tell nothing changed."""
    h = hashlib.sha256()
    data_dir = Path(data_dir)
    for name in FILES:
        p = data_dir / name
        h.update(name.encode())
        h.update(p.read_bytes() if p.exists() else b"<missing>")
    for p in result_files(data_dir):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()
