import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LINK_SCRIPT = ROOT / "scripts" / "link_minilm.py"


def link(dest, *args):
    return subprocess.run(
        [sys.executable, str(LINK_SCRIPT), str(dest), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_link_skipped_for_other_transformer(tmp_path):
    dest = tmp_path / "assets" / "all-MiniLM-L6-v2"
    result = link(dest, "--transformer", "roberta-base")
    assert result.returncode == 0, result.stdout + result.stderr
    output = " ".join(result.stdout.split())
    assert "Skipped: the transformer is roberta-base, not" in output
    assert not dest.exists()
    assert not dest.is_symlink()


@pytest.mark.parametrize("same_transformer", [False, True])
def test_link_points_to_wheel_weights(tmp_path, same_transformer):
    dest = tmp_path / "assets" / "all-MiniLM-L6-v2"
    args = ["--transformer", str(dest)] if same_transformer else []
    result = link(dest, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert dest.is_symlink()
    assert (dest / "config.json").exists()
    # A second run finds the link in place.
    again = link(dest, *args)
    assert again.returncode == 0
    assert "already points to" in again.stdout
