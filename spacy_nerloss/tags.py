"""Tag schemes (BIO, BILUO), gold tag extraction and constrained decoding."""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.tokens import Doc, Span
from spacy.training import Example

SCHEMES = {"BIO": ("B", "I"), "BILUO": ("B", "I", "L", "U")}
# BILUO prefix -> BIO prefix, used to read spaCy's aligned BILUO gold tags.
BILUO_TO_BIO = {"B": "B", "I": "I", "L": "I", "U": "B"}
# A transition score low enough to never win, but finite so sums stay finite.
FORBIDDEN = -1e30


def validate_scheme(scheme: str, component: str = "ner_tagger") -> None:
    if scheme not in SCHEMES:
        raise ValueError(
            f"[{component}] Invalid value for 'scheme': {scheme!r}. "
            f"Allowed values: {', '.join(SCHEMES)}."
        )


def make_tags(labels: Sequence[str], scheme: str) -> Tuple[str, ...]:
    """Build the tag set: "O" first, then every prefix of each label."""
    validate_scheme(scheme)
    prefixes = SCHEMES[scheme]
    return ("O",) + tuple(f"{p}-{label}" for label in labels for p in prefixes)


def split_tag(tag: str) -> Tuple[str, str]:
    """Split "B-PER" into ("B", "PER") and "O" into ("O", "")."""
    if tag == "O":
        return "O", ""
    prefix, _, label = tag.partition("-")
    return prefix, label


def gold_tags(example: Example, scheme: str) -> List[Optional[str]]:
    """Read the gold tags of an example, aligned to its predicted tokens.

    Tokens without entity annotation, and tokens that do not align to the
    reference tokenization, are None.
    """
    biluo = example.get_aligned_ner()
    if scheme == "BILUO":
        return [tag if tag not in ("-", "") else None for tag in biluo]
    tags: List[Optional[str]] = []
    for tag in biluo:
        if tag is None or tag in ("-", ""):
            tags.append(None)
        elif tag == "O":
            tags.append("O")
        else:
            prefix, label = split_tag(tag)
            tags.append(f"{BILUO_TO_BIO[prefix]}-{label}")
    return tags


def count_tags(examples: Iterable[Example], scheme: str) -> Dict[str, int]:
    """Count the gold tags of the examples, missing tags excluded."""
    counts: Dict[str, int] = {}
    for example in examples:
        for tag in gold_tags(example, scheme):
            if tag is not None:
                counts[tag] = counts.get(tag, 0) + 1
    return counts


def transition_scores(tags: Sequence[str], scheme: str):
    """Return (transitions, start, end) scores: 0 where allowed, FORBIDDEN elsewhere.

    transitions[i, j] scores tag j following tag i.
    """
    n = len(tags)
    parts = [split_tag(tag) for tag in tags]
    # In BIO an entity can always be closed; in BILUO it stays open after B or I.
    is_open = [scheme == "BILUO" and prefix in ("B", "I") for prefix, _ in parts]
    continues = [prefix in ("I", "L") for prefix, _ in parts]
    trans = numpy.full((n, n), FORBIDDEN, dtype="float32")
    for i, (prefix_i, label_i) in enumerate(parts):
        for j, (_, label_j) in enumerate(parts):
            if continues[j]:
                allowed = prefix_i in ("B", "I") and label_i == label_j
            else:
                allowed = not is_open[i]
            if allowed:
                trans[i, j] = 0.0
    start = numpy.where(continues, FORBIDDEN, 0.0).astype("float32")
    end = numpy.where(is_open, FORBIDDEN, 0.0).astype("float32")
    return trans, start, end


def viterbi(
    scores: Sequence[numpy.ndarray],
    trans: numpy.ndarray,
    start: numpy.ndarray,
    end: numpy.ndarray,
) -> List[numpy.ndarray]:
    """Find the highest-scoring valid tag sequence of each doc.

    scores (Sequence[numpy.ndarray]): Log-probabilities, one (n_tokens, n_tags)
        array per doc.
    RETURNS (List[numpy.ndarray]): The best tag ids of each doc.
    """
    lengths = numpy.asarray([len(s) for s in scores], dtype="int64")
    n_docs = len(scores)
    if n_docs == 0 or lengths.max() == 0:
        return [numpy.zeros((n,), dtype="int32") for n in lengths]
    n_tags = trans.shape[0]
    max_len = int(lengths.max())
    # All docs are decoded at once, padded to the longest one.
    emissions = numpy.zeros((n_docs, max_len, n_tags), dtype="float32")
    for i, doc_scores in enumerate(scores):
        emissions[i, : len(doc_scores)] = doc_scores
    backpointers = numpy.zeros((n_docs, max_len, n_tags), dtype="int32")
    delta = start[None, :] + emissions[:, 0]
    for t in range(1, max_len):
        candidates = delta[:, :, None] + trans[None, :, :]
        backpointers[:, t] = candidates.argmax(axis=1)
        updated = candidates.max(axis=1) + emissions[:, t]
        delta = numpy.where((t < lengths)[:, None], updated, delta)
    best_last = (delta + end[None, :]).argmax(axis=1)
    paths = numpy.zeros((n_docs, max_len), dtype="int32")
    rows = numpy.arange(n_docs)
    current = best_last.copy()
    for t in range(max_len - 1, -1, -1):
        current = numpy.where(t == lengths - 1, best_last, current)
        paths[:, t] = current
        if t > 0:
            current = backpointers[rows, t, current]
    return [paths[i, : lengths[i]] for i in range(n_docs)]


def tags_to_spans(doc: Doc, tags: Sequence[str]) -> List[Span]:
    """Turn a BIO or BILUO tag sequence into entity spans.

    The constrained decoder only produces valid sequences. For other input, a
    stray I- or L- tag opens a new entity, as in IOB1.
    """
    spans: List[Span] = []
    start: Optional[int] = None
    label = ""
    for i, tag in enumerate(tags):
        prefix, tag_label = split_tag(tag)
        continues = prefix in ("I", "L") and start is not None and tag_label == label
        if not continues:
            if start is not None:
                spans.append(Span(doc, start, i, label=label))
            start = None if prefix == "O" else i
            label = tag_label
        if prefix in ("L", "U") and start is not None:
            spans.append(Span(doc, start, i + 1, label=label))
            start = None
    if start is not None:
        spans.append(Span(doc, start, len(tags), label=label))
    return spans
