"""Read and check the class frequencies file that `python -m spacy_nerloss
weights` writes and `[initialize.components.ner_tagger] class_frequencies`
names.
"""
from pathlib import Path
from typing import Any, Dict, Sequence, Union

import srsly

from .tags import split_tag

HOW_TO_WRITE = "Write it with `python -m spacy_nerloss weights` on the training corpus."


def read_class_frequencies(
    data: Union[str, Path, Dict[str, Any]],
    tags: Sequence[str],
    scheme: str,
    component: str = "ner_tagger",
) -> Dict[str, int]:
    """Read the tag counts of a class frequencies file and check that they
    were computed for the component's scheme and tag set.

    data (Union[str, Path, Dict[str, Any]]): The path of the JSON file, or its
        content.
    tags (Sequence[str]): The component's tag set.
    scheme (str): The component's scheme, "BIO" or "BILUO".
    component (str): The component name, used in error messages.
    RETURNS (Dict[str, int]): The count of every tag in `tags`.
    """
    source = "the class_frequencies setting"
    if isinstance(data, (str, Path)):
        source = str(data)
        data = load_json(Path(data), component)
    if not isinstance(data, dict) or "counts" not in data or "scheme" not in data:
        raise ValueError(
            f"[{component}] Invalid class frequencies in {source}: expected a "
            "JSON object with 'scheme' and 'counts' keys. " + HOW_TO_WRITE
        )
    counts = data["counts"]
    if not isinstance(counts, dict):
        raise ValueError(
            f"[{component}] Invalid class frequencies in {source}: 'counts' must "
            f"map each tag to its count, got a {type(counts).__name__}. "
            + HOW_TO_WRITE
        )
    if data["scheme"] != scheme:
        raise ValueError(
            f"[{component}] The class frequencies in {source} were computed for "
            f"scheme {data['scheme']!r}, but the component uses {scheme!r}."
        )
    check_tag_set(counts, tags, source, component)
    for tag, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(
                f"[{component}] Invalid count for tag {tag!r}: {n!r} in {source}. "
                "Counts must be whole numbers >= 0."
            )
    return dict(counts)


def load_json(path: Path, component: str) -> Any:
    """Read a JSON file, raising a ValueError that names the file when it is
    missing, a folder or not valid JSON.
    """
    if not path.exists():
        raise ValueError(
            f"[{component}] Class frequency file not found: {path}. " + HOW_TO_WRITE
        )
    if path.is_dir():
        raise ValueError(
            f"[{component}] The class frequency path {path} is a folder. Expected "
            "the JSON file written by `python -m spacy_nerloss weights`."
        )
    try:
        return srsly.json_loads(path.read_bytes())
    except ValueError as err:
        raise ValueError(
            f"[{component}] Invalid JSON in the class frequency file {path}: {err}. "
            + HOW_TO_WRITE
        ) from err


def check_tag_set(
    counts: Dict[str, Any], tags: Sequence[str], source: str, component: str
) -> None:
    """Raise a ValueError naming both label sets unless `counts` has exactly
    one entry per tag.
    """
    missing = [tag for tag in tags if tag not in counts]
    extra = [tag for tag in counts if tag not in tags]
    if not missing and not extra:
        return
    file_labels = sorted({split_tag(tag)[1] for tag in counts} - {""})
    labels = sorted({split_tag(tag)[1] for tag in tags} - {""})
    raise ValueError(
        f"[{component}] The class frequencies in {source} do not match the tag "
        f"set: they were computed for the labels {file_labels}, but the component "
        f"has the labels {labels}. Missing tags: {missing}. Unknown tags: {extra}. "
        "Recompute them with `python -m spacy_nerloss weights` on the training "
        "corpus."
    )
