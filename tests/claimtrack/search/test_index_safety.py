"""The search index on someone else's folder and on a full disk (issue 22, smaller items).

    python -m pytest tests/claimtrack/search/test_index_safety.py -q
"""

from __future__ import annotations

import os

import pytest
import torch

from claimtrack.search import embedding, index


def test_rebuilding_a_damaged_index_through_a_symlink_deletes_only_its_own_files(home, tmp_path):
    elsewhere = tmp_path / "big-disk"
    elsewhere.mkdir()
    (elsewhere / "thesis.tex").write_text("precious")
    (elsewhere / "photos").mkdir()
    (elsewhere / "photos" / "a.jpg").write_bytes(b"jpg")
    home.mkdir(parents=True, exist_ok=True)
    (home / "chroma").symlink_to(elsewhere)
    (elsewhere / "chroma.sqlite3").write_bytes(b"garbage, not sqlite" * 10)  # a damaged index
    index._OPEN.clear()
    idx = index.Index.open()
    assert idx.collection("claims").count() == 0  # rebuilt, empty, usable
    assert (elsewhere / "thesis.tex").read_text() == "precious"
    assert (elsewhere / "photos" / "a.jpg").read_bytes() == b"jpg"
    assert (home / "chroma").is_symlink()
    index._OPEN.clear()


def test_a_full_disk_during_the_model_export_is_one_line_and_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "models" / "minilm.onnx"
    monkeypatch.setattr(embedding, "load_torch", lambda: (None, torch.nn.Identity()))

    def full_disk(model, args, f, **kw):
        with open(f, "wb") as out:
            out.write(b"\0" * 4096)  # what torch had written when the disk filled
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch.onnx, "export", full_disk)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "minilm.tmp-999999999").write_bytes(b"\0" * 10)  # a killed export's
    with pytest.raises(embedding.EmbeddingError) as info:
        embedding.export_onnx(path)
    msg = str(info.value)
    assert "\n" not in msg and "No space left on device" in msg and str(path) in msg
    assert os.listdir(tmp_path / "models") == []
