"""A catalogue of bad inputs: malformed column files, config values, class
frequency files, training docs and saved pipelines.

Each row of ERRORS names the input and the whole error message a user gets.
Each row of CLI_ERRORS gives the message a command prints before it exits
with status 1. Each row of ACCEPTED is a messy input that is read as intended
instead of raising, with the result. `{tmp}` in a message stands for the
test's temporary folder. Only tok2vec pipelines are used, to keep this fast.
"""
import re

import numpy
import pytest
import spacy
import srsly
from spacy.training import Example
from thinc.api import fix_random_seed, registry
from typer.testing import CliRunner

from spacy_nerloss.cli import app
from spacy_nerloss.corpus import read_conll

TRAIN_DATA = [
    ("bob smith lives in paris", {"entities": [(0, 9, "PER"), (19, 24, "LOC")]}),
    ("anna works at acme corp", {"entities": [(0, 4, "PER"), (14, 23, "ORG")]}),
]
TAGS = "['O', 'B-LOC', 'I-LOC', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER']"
COUNTS = {
    "O": 6, "B-LOC": 1, "I-LOC": 0, "B-ORG": 1, "I-ORG": 1, "B-PER": 2, "I-PER": 1
}  # fmt: skip
INVALID_TAG = (
    "Expected 'O', or 'B-' or 'I-' followed by a label (IOB1 or IOB2). Other "
    "schemes, such as BILUO or IOBES with 'S-', 'E-', 'L-' or 'U-' tags, are not "
    "supported."
)
REWRITE_WEIGHTS = (
    "Write it with `python -m spacy_nerloss weights` on the training corpus."
)


def make_nlp(config=None):
    nlp = spacy.blank("en")
    nlp.add_pipe("ner_tagger", config=config or {})
    return nlp


def make_examples(nlp, data=TRAIN_DATA):
    return [Example.from_dict(nlp.make_doc(text), annots) for text, annots in data]


def initialized_nlp(config=None):
    fix_random_seed(0)
    nlp = make_nlp(config)
    optimizer = nlp.initialize(lambda: make_examples(nlp))
    return nlp, optimizer


# Each runner takes the input of a row and the temporary folder.


def read_file(data, tmp):
    path = tmp / "data.conll"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return read_conll(path, spacy.blank("en").vocab)


def read_file_with_n_sents(n_sents, tmp):
    path = tmp / "data.conll"
    path.write_text("a\tO\n", encoding="utf-8")
    return read_conll(path, spacy.blank("en").vocab, n_sents=n_sents)


def add_component(config, tmp):
    make_nlp(config)


def resolve_loss(block, tmp):
    registry.resolve({"loss": block})


def initialize_with_loss(block, tmp):
    initialized_nlp({"loss": block})


def initialize_with(settings, tmp):
    nlp = make_nlp()
    data = settings.pop("data", TRAIN_DATA)
    examples = make_examples(nlp, data)
    nlp.get_pipe("ner_tagger").initialize(lambda: examples, nlp=nlp, **settings)


def initialize_with_frequencies(content, tmp):
    """Write `content` (bytes, or an object to write as JSON) to freq.json and
    initialize with it. A str is used as the path itself.
    """
    if isinstance(content, str):
        path = tmp / content
    else:
        path = tmp / "freq.json"
        data = content if isinstance(content, bytes) else srsly.json_dumps(content)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    initialize_with({"class_frequencies": str(path)}, tmp)


def update_with(data, tmp):
    nlp, optimizer = initialized_nlp()
    nlp.update(make_examples(nlp, data), sgd=optimizer)


def add_label_after_initialize(label, tmp):
    nlp, _ = initialized_nlp()
    nlp.get_pipe("ner_tagger").add_label(label)


def update_with_nan_weights(_, tmp):
    nlp, optimizer = initialized_nlp()
    model = nlp.get_pipe("ner_tagger").model
    for node in model.walk():
        for name in node.param_names:
            if node.has_param(name):
                node.set_param(name, node.get_param(name) * numpy.nan)
    nlp.update(make_examples(nlp), sgd=optimizer)


def load_changed_pipeline(change, tmp):
    """Save an initialized pipeline, change one file of its ner_tagger folder
    and load it. `change` is (file name, function from old to new bytes), with
    None as the new bytes to delete the file.
    """
    nlp, _ = initialized_nlp()
    nlp.to_disk(tmp / "pipeline")
    name, edit = change
    target = tmp / "pipeline" / "ner_tagger" / name
    data = edit(target.read_bytes())
    if data is None:
        target.unlink()
    else:
        target.write_bytes(data)
    spacy.load(tmp / "pipeline")


