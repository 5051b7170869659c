import shutil

import numpy
import pytest
import spacy
import srsly
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
    path = tmp_path / "freq.json"
    srsly.write_json(path, content)
    nlp = small_nlp()
    with pytest.raises(ValueError, match=match):
        nlp.get_pipe("ner_tagger").initialize(
            lambda: make_examples(nlp), nlp=nlp, class_frequencies=str(path)
        )


# The counts of a weights file computed on a corpus with GPE and PER entities.
OTHER_LABEL_COUNTS = {"O": 9, "B-GPE": 2, "I-GPE": 0, "B-PER": 3, "I-PER": 1}


@pytest.mark.parametrize(
    "data,match",
    [
        (
            b'{"scheme": "BIO", "counts": {"O": 3',
            r"\[ner_tagger\] Invalid JSON in the class frequency file .*freq\.json",
        ),
        (
            b"\xff\xfe{}",
            r"\[ner_tagger\] Invalid JSON in the class frequency file .*freq\.json",
        ),
        (
            b'{"scheme": "BIO", "counts": ["O", "B-LOC"]}',
            r"'counts' must map each tag to its count, got a list",
        ),
        (
            srsly.json_dumps({"scheme": "BIO", "counts": OTHER_LABEL_COUNTS}).encode(),
            r"computed for the labels \['GPE', 'PER'\], but the component has the "
            r"labels \['LOC', 'ORG', 'PER'\]\. Missing tags: \['B-LOC', 'I-LOC', "
            r"'B-ORG', 'I-ORG'\]\. Unknown tags: \['B-GPE', 'I-GPE'\]",
        ),
    ],
    ids=["truncated", "utf16-bom", "counts-list", "other-labels"],
)
def test_unreadable_class_frequencies(tmp_path, data, match):
    path = tmp_path / "freq.json"
    path.write_bytes(data)
    nlp = small_nlp()
    with pytest.raises(ValueError, match=match):
        nlp.get_pipe("ner_tagger").initialize(
            lambda: make_examples(nlp), nlp=nlp, class_frequencies=str(path)
        )


