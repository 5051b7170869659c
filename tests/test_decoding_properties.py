import numpy
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from spacy_nerloss.tags import make_tags, tags_to_spans, transition_scores, viterbi

LABELS = ("LOC", "PER")
VOCAB = spacy.blank("en").vocab


def is_valid(tags, scheme):
    """Check a tag sequence against the scheme's rules, independently of the
    decoder's transition table.
    """
    open_label = None
    for tag in tags:
        prefix, _, label = tag.partition("-")
        if prefix in ("I", "L"):
            if open_label != label:
                return False
        elif scheme == "BILUO" and open_label is not None:
            return False
        open_label = label if prefix in ("B", "I") else None
        if scheme == "BIO" and prefix == "O":
            open_label = None
    return scheme == "BIO" or open_label is None


def spans_to_bio(spans, length):
    tags = ["O"] * length
    for span in spans:
        tags[span.start] = f"B-{span.label_}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{span.label_}"
    return tags


@settings(max_examples=200, deadline=None)
@given(data=st.data(), scheme=st.sampled_from(["BIO", "BILUO"]))
def test_viterbi_output_is_always_valid(data, scheme):
    tags = make_tags(LABELS, scheme)
    lengths = data.draw(st.lists(st.integers(0, 12), min_size=1, max_size=4))
    values = st.floats(-20, 20, allow_nan=False, width=32)
    scores = [
        numpy.asarray(
            data.draw(st.lists(st.lists(values, min_size=len(tags), max_size=len(tags)), min_size=n, max_size=n)),
            dtype="float32",
        ).reshape(n, len(tags))
        for n in lengths
    ]
    paths = viterbi(scores, *transition_scores(tags, scheme))
    assert [len(path) for path in paths] == lengths
    for path in paths:
        decoded = [tags[i] for i in path]
        assert is_valid(decoded, scheme), decoded
        doc = Doc(VOCAB, words=["w"] * len(decoded))
        spans = tags_to_spans(doc, decoded)
        doc.ents = spans  # raises if spans overlap
        assert sum(len(span) for span in spans) == sum(tag != "O" for tag in decoded)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]), max_size=15))
def test_valid_bio_round_trips_through_spans(raw_tags):
    # Repair the random draw into valid BIO first: a stray I- becomes B-.
    tags = []
    for tag in raw_tags:
        if tag.startswith("I-") and (not tags or tags[-1][2:] != tag[2:] or tags[-1] == "O"):
            tag = "B-" + tag[2:]
        tags.append(tag)
    doc = Doc(VOCAB, words=["w"] * len(tags))
    spans = tags_to_spans(doc, tags)
    assert spans_to_bio(spans, len(tags)) == tags