def focal(**settings):
    return {"@losses": "spacy_nerloss.focal.v1", **settings}


ERRORS = [
    # Column files.
    pytest.param(
        read_file,
        "EU NNP B-NP B-ORG\nrejects VBZ O\n",
        "{tmp}/data.conll:2: expected 4 columns, as in line 1, but found 3 in "
        "'rejects VBZ O'.",
        id="conll-fewer-columns",
    ),
    pytest.param(
        read_file,
        "token\n",
        "{tmp}/data.conll:1: expected at least 2 columns (token and tag), found 1 "
        "in 'token'.",
        id="conll-one-column",
    ),
    pytest.param(
        read_file,
        "a\tO\nb\t\tO\n",
        "{tmp}/data.conll:2: expected 2 columns, as in line 1, but found 3 in "
        "'b\\t\\tO'.",
        id="conll-double-tab",
    ),
    pytest.param(
        read_file,
        "a\tO\n# text = b\nb\tO\n",
        "{tmp}/data.conll:2: expected 2 columns, as in line 1, but found 1 in "
        "'# text = b'.",
        id="conll-comment-line",
    ),
    pytest.param(
        read_file,
        "John\tS-PER\n",
        f"{{tmp}}/data.conll:1: invalid tag 'S-PER'. {INVALID_TAG}",
        id="conll-iobes-tag",
    ),
    pytest.param(
        read_file,
        "John\tO\nSmith\tb-PER\n",
        f"{{tmp}}/data.conll:2: invalid tag 'b-PER'. {INVALID_TAG}",
        id="conll-lowercase-prefix",
    ),
    pytest.param(
        read_file,
        "John\t0\n",
        f"{{tmp}}/data.conll:1: invalid tag '0'. {INVALID_TAG}",
        id="conll-digit-zero-tag",
    ),
    pytest.param(
        read_file,
        "John\tB-\n",
        f"{{tmp}}/data.conll:1: invalid tag 'B-'. {INVALID_TAG}",
        id="conll-prefix-without-label",
    ),
    pytest.param(
        read_file,
        "a\tO\n\ufeff\tO\n",
        "{tmp}/data.conll:2: empty token in '\\tO'.",
        id="conll-token-only-bom",
    ),
    pytest.param(
        read_file,
        b"a\tO\ncaf\xe9\tO\n",
        "{tmp}/data.conll:2: invalid UTF-8 (invalid continuation byte).",
        id="conll-latin1",
    ),
    pytest.param(
        read_file,
        "a\tO\n".encode("utf-16"),
        "{tmp}/data.conll:1: invalid UTF-8 (invalid start byte).",
        id="conll-utf16",
    ),
    pytest.param(
        read_file_with_n_sents,
        0,
        "Invalid value for 'n_sents': 0. Expected an integer >= 1.",
        id="conll-n-sents-zero",
    ),
    # Component and loss settings.
    pytest.param(
        add_component,
        {"scheme": "bio"},
        "[ner_tagger] Invalid value for 'scheme': 'bio'. Allowed values: BIO, BILUO.",
        id="scheme-lowercase",
    ),
    pytest.param(
        add_component,
        {"scheme": "BIOES"},
        "[ner_tagger] Invalid value for 'scheme': 'BIOES'. Allowed values: BIO, "
        "BILUO.",
        id="scheme-bioes",
    ),
    pytest.param(
        add_component,
        {"loss": {"@losses": "spacy_nerloss.focall.v1"}},
        "[E893] Could not find function 'spacy_nerloss.focall.v1' in function "
        "registry 'losses'.",
        id="loss-name-typo",
    ),
    pytest.param(
        add_component,
        {"loss": {"@losses": "CategoricalCrossentropy.v3"}},
        "[ner_tagger] Invalid value for 'loss': CategoricalCrossentropy. Use a loss "
        'registered by spacy_nerloss, e.g. {"@losses": "spacy_nerloss.focal.v1"}.',
        id="loss-from-thinc",
    ),
    pytest.param(
        add_component,
        {"loss": focal(gama=2.0)},
        "ner_tagger.loss -> gama\tunexpected argument: 'gama'",
        id="loss-key-typo",
    ),
    pytest.param(
        add_component,
        {"loss": {"@losses": "spacy_nerloss.dice.v1", "alpha": [1.0, 2.0]}},
        "ner_tagger.loss -> alpha\tat root: [1.0, 2.0] is not <class 'float'>",
        id="dice-alpha-as-focal-list",
    ),
    pytest.param(
        add_component,
        {"loss": focal(gamma=-1)},
        "[spacy_nerloss.focal.v1] Invalid value for 'gamma': -1. Allowed: a finite "
        "number >= 0.",
        id="focal-gamma-negative",
    ),
    pytest.param(
        resolve_loss,
        focal(weighting="effective"),
        "[spacy_nerloss.focal.v1] Invalid value for 'weighting': 'effective'. "
        "Allowed values: none, inverse, inverse_sqrt. For effective-number weights "
        "use spacy_nerloss.class_balanced.v1, which has a 'beta' setting.",
        id="focal-effective-weighting",
    ),
    pytest.param(
        resolve_loss,
        {"@losses": "spacy_nerloss.class_balanced.v1", "beta": 1.0},
        "[spacy_nerloss.class_balanced.v1] Invalid value for 'beta': 1.0. Allowed: "
        "a number in [0, 1).",
        id="class-balanced-beta-one",
    ),
    pytest.param(
        resolve_loss,
        {"@losses": "spacy_nerloss.label_smoothing.v1", "smoothing": 1.0},
        "[spacy_nerloss.label_smoothing.v1] Invalid value for 'smoothing': 1.0. "
        "Allowed: a number in [0, 1).",
        id="label-smoothing-one",
    ),
    pytest.param(
        initialize_with_loss,
        focal(alpha=[1.0, 2.0]),
        "[spacy_nerloss.focal.v1] 'alpha' has 2 entries but the tag set has 7 tags: "
        f"{TAGS}. Give one value per tag in this order, or set alpha = null to "
        "compute weights from the training counts.",
        id="focal-alpha-wrong-length",
    ),
    # [initialize.components.ner_tagger] settings.
    pytest.param(
        initialize_with,
        {"labels": "PER"},
        "[ner_tagger] Invalid value for 'labels': 'PER'. Expected a list of entity "
        'labels, e.g. ["PER"].',
        id="labels-string",
    ),
    pytest.param(
        initialize_with,
        {"labels": ["LOC", "PER"]},
        "[ner_tagger] The training examples contain labels missing from the given "
        "labels: ['ORG']. Add them to [initialize.components.ner_tagger] labels.",
        id="labels-missing-one",
    ),
    pytest.param(
        initialize_with,
        {"labels": ["LOC", "ORG", "PER", ""]},
        "[ner_tagger] Invalid entity label: ''.",
        id="labels-empty-string",
    ),
    pytest.param(
        initialize_with,
        {"data": [("the sun is hot", {"entities": []})]},
        "[ner_tagger] No entity labels found. The training examples contain no "
        "entities and no labels were given in [initialize.components.ner_tagger].",
        id="no-entities-no-labels",
    ),
    # Class frequency files.
    pytest.param(
        initialize_with_frequencies,
        "missing.json",
        f"[ner_tagger] Class frequency file not found: {{tmp}}/missing.json. "
        f"{REWRITE_WEIGHTS}",
        id="frequencies-missing",
    ),
    pytest.param(
        initialize_with_frequencies,
        ".",
        "[ner_tagger] The class frequency path {tmp} is a folder. Expected the JSON "
        "file written by `python -m spacy_nerloss weights`.",
        id="frequencies-folder",
    ),
    pytest.param(
        initialize_with_frequencies,
        b'{"scheme": "BIO", "counts": {"O": 6, "B-LOC"',
        "[ner_tagger] Invalid JSON in the class frequency file {tmp}/freq.json: "
        f"No ':' found when decoding object value. {REWRITE_WEIGHTS}",
        id="frequencies-truncated",
    ),
    pytest.param(
        initialize_with_frequencies,
        {"scheme": "BIO", "counts": list(COUNTS)},
        "[ner_tagger] Invalid class frequencies in {tmp}/freq.json: 'counts' must "
        f"map each tag to its count, got a list. {REWRITE_WEIGHTS}",
        id="frequencies-counts-list",
    ),
    pytest.param(
        initialize_with_frequencies,
        {"tags": list(COUNTS), "counts": COUNTS},
        "[ner_tagger] Invalid class frequencies in {tmp}/freq.json: expected a JSON "
        f"object with 'scheme' and 'counts' keys. {REWRITE_WEIGHTS}",
        id="frequencies-no-scheme",
    ),
    pytest.param(
        initialize_with_frequencies,
        {"scheme": "BILUO", "counts": COUNTS},
        "[ner_tagger] The class frequencies in {tmp}/freq.json were computed for "
        "scheme 'BILUO', but the component uses 'BIO'.",
        id="frequencies-other-scheme",
    ),
    pytest.param(
        initialize_with_frequencies,
        {"scheme": "BIO", "counts": {"O": 6, "B-PER": 2, "I-PER": 1}},
        "[ner_tagger] The class frequencies in {tmp}/freq.json do not match the tag "
        "set: they were computed for the labels ['PER'], but the component has the "
        "labels ['LOC', 'ORG', 'PER']. Missing tags: ['B-LOC', 'I-LOC', 'B-ORG', "
        "'I-ORG']. Unknown tags: []. Recompute them with `python -m spacy_nerloss "
        "weights` on the training corpus.",
        id="frequencies-lack-labels",
    ),
    pytest.param(
        initialize_with_frequencies,
        {"scheme": "BIO", "counts": {**COUNTS, "B-GPE": 3, "I-GPE": 0}},
        "[ner_tagger] The class frequencies in {tmp}/freq.json do not match the tag "
        "set: they were computed for the labels ['GPE', 'LOC', 'ORG', 'PER'], but "
        "the component has the labels ['LOC', 'ORG', 'PER']. Missing tags: []. "
        "Unknown tags: ['B-GPE', 'I-GPE']. Recompute them with `python -m "
        "spacy_nerloss weights` on the training corpus.",
        id="frequencies-extra-label",
    ),
    pytest.param(
        initialize_with_frequencies,
        {"scheme": "BIO", "counts": {**COUNTS, "O": 5.5}},
        "[ner_tagger] Invalid count for tag 'O': 5.5 in {tmp}/freq.json. Counts "
        "must be whole numbers >= 0.",
        id="frequencies-fractional-count",
    ),
    # Training.
    pytest.param(
        update_with,
        [("bob went to nasa", {"entities": [(0, 3, "PER"), (12, 16, "SPACE")]})],
        "[ner_tagger] The training examples contain the labels ['SPACE'], which the "
        "component was not initialized with (its labels: ['LOC', 'ORG', 'PER']). "
        "Labels cannot be added after initialize, because the size of the output "
        "layer is fixed then. List them in [initialize.components.ner_tagger] "
        "labels and initialize again.",
        id="train-label-unseen-at-initialize",
    ),
    pytest.param(
        add_label_after_initialize,
        "MISC",
        "[ner_tagger] Cannot add label 'MISC': the model is already initialized "
        "with 7 output tags. Add all labels before nlp.initialize(), or pass them "
        "with [initialize.components.ner_tagger] labels.",
        id="add-label-after-initialize",
    ),
    pytest.param(
        update_with_nan_weights,
        None,
        "[ner_tagger] The loss is nan, so training stopped before it could corrupt "
        "the weights. Try a lower learning rate, or check the data for empty or "
        "degenerate docs.",
        id="train-nan-weights",
    ),
    # Saved pipelines.
    pytest.param(
        load_changed_pipeline,
        ("model", lambda data: data[: len(data) // 2]),
        "[ner_tagger] Cannot load the model weights from "
        "{tmp}/pipeline/ner_tagger/model: the file is truncated or corrupted, or "
        "was written by a component with another model config (ValueError: Unpack "
        "failed: incomplete input). Save the pipeline again.",
        id="saved-model-truncated",
    ),
    pytest.param(
        load_changed_pipeline,
        ("model", lambda data: b"\x00" + data),
        "[ner_tagger] Cannot load the model weights from "
        "{tmp}/pipeline/ner_tagger/model: the file is truncated or corrupted, or "
        "was written by a component with another model config (ExtraData: "
        "unpack(b) received extra data.). Save the pipeline again.",
        id="saved-model-garbage-byte",
    ),
    pytest.param(
        load_changed_pipeline,
        ("cfg", lambda data: data[:-5]),
        "[ner_tagger] Cannot load {tmp}/pipeline/ner_tagger/cfg: invalid JSON "
        "(Unexpected character in found when decoding object value). The file is "
        "truncated or corrupted: save the pipeline again.",
        id="saved-cfg-truncated",
    ),
    pytest.param(
        load_changed_pipeline,
        ("cfg", lambda data: None),
        "[ner_tagger] Cannot load the component: {tmp}/pipeline/ner_tagger/cfg is "
        "missing. Save the pipeline again with nlp.to_disk().",
        id="saved-cfg-missing",
    ),
    pytest.param(
        load_changed_pipeline,
        ("cfg", lambda data: data.replace(b'"LOC",', b"")),
        "[ner_tagger] The model weights in {tmp}/pipeline/ner_tagger/model have 7 "
        "output tags, but the 2 labels and scheme 'BIO' in "
        "{tmp}/pipeline/ner_tagger/cfg make 5 tags. The two do not belong to the "
        "same trained component: save the pipeline again.",
        id="saved-cfg-label-removed",
    ),
]


@pytest.mark.parametrize("run,bad_input,message", ERRORS)
def test_bad_input_raises(tmp_path, run, bad_input, message):
    expected = message.replace("{tmp}", str(tmp_path))
    with pytest.raises(ValueError, match=re.escape(expected)):
        run(bad_input, tmp_path)


CLI_ERRORS = [
    pytest.param(
        ["convert", "{tmp}/in.conll", "{tmp}/out.spacy"],
        "-DOCSTART- -X- -X- O\n\n",
        "No tokens found in {tmp}/in.conll",
        id="convert-no-tokens",
    ),
    pytest.param(
        ["convert", "{tmp}/in.conll", "{tmp}/out.spacy"],
        "Ann\tB-PER\nlikes\tO\tO\n",
        "{tmp}/in.conll:2: expected 2 columns, as in line 1, but found 3 in "
        "'likes\\tO\\tO'.",
        id="convert-column-count",
    ),
    pytest.param(
        ["convert", "{tmp}/in.conll", "{tmp}/out.spacy", "--n-sents", "0"],
        "Ann\tB-PER\n",
        "Invalid value for --n-sents: 0. Expected an integer >= 1.",
        id="convert-n-sents-zero",
    ),
    pytest.param(
        ["weights", "{tmp}/in.conll", "{tmp}/weights.json"],
        "Ann\tB-PER\n",
        "Invalid input file extension: {tmp}/in.conll",
        id="weights-given-column-file",
    ),
]


@pytest.mark.parametrize("args,content,message", CLI_ERRORS)
def test_bad_cli_input_exits(tmp_path, args, content, message):
    (tmp_path / "in.conll").write_text(content, encoding="utf-8")
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert message.replace("{tmp}", str(tmp_path)) in " ".join(result.output.split())
    assert not (tmp_path / "out.spacy").exists()
    assert not (tmp_path / "weights.json").exists()


ACCEPTED = [
    pytest.param(
        "Ann\tB-PER\nIBM\tI-ORG\n",
        [[("Ann", "PER"), ("IBM", "ORG")]],
        {"repaired": 1, "first_repaired_line": 2},
        id="i-tag-after-other-label-starts-entity",
    ),
    pytest.param(
        "New\tI-LOC\nYork\tI-LOC\nis\tO\n",
        [[("New York", "LOC")]],
        {"converted": 1, "repaired": 0},
        id="iob1-converted",
    ),
    pytest.param(
        "\ufeff-DOCSTART- -X- -X- O\n\nParis NNP B-NP B-LOC\n",
        [[("Paris", "LOC")]],
        {"documents": 1, "tokens": 1},
        id="bom-before-docstart",
    ),
    pytest.param(
        "Paris\tB-LOC\r\n \t \r\nRome\tB-LOC\r\n",
        [[("Paris", "LOC")], [("Rome", "LOC")]],
        {"sentences": 2, "tokens": 2},
        id="crlf-and-whitespace-separator",
    ),
    pytest.param(
        "Paris\tB-LOC\n\ufeff\nRome\tB-LOC\n",
        [[("Paris", "LOC")], [("Rome", "LOC")]],
        {"sentences": 2, "tokens": 2},
        id="bom-only-line-separates",
    ),
]


@pytest.mark.parametrize("content,entities,counts", ACCEPTED)
def test_messy_input_is_read(tmp_path, content, entities, counts):
    docs, stats = read_file(content, tmp_path)
    assert [[(e.text, e.label_) for e in doc.ents] for doc in docs] == entities
    for key, value in counts.items():
        assert getattr(stats, key) == value, key


def test_all_missing_batch_has_no_loss():
    # A doc without entity annotation is missing, not O, so it adds no loss.
    nlp, optimizer = initialized_nlp()
    losses = nlp.update(make_examples(nlp, [("bob smith", {})]), sgd=optimizer)
    assert losses["ner_tagger"] == 0.0


def test_empty_and_one_token_docs_predict():
    nlp, _ = initialized_nlp()
    docs = list(nlp.pipe(["", "bob", ""]))
    assert [len(doc) for doc in docs] == [0, 1, 0]
    assert all(doc.ents == () for doc in (docs[0], docs[2]))