def test_class_frequencies_path_is_folder(tmp_path):
    nlp = small_nlp()
    with pytest.raises(ValueError, match=r"class frequency path .* is a folder"):
        nlp.get_pipe("ner_tagger").initialize(
            lambda: make_examples(nlp), nlp=nlp, class_frequencies=str(tmp_path)
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


def trained_nlp(kind, tiny_transformer, n_updates=30):
    """Train a tok2vec or tiny-transformer pipeline until it predicts entities."""
    fix_random_seed(0)
    nlp = small_nlp() if kind == "tok2vec" else transformer_nlp(tiny_transformer)
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    optimizer.learn_rate = 0.003
    for _ in range(n_updates):
        nlp.update(examples, sgd=optimizer)
    return nlp


def predictions(nlp, texts):
    """Return the entities and the tagger's logits for the texts."""
    docs = list(nlp.pipe(texts))
    logits = nlp.get_pipe("ner_tagger").model.predict(docs)
    return [ents_of(doc) for doc in docs], logits


@pytest.mark.parametrize("kind", ["tok2vec", "transformer"])
@pytest.mark.parametrize("method", ["bytes", "disk"])
def test_round_trip_same_predictions(tiny_transformer, tmp_path, kind, method):
    nlp = trained_nlp(kind, tiny_transformer)
    texts = [text for text, _ in TRAIN_DATA] + ["anna met bob in rome"]
    expected_ents, expected_logits = predictions(nlp, texts)
    # Identical entity lists are only informative if there are entities.
    assert any(expected_ents)
    if method == "bytes":
        data = nlp.to_bytes()
        reloaded = spacy.util.load_model_from_config(nlp.config, auto_fill=True)
        reloaded.from_bytes(data)
    else:
        nlp.to_disk(tmp_path / "pipeline")
        reloaded = spacy.load(tmp_path / "pipeline")
    ents, logits = predictions(reloaded, texts)
    assert ents == expected_ents
    for got, expected in zip(logits, expected_logits):
        numpy.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def saved_pipeline(tmp_path_factory):
    """Save an initialized tok2vec pipeline once and return its folder. Tests
    copy the folder before they change it.
    """
    fix_random_seed(0)
    nlp = small_nlp()
    nlp.initialize(lambda: make_examples(nlp))
    path = tmp_path_factory.mktemp("saved") / "pipeline"
    nlp.to_disk(path)
    return path


def corrupt(saved, tmp_path, name, change):
    """Copy the saved pipeline, apply `change` to the bytes of one file in its
    ner_tagger folder and return the folder of the copy.
    """
    path = tmp_path / "pipeline"
    shutil.copytree(saved, path)
    target = path / "ner_tagger" / name
    target.write_bytes(change(target.read_bytes()))
    return path


@pytest.mark.parametrize(
    "name,change,match",
    [
        ("model", lambda b: b[: len(b) // 2], r"model: the file is truncated"),
        ("model", lambda b: b[:1], r"model: the file is truncated"),
        ("model", lambda b: b"", r"model: the file is truncated"),
        ("model", lambda b: bytes(range(256)) * 4, r"model: the file is truncated"),
        ("model", lambda b: b"\x01", r"model: the file is truncated"),
        ("cfg", lambda b: b[: len(b) // 2], r"cfg: invalid JSON"),
        ("cfg", lambda b: b"", r"cfg: invalid JSON"),
        ("cfg", lambda b: b"\xff\xfe\x00garbage", r"cfg: invalid JSON"),
        ("cfg", lambda b: b"[1, 2]", r"cfg: expected a JSON object, got a list"),
        (
            "cfg",
            lambda b: b.replace(b'"BIO"', b'"IOBES"'),
            r"Invalid 'scheme' in .*cfg: 'IOBES'\. Allowed values: BIO, BILUO\.",
        ),
        (
            "cfg",
            lambda b: b.replace(b'"ORG",', b""),
            r"The model weights in .*model have 7 output tags, but the 2 labels and "
            r"scheme 'BIO' in .*cfg make 5 tags",
        ),
        (
            "cfg",
            lambda b: b.replace(b'"LOC",', b"").replace(b'"PER"', b'"PER",\n"LOC"'),
            r"Invalid 'labels' in .*cfg: \['ORG', 'PER', 'LOC'\]\. Expected the "
            r"sorted list",
        ),
        (
            "cfg",
            lambda b: b.replace(b'"I-ORG":', b'"I-MISC":'),
            r"Invalid 'tag_counts' in .*cfg: expected one count for each of the tags",
        ),
    ],
    ids=[
        "model-half",
        "model-one-byte",
        "model-empty",
        "model-garbage",
        "model-not-a-map",
        "cfg-half",
        "cfg-empty",
        "cfg-garbage",
        "cfg-list",
        "cfg-scheme",
        "cfg-label-removed",
        "cfg-labels-unsorted",
        "cfg-counts-other-tags",
    ],
)
def test_corrupt_component_file_names_it(saved_pipeline, tmp_path, name, change, match):
    path = corrupt(saved_pipeline, tmp_path, name, change)
    with pytest.raises(ValueError, match=r"^\[ner_tagger\] .*" + match):
        spacy.load(path)


@pytest.mark.parametrize("name", ["cfg", "model"])
def test_missing_component_file_names_it(saved_pipeline, tmp_path, name):
    path = tmp_path / "pipeline"
    shutil.copytree(saved_pipeline, path)
    (path / "ner_tagger" / name).unlink()
    match = rf"\[ner_tagger\] Cannot load the component: .*ner_tagger/{name} is missing"
    with pytest.raises(ValueError, match=match):
        spacy.load(path)


def test_truncated_model_at_any_length_fails(saved_pipeline, tmp_path):
    # msgpack can stop at any byte, so cut the weights at many points.
    folder = tmp_path / "ner_tagger"
    shutil.copytree(saved_pipeline / "ner_tagger", folder)
    data = (folder / "model").read_bytes()
    cuts = list(range(64)) + list(range(64, len(data), max(1, len(data) // 50)))
    for cut in cuts:
        (folder / "model").write_bytes(data[:cut])
        tagger = small_nlp().get_pipe("ner_tagger")
        with pytest.raises(ValueError, match=r"^\[ner_tagger\] Cannot load the model"):
            tagger.from_disk(folder, exclude=["vocab"])


def test_truncated_component_bytes_fail(saved_pipeline):
    tagger_bytes = spacy.load(saved_pipeline).get_pipe("ner_tagger").to_bytes()
    tagger = small_nlp().get_pipe("ner_tagger")
    match = r"^\[ner_tagger\] Cannot load the component from bytes: the data is trunc"
    with pytest.raises(ValueError, match=match):
        tagger.from_bytes(tagger_bytes[: len(tagger_bytes) // 2])


def test_label_unseen_at_initialize_in_update():
    nlp = small_nlp()
    optimizer = nlp.initialize(lambda: make_examples(nlp))
    doc = nlp.make_doc("bob works at nasa")
    example = Example.from_dict(doc, {"entities": [(0, 3, "PER"), (13, 17, "ORGX")]})
    match = (
        r"\[ner_tagger\] The training examples contain the labels \['ORGX'\], which "
        r"the component was not initialized with "
        r"\(its labels: \['LOC', 'ORG', 'PER'\]\)"
    )
    with pytest.raises(ValueError, match=match):
        nlp.update([example], sgd=optimizer)


def test_dev_label_unseen_in_train_is_scored():
    # Labels come from the training data only. A dev-only label is scored as
    # missed, and evaluating does not change the component.
    nlp = small_nlp()
    nlp.initialize(lambda: make_examples(nlp))
    doc = nlp.make_doc("bob works at nasa")
    dev = [Example.from_dict(doc, {"entities": [(0, 3, "PER"), (13, 17, "SPACE")]})]
    scores = nlp.evaluate(dev)
    assert scores["ents_per_type"]["SPACE"]["r"] == pytest.approx(0.0)
    assert nlp.get_pipe("ner_tagger").labels == ("LOC", "ORG", "PER")


@pytest.mark.parametrize("scheme,tag", [("BIO", "B-PER"), ("BILUO", "U-PER")])
def test_one_token_docs_train_and_predict(scheme, tag):
    fix_random_seed(0)
    nlp = small_nlp(scheme)
    data = [("bob", {"entities": [(0, 3, "PER")]}), ("sun", {"entities": []})]
    examples = make_examples(nlp, data)
    optimizer = nlp.initialize(lambda: examples)
    tagger = nlp.get_pipe("ner_tagger")
    assert tagger.cfg["tag_counts"][tag] == 1
    for _ in range(30):
        losses = nlp.update(examples, sgd=optimizer, losses={})
    assert numpy.isfinite(losses["ner_tagger"])
    assert [ents_of(doc) for doc in nlp.pipe(["bob", "sun"])] == [[("bob", "PER")], []]


def test_initialize_with_empty_docs_first():
    # initialize shows the first 10 examples to the model to infer its shapes.
    nlp = small_nlp()
    empty = [Example.from_dict(nlp.make_doc(""), {"entities": []}) for _ in range(12)]
    optimizer = nlp.initialize(lambda: empty + make_examples(nlp))
    losses = nlp.update(make_examples(nlp), sgd=optimizer, losses={})
    assert losses["ner_tagger"] > 0
    assert nlp.get_pipe("ner_tagger").model.get_dim("nO") == 7


def test_all_o_and_all_missing_batches():
    fix_random_seed(0)
    nlp = small_nlp()
    optimizer = nlp.initialize(lambda: make_examples(nlp))
    tagger = nlp.get_pipe("ner_tagger")
    all_o = Example.from_dict(nlp.make_doc("the sun is hot"), {"entities": []})
    # No "entities" key: every token is unannotated, not O.
    missing = Example.from_dict(nlp.make_doc("bob smith lives here"), {})
    losses = nlp.update([all_o], sgd=optimizer, losses={})
    assert 0 < losses["ner_tagger"] < 10
    scores, _ = tagger.model.begin_update([missing.predicted])
    loss, d_scores = tagger.get_loss([missing], scores)
    assert loss == 0.0
    assert not numpy.any(d_scores[0])
    losses = nlp.update([missing], sgd=optimizer, losses={})
    assert losses["ner_tagger"] == 0.0


def test_doc_longer_than_transformer_window(tiny_transformer):
    # 200 tokens: longer than the 16-wordpiece window and than the 128 positions
    # of the tiny BERT, so only the strided span getter lets it through.
    fix_random_seed(0)
    nlp = transformer_nlp(tiny_transformer)
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    words = ("bob smith lives in paris and the sun is hot today " * 20).split()[:200]
    text = " ".join(words)
    entities = [(i * 50, i * 50 + 9, "PER") for i in range(4)]
    long_example = Example.from_dict(nlp.make_doc(text), {"entities": entities})
    spans = [long_example.reference.text[s:e] for s, e, _ in entities]
    assert spans == ["bob smith"] * 4
    for _ in range(3):
        losses = nlp.update([long_example] + examples, sgd=optimizer, losses={})
    assert numpy.isfinite(losses["ner_tagger"])
    assert losses["ner_tagger"] > 0
    doc = nlp(text)
    assert len(doc) == 200
    assert len(doc._.trf_data.model_output.last_hidden_state) > 1
    tag_ids = nlp.get_pipe("ner_tagger").predict([doc])
    assert len(tag_ids[0]) == 200


def set_params_to_nan(model):
    for node in model.walk():
        for name in node.param_names:
            if node.has_param(name):
                node.set_param(name, node.get_param(name) * numpy.nan)


def test_nan_loss_stops_training():
    nlp = small_nlp()
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    set_params_to_nan(nlp.get_pipe("ner_tagger").model)
    match = r"^\[ner_tagger\] The loss is nan, so training stopped"
    with pytest.raises(ValueError, match=match):
        nlp.update(examples, sgd=optimizer)


def test_nan_model_fails_to_predict():
    nlp = small_nlp()
    nlp.initialize(lambda: make_examples(nlp))
    set_params_to_nan(nlp.get_pipe("ner_tagger").model)
    match = r"^\[ner_tagger\] The model returned NaN or infinite scores for 3 of 3"
    with pytest.raises(ValueError, match=match):
        nlp("bob in paris")


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("value", [1e4, 6e4])
def test_decode_extreme_logits(dtype, value):
    # One tag per token gets +value and the others -value, so the
    # log-probabilities are 0 and about -2 * value. 6e4 is close to the
    # float16 maximum of 65504.
    nlp = small_nlp()
    nlp.initialize(lambda: make_examples(nlp))
    tagger = nlp.get_pipe("ner_tagger")

    def decode(peaks):
        logits = numpy.full((len(peaks), len(tagger.tags)), -value, dtype=dtype)
        for row, tag in enumerate(peaks):
            logits[row, tagger.tags.index(tag)] = value
        (tag_ids,) = tagger.decode([logits])
        return [tagger.tags[i] for i in tag_ids]

    valid = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "B-ORG"]
    assert decode(valid) == valid
    # I-LOC after O is not allowed, so the decoder must leave that peak.
    invalid = ["B-PER", "I-PER", "O", "I-LOC", "B-ORG"]
    decoded = decode(invalid)
    assert decoded[3] != "I-LOC" or decoded[2] in ("B-LOC", "I-LOC")
    assert decoded[:2] == ["B-PER", "I-PER"]
    assert decoded[4] == "B-ORG"


@pytest.mark.parametrize("bad", [numpy.nan, numpy.inf], ids=["nan", "inf"])
def test_decode_rejects_non_finite_logits(bad):
    nlp = small_nlp()
    nlp.initialize(lambda: make_examples(nlp))
    tagger = nlp.get_pipe("ner_tagger")
    logits = numpy.zeros((4, len(tagger.tags)), dtype="float16")
    logits[2, 3] = bad
    with pytest.raises(ValueError, match=r"NaN or infinite scores for 1 of 4 tokens"):
        tagger.decode([logits])


def test_labels_given_as_string():
    nlp = small_nlp()
    match = r"Invalid value for 'labels': 'PER'\. Expected a list of entity labels"
    with pytest.raises(ValueError, match=match):
        nlp.get_pipe("ner_tagger").initialize(
            lambda: make_examples(nlp), nlp=nlp, labels="PER"
        )
