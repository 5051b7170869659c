import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Config, fix_random_seed


TRAIN_DATA = [
    ("bob smith lives in paris", {"entities": [(0, 9, "PER"), (19, 24, "LOC")]}),
    ("i like london and berlin", {"entities": [(7, 13, "LOC"), (18, 24, "LOC")]}),
    ("anna works at acme corp", {"entities": [(0, 4, "PER"), (14, 23, "ORG")]}),
    ("we met mary near rome", {"entities": [(7, 11, "PER"), (17, 21, "LOC")]}),
    ("the sun is hot today", {"entities": []}),
]
EXPECTED_ENTS = [
    [("bob smith", "PER"), ("paris", "LOC")],
    [("london", "LOC"), ("berlin", "LOC")],
    [("anna", "PER"), ("acme corp", "ORG")],
    [("mary", "PER"), ("rome", "LOC")],
    [],
]

TRANSFORMER_CONFIG = """
[nlp]
lang = "en"
pipeline = ["transformer", "ner_tagger"]

[components]

[components.transformer]
factory = "transformer"

[components.transformer.model]
@architectures = "spacy-transformers.TransformerModel.v3"
name = null
mixed_precision = false

[components.transformer.model.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 16
stride = 12

[components.transformer.model.tokenizer_config]
use_fast = true

[components.ner_tagger]
factory = "ner_tagger"
scheme = "BIO"

[components.ner_tagger.loss]
@losses = "spacy_nerloss.focal.v1"
gamma = 2.0
alpha = null

[components.ner_tagger.model]
@architectures = "spacy.Tagger.v2"
nO = null

[components.ner_tagger.model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "*"

[components.ner_tagger.model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""


def make_examples(nlp, data=TRAIN_DATA):
    return [Example.from_dict(nlp.make_doc(text), annots) for text, annots in data]


def ents_of(doc):
    return [(ent.text, ent.label_) for ent in doc.ents]


def transformer_nlp(model_path, scheme="BIO", loss="spacy_nerloss.focal.v1"):
    config = Config().from_str(TRANSFORMER_CONFIG)
    config["components"]["transformer"]["model"]["name"] = str(model_path)
    config["components"]["ner_tagger"]["scheme"] = scheme
    config["components"]["ner_tagger"]["loss"] = {"@losses": loss}
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)


@pytest.mark.parametrize(
    "scheme,loss",
    [("BIO", "spacy_nerloss.focal.v1"), ("BILUO", "spacy_nerloss.cross_entropy.v1")],
)
def test_overfit_tiny_transformer(tiny_transformer, tmp_path, scheme, loss):
    fix_random_seed(0)
    nlp = transformer_nlp(tiny_transformer, scheme, loss)
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    optimizer.learn_rate = 0.003
    for _ in range(60):
        losses = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
    assert losses["ner_tagger"] < 0.05
    predicted = [ents_of(doc) for doc in nlp.pipe(text for text, _ in TRAIN_DATA)]
    assert predicted == EXPECTED_ENTS

    scores = nlp.evaluate(examples)
    assert scores["ents_f"] == pytest.approx(1.0)
    assert set(scores["ents_per_type"]) == {"PER", "LOC", "ORG"}

    nlp.to_disk(tmp_path / "pipeline")
    reloaded = spacy.load(tmp_path / "pipeline")
    assert reloaded.get_pipe("ner_tagger").scheme == scheme
    assert [ents_of(doc) for doc in reloaded.pipe(t for t, _ in TRAIN_DATA)] == predicted


def small_nlp(scheme="BIO", loss=None):
    nlp = spacy.blank("en")
    config = {"scheme": scheme}
    if loss is not None:
        config["loss"] = loss
    nlp.add_pipe("ner_tagger", config=config)
    return nlp


def test_bytes_round_trip_gives_same_predictions():
    fix_random_seed(0)
    nlp = small_nlp()
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(20):
        nlp.update(examples, sgd=optimizer)
    reloaded = small_nlp()
    reloaded.from_bytes(nlp.to_bytes())
    tagger = nlp.get_pipe("ner_tagger")
    copy = reloaded.get_pipe("ner_tagger")
    assert copy.labels == tagger.labels
    assert copy.cfg["tag_counts"] == tagger.cfg["tag_counts"]
    numpy.testing.assert_array_equal(copy.loss.weights, tagger.loss.weights)
    texts = [text for text, _ in TRAIN_DATA]
    assert [ents_of(d) for d in reloaded.pipe(texts)] == [ents_of(d) for d in nlp.pipe(texts)]


def test_empty_docs_in_batch():
    fix_random_seed(0)
    nlp = small_nlp()
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    empty = Example.from_dict(nlp.make_doc(""), {"entities": []})
    losses = nlp.update([empty], sgd=optimizer, losses={})
    assert losses["ner_tagger"] == 0.0
    losses = nlp.update(examples + [empty], sgd=optimizer, losses={})
    assert losses["ner_tagger"] > 0.0
    docs = list(nlp.pipe(["", "bob smith", ""]))
    assert [len(doc.ents) for doc in (docs[0], docs[2])] == [0, 0]


def test_partial_annotation_masks_missing_tokens():
    nlp = small_nlp()
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    tagger = nlp.get_pipe("ner_tagger")
    # "smith lives" is unannotated, which spaCy writes as "-" in BILUO.
    doc = nlp.make_doc("bob smith lives in paris")
    partial = Example.from_dict(
        doc, {"entities": ["U-PER", "-", "-", "O", "U-LOC"]}
    )
    scores, _ = tagger.model.begin_update([partial.predicted])
    _, d_scores = tagger.get_loss([partial], scores)
    row_has_grad = numpy.abs(d_scores[0]).sum(axis=1) > 0
    assert row_has_grad.tolist() == [True, False, False, True, True]


@pytest.mark.parametrize(
    "content,match",
    [
        ({"scheme": "BILUO", "counts": {}}, r"computed for scheme 'BILUO'"),
        ({"scheme": "BIO", "counts": {"O": 3}}, r"Missing tags: \['B-LOC'"),
        ({"counts": {"O": 3}}, r"expected a JSON object with 'scheme' and 'counts'"),
        (
            {"scheme": "BIO", "counts": {"O": -1, "B-LOC": 1, "I-LOC": 0, "B-PER": 1, "I-PER": 1, "B-ORG": 1, "I-ORG": 1}},
            r"Invalid count for tag 'O': -1",
        ),
    ],
)
def test_bad_class_frequencies(tmp_path, content, match):
    import srsly

    path = tmp_path / "freq.json"
    srsly.write_json(path, content)
    nlp = small_nlp()
    with pytest.raises(ValueError, match=match):
        nlp.get_pipe("ner_tagger").initialize(
            lambda: make_examples(nlp), nlp=nlp, class_frequencies=str(path)
        )


def test_missing_class_frequencies_file(tmp_path):
    nlp = small_nlp()
    with pytest.raises(ValueError, match=r"Class frequency file not found: .*nope\.json"):
        nlp.get_pipe("ner_tagger").initialize(
            lambda: make_examples(nlp), nlp=nlp, class_frequencies=str(tmp_path / "nope.json")
        )


def test_add_label_after_initialize_is_an_error():
    nlp = small_nlp()
    nlp.initialize(lambda: make_examples(nlp))
    with pytest.raises(ValueError, match=r"Cannot add label 'MISC'"):
        nlp.get_pipe("ner_tagger").add_label("MISC")


def test_invalid_scheme():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match=r"Invalid value for 'scheme': 'IOBES'\. Allowed values: BIO, BILUO"):
        nlp.add_pipe("ner_tagger", config={"scheme": "IOBES"})


def test_no_entities_is_an_error():
    nlp = small_nlp()
    examples = make_examples(nlp, [("the sun is hot", {"entities": []})])
    with pytest.raises(ValueError, match=r"No entity labels found"):
        nlp.initialize(lambda: examples)


@pytest.mark.parametrize("scheme", ["BIO", "BILUO"])
def test_decoded_ents_are_valid_for_random_scores(scheme):
    # An untrained model gives near-random scores, which must still decode
    # into well-formed, non-overlapping spans.
    fix_random_seed(3)
    nlp = small_nlp(scheme)
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    tagger = nlp.get_pipe("ner_tagger")
    rng = numpy.random.default_rng(0)
    docs = [Doc(nlp.vocab, words=["w"] * n) for n in (1, 7, 30)]
    logits = [rng.normal(0, 3, size=(len(d), len(tagger.tags))).astype("float32") for d in docs]
    tag_ids = tagger.decode(logits)
    tagger.set_annotations(docs, tag_ids)
    for doc, ids in zip(docs, tag_ids):
        tags = [tagger.tags[i] for i in ids]
        assert not tags[0].startswith(("I-", "L-"))
        for prev, cur in zip(tags, tags[1:]):
            if cur.startswith(("I-", "L-")):
                assert prev[2:] == cur[2:]
                assert prev[0] in "BI"
        if scheme == "BILUO":
            assert not tags[-1].startswith(("B-", "I-"))
        assert sum(len(ent) for ent in doc.ents) == sum(tag != "O" for tag in tags)


def test_examples_with_labels_outside_given_labels():
    nlp = small_nlp()
    with pytest.raises(ValueError, match=r"contain labels missing from the given labels: \['ORG'\]"):
        nlp.get_pipe("ner_tagger").initialize(
            lambda: make_examples(nlp), nlp=nlp, labels=["LOC", "PER"]
        )


@pytest.mark.parametrize(
    "tags,expected",
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
        (["B-PER", "B-PER", "I-PER"], [(0, 1, "PER"), (1, 3, "PER")]),
        (["U-PER", "B-LOC", "I-LOC", "L-LOC", "O"], [(0, 1, "PER"), (1, 4, "LOC")]),
        (["B-LOC", "L-LOC", "U-LOC"], [(0, 2, "LOC"), (2, 3, "LOC")]),
        # Not produced by the decoder: a stray I- or a label change opens an entity.
        (["O", "I-PER", "I-LOC"], [(1, 2, "PER"), (2, 3, "LOC")]),
        (["O", "O"], []),
    ],
)
def test_tags_to_spans(tags, expected):
    from spacy_nerloss.tags import tags_to_spans

    doc = Doc(spacy.blank("en").vocab, words=["w"] * len(tags))
    spans = tags_to_spans(doc, tags)
    assert [(s.start, s.end, s.label_) for s in spans] == expected
