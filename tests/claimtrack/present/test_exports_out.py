"""`export --out` / `prompt --out` write the whole file safely (issue 22, smaller items): never
through a planted temporary-name symlink, and an existing file keeps its permission bits.

    python -m pytest tests/claimtrack/present/test_exports_out.py -q
"""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from claimtrack.cli import main
from claimtrack.present.exports import write_file


@pytest.mark.parametrize("args", [["export", "csv", "entropy-collapse-bottleneck"],
                                  ["prompt", "entropy-collapse-bottleneck"]])
def test_out_never_writes_through_a_planted_symlink_and_keeps_the_mode(seeded_store, tmp_path, args):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "export.out"
    out.write_text("old")
    os.chmod(out, 0o600)
    for name in ("export.out.tmp", ".export.out.tmp"):
        (tmp_path / name).symlink_to(victim)
    r = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert victim.read_text() == "keep me"
    assert out.read_text() != "old" and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".export.out.tmp", "export.out",
                                                          "export.out.tmp", "victim.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "a.csv"
    out.write_text("old")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(Exception, match="No space left on device") as info:
        write_file(out, "new")
    assert "\n" not in str(info.value)
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.csv"]
