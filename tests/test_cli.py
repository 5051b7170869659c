import numpy
import pytest
import spacy
import srsly
from thinc.api import fix_random_seed
from spacy.tokens import Doc, DocBin
from spacy.training import Corpus, Example
from thinc.util import gpu_is_available
from typer.testing import CliRunner

from spacy_nerloss.cli import app, predicted_tags, score_tags
from spacy_nerloss.weights import WEIGHTINGS

runner = CliRunner()

TRAIN = """\
-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
1996-08-22 CD I-NP O

The DT B-NP O
European NNP I-NP B-ORG
Commission NNP I-NP I-ORG
said VBD B-VP O
"""
# Gold tag counts of TRAIN in BIO.
TRAIN_COUNTS = {
    "O": 6, "B-LOC": 1, "I-LOC": 0, "B-MISC": 1, "I-MISC": 0,
    "B-ORG": 2, "I-ORG": 1, "B-PER": 1, "I-PER": 1,
}  # fmt: skip


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args])


def flat(output: str) -> str:
    """Join wasabi's wrapped lines, so a long path reads as one word again."""
    return " ".join(output.split())


@pytest.fixture
def train_file(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(TRAIN, encoding="utf-8")
    return path


@pytest.fixture
def train_spacy(tmp_path, train_file):
    output = tmp_path / "corpus" / "train.spacy"
    result = invoke("convert", train_file, output)
    assert result.exit_code == 0, result.output
    return output


def test_convert_writes_docbin(tmp_path, train_file):
    output = tmp_path / "out" / "train.spacy"
    result = invoke("convert", train_file, output, "--n-sents", 1)
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert f"Read 4 sentences, 13 tokens in 2 documents from {train_file}" in text
    assert f"Wrote 4 docs, 13 tokens to {output}" in text
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("en").vocab))
    assert [len(doc) for doc in docs] == [5, 2, 2, 4]
    ents = [(ent.text, ent.label_) for ent in docs[0].ents]
    assert ents == [("EU", "ORG"), ("German", "MISC")]
    # Unknown spaces make spaCy's Corpus keep the file's tokens.
    assert all(doc.has_unknown_spaces for doc in docs)


def test_convert_groups_sentences(tmp_path, train_file):
    output = tmp_path / "train.spacy"
    result = invoke("convert", train_file, output)
    assert result.exit_code == 0, result.output
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("en").vocab))
    assert [len(list(doc.sents)) for doc in docs] == [2, 2]


def test_convert_texts_and_repair_warning(tmp_path):
    path = tmp_path / "wnut.conll"
    path.write_text("Ann\tB-person\nIBM\tI-corporation\n\t\nhi\tO\n", encoding="utf-8")
    result = invoke("convert", path, tmp_path / "wnut.spacy")
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "Read 2 texts, 3 tokens from" in text
    assert f"Repaired 1 ill-formed tags in {path}, first at line 2" in text
    assert "Wrote 2 docs" in text


def test_convert_messy_file_keeps_every_token(tmp_path):
    # The file has a BOM at the start, CRLF endings, a BOM-only line and a
    # tab-only line as separators, an IOB1 start and an ill-formed I- tag. All 6
    # tokens must reach the .spacy file.
    path = tmp_path / "messy.conll"
    content = (
        "\ufeffAnn\tI-person\r\nIBM\tI-corporation\r\n\ufeff\r\n"
        "New\tB-location\r\nYork\tI-location\r\n\t\r\nhi\tO\r\nthere\tO\r\n"
    )
    path.write_bytes(content.encode("utf-8"))
    output = tmp_path / "messy.spacy"
    result = invoke("convert", path, output)
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert f"Read 3 texts, 6 tokens from {path}" in text
    assert "Converted 1 IOB1 tags to IOB2" in text
    assert f"Repaired 1 ill-formed tags in {path}, first at line 2" in text
    assert f"Wrote 3 docs, 6 tokens to {output}" in text
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("en").vocab))
    assert [[t.text for t in doc] for doc in docs] == [
        ["Ann", "IBM"],
        ["New", "York"],
        ["hi", "there"],
    ]
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("Ann", "person"),
        ("IBM", "corporation"),
    ]


@pytest.mark.parametrize(
    "content",
    ["", "\n\t\n", "-DOCSTART- -X- -X- O\n\n"],
    ids=["empty", "blank", "docstart"],
)
def test_convert_rejects_file_without_tokens(tmp_path, content):
    path = tmp_path / "empty.conll"
    path.write_text(content, encoding="utf-8")
    output = tmp_path / "empty.spacy"
    result = invoke("convert", path, output)
    assert result.exit_code == 1
    assert f"No tokens found in {path}" in flat(result.output)
    assert not output.exists()


@pytest.mark.parametrize(
    "content,output_name,expected",
    [
        (None, "out.spacy", "Input file not found: {input}"),
        ("a\tO\n", "out.json", "Invalid output file extension: {output}"),
        ("a\tO\nb\tO\tO\n", "out.spacy", "{input}:2: expected 2 columns"),
        ("a\tX-PER\n", "out.spacy", "{input}:1: invalid tag 'X-PER'"),
    ],
    ids=["missing-input", "wrong-extension", "column-count", "invalid-tag"],
)
def test_convert_errors(tmp_path, content, output_name, expected):
    input_file = tmp_path / "in.conll"
    output_file = tmp_path / output_name
    if content is not None:
        input_file.write_text(content, encoding="utf-8")
    result = invoke("convert", input_file, output_file)
    assert result.exit_code == 1
    assert expected.format(input=input_file, output=output_file) in flat(result.output)
    assert not output_file.exists()


def test_convert_rejects_n_sents_zero(tmp_path, train_file):
    result = invoke("convert", train_file, tmp_path / "out.spacy", "--n-sents", 0)
    assert result.exit_code == 1
    assert "Invalid value for --n-sents: 0" in flat(result.output)


def test_convert_rejects_unknown_language(tmp_path, train_file):
    result = invoke("convert", train_file, tmp_path / "out.spacy", "--lang", "zz")
    assert result.exit_code == 1
    assert "Invalid language code: 'zz'" in flat(result.output)


def test_weights_writes_counts_and_weights(tmp_path, train_spacy):
    output = tmp_path / "metrics" / "weights.json"
    result = invoke("weights", train_spacy, output)
    assert result.exit_code == 0, result.output
    data = srsly.read_json(output)
    assert data["scheme"] == "BIO"
    assert data["labels"] == ["LOC", "MISC", "ORG", "PER"]
    assert data["tags"] == list(TRAIN_COUNTS)
    assert data["counts"] == TRAIN_COUNTS
    assert set(data["weights"]) == set(WEIGHTINGS)
    for weighting in WEIGHTINGS:
        assert list(data["weights"][weighting]) == data["tags"]
    text = flat(result.output)
    assert "B-ORG 2 15.38%" in text
    assert f"Counted 13 tagged tokens in 2 docs, wrote {output}" in text


def test_weights_biluo(tmp_path, train_spacy):
    output = tmp_path / "weights.json"
    result = invoke("weights", train_spacy, output, "--scheme", "BILUO")
    assert result.exit_code == 0, result.output
    counts = srsly.read_json(output)["counts"]
    assert len(counts) == 1 + 4 * 4
    # Single-token entities are U-, "Peter Blackburn" and "European Commission" B- L-.
    assert counts["U-ORG"] == 1
    assert counts["B-ORG"] == 1
    assert counts["L-ORG"] == 1
    assert counts["B-PER"] == 1
    assert counts["L-PER"] == 1
    assert counts["U-LOC"] == 1
    assert counts["U-MISC"] == 1
    assert counts["O"] == 6
    assert sum(counts.values()) == 13


@pytest.mark.parametrize(
    "input_name,output_name,expected",
    [
        ("missing.spacy", "w.json", "Input file not found: {input}"),
        ("train.txt", "w.json", "Invalid input file extension: {input}"),
        ("corpus/train.spacy", "w.txt", "Invalid output file extension: {output}"),
    ],
    ids=["missing-input", "input-extension", "output-extension"],
)
def test_weights_file_errors(tmp_path, train_spacy, input_name, output_name, expected):
    input_file, output_file = tmp_path / input_name, tmp_path / output_name
    result = invoke("weights", input_file, output_file)
    assert result.exit_code == 1
    assert expected.format(input=input_file, output=output_file) in flat(result.output)
    assert not output_file.exists()


def test_weights_rejects_corrupt_docbin(tmp_path):
    path = tmp_path / "bad.spacy"
    path.write_text("not a DocBin", encoding="utf-8")
    result = invoke("weights", path, tmp_path / "w.json")
    assert result.exit_code == 1
    assert f"Cannot read {path}" in flat(result.output)


def test_weights_rejects_invalid_scheme(tmp_path, train_spacy):
    result = invoke("weights", train_spacy, tmp_path / "w.json", "--scheme", "IOBES")
    assert result.exit_code == 1
    expected = "Invalid value for --scheme: 'IOBES'. Allowed values: BIO, BILUO."
    assert expected in flat(result.output)


def test_weights_rejects_corpus_without_entities(tmp_path):
    nlp = spacy.blank("en")
    path = tmp_path / "empty.spacy"
    doc = Doc(nlp.vocab, words=["no", "entities"], ents=["O", "O"])
    DocBin(docs=[doc]).to_disk(path)
    result = invoke("weights", path, tmp_path / "w.json")
    assert result.exit_code == 1
    assert f"No entities found in {path}" in flat(result.output)


def make_tagger_nlp(scheme: str):
    nlp = spacy.blank("en")
    nlp.add_pipe("ner_tagger", config={"scheme": scheme})
    return nlp


@pytest.mark.parametrize("scheme", ["BIO", "BILUO"])
def test_weights_file_matches_component_counts(tmp_path, train_spacy, scheme):
    output = tmp_path / "weights.json"
    result = invoke("weights", train_spacy, output, "--scheme", scheme)
    assert result.exit_code == 0, result.output

    counted = make_tagger_nlp(scheme)
    examples = list(Corpus(train_spacy)(counted))
    counted.initialize(lambda: examples)

    from_file = make_tagger_nlp(scheme)
    init_settings = {"class_frequencies": str(output)}
    from_file.config["initialize"]["components"]["ner_tagger"] = init_settings
    from_file.initialize(lambda: list(Corpus(train_spacy)(from_file)))

    counted_pipe = counted.get_pipe("ner_tagger")
    file_pipe = from_file.get_pipe("ner_tagger")
    assert file_pipe.cfg["tag_counts"] == counted_pipe.cfg["tag_counts"]
    assert file_pipe.cfg["tag_counts"] == srsly.read_json(output)["counts"]
    # The default focal loss weights by inverse_sqrt, so weights are not None.
    assert counted_pipe.loss.weights is not None
    numpy.testing.assert_allclose(
        file_pipe.loss.weights, counted_pipe.loss.weights, rtol=1e-6
    )
    written = srsly.read_json(output)["weights"]["inverse_sqrt"]
    expected = [written[tag] for tag in file_pipe.tags]
    numpy.testing.assert_allclose(file_pipe.loss.weights, expected, rtol=1e-6)


@pytest.fixture
def tagger_model(tmp_path, train_spacy):
    nlp = make_tagger_nlp("BIO")
    examples = list(Corpus(train_spacy)(nlp))
    nlp.initialize(lambda: examples)
    path = tmp_path / "model"
    nlp.to_disk(path)
    return path


def test_evaluate_writes_scores(tmp_path, tagger_model, train_spacy):
    output = tmp_path / "metrics" / "scores.json"
    result = invoke("evaluate", tagger_model, train_spacy, "--output", output)
    assert result.exit_code == 0, result.output
    scores = srsly.read_json(output)
    assert set(scores) == {
        "ents_p",
        "ents_r",
        "ents_f",
        "ents_per_type",
        "tags_per_type",
        "speed",
    }
    for key in ("ents_p", "ents_r", "ents_f"):
        assert 0.0 <= scores[key] <= 1.0
    assert scores["speed"] > 0
    support = {label: s["support"] for label, s in scores["ents_per_type"].items()}
    assert support == {"LOC": 1, "MISC": 1, "ORG": 2, "PER": 1}
    assert list(scores["tags_per_type"]) == list(TRAIN_COUNTS)
    for tag, tag_scores in scores["tags_per_type"].items():
        assert tag_scores["support"] == TRAIN_COUNTS[tag]
        for key in ("p", "r", "f"):
            assert 0.0 <= tag_scores[key] <= 1.0
    for type_scores in scores["ents_per_type"].values():
        for key in ("p", "r", "f"):
            assert 0.0 <= type_scores[key] <= 1.0
    text = flat(result.output)
    assert "Entities per type" in text
    assert "Tokens per tag (BIO)" in text
    assert f"Saved scores to {output}" in text
    chart = output.with_name("scores_per_type.png")
    assert f"Saved the per-type F1 chart to {chart}" in text
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_evaluate_scores_the_predictions(tmp_path, train_spacy):
    # A pipeline that fits its training data perfectly must score 1.0 on every
    # tag too, which fails if the per-tag scores miss the predictions.
    fix_random_seed(0)
    nlp = make_tagger_nlp("BIO")
    examples = list(Corpus(train_spacy)(nlp))
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(40):
        nlp.update(examples, sgd=optimizer)
    assert nlp.evaluate(examples)["ents_f"] == pytest.approx(1.0)
    nlp.to_disk(tmp_path / "fitted")
    output = tmp_path / "scores.json"
    result = invoke("evaluate", tmp_path / "fitted", train_spacy, "-o", output)
    assert result.exit_code == 0, result.output
    scores = srsly.read_json(output)
    assert scores["ents_f"] == pytest.approx(1.0)
    for tag, tag_scores in scores["tags_per_type"].items():
        if tag_scores["support"]:
            assert tag_scores["f"] == pytest.approx(1.0), tag


def test_evaluate_spacy_ner_pipeline(tmp_path, train_spacy):
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    examples = list(Corpus(train_spacy)(nlp))
    nlp.initialize(lambda: examples)
    nlp.to_disk(tmp_path / "ner_model")
    output = tmp_path / "scores.json"
    result = invoke("evaluate", tmp_path / "ner_model", train_spacy, "-o", output)
    assert result.exit_code == 0, result.output
    assert list(srsly.read_json(output)["tags_per_type"])[:3] == ["O", "B-LOC", "I-LOC"]


@pytest.mark.parametrize(
    "model_name,data_name,output_name,expected",
    [
        ("missing", "corpus/train.spacy", "s.json", "Cannot load pipeline: {model}"),
        ("model", "missing.spacy", "s.json", "Input file not found: {data}"),
        ("model", "train.txt", "s.json", "Invalid input file extension: {data}"),
        ("model", "corpus/train.spacy", "s.txt", "Invalid output file extension"),
    ],
    ids=["missing-model", "missing-data", "data-extension", "output-extension"],
)
def test_evaluate_errors(
    tmp_path, tagger_model, model_name, data_name, output_name, expected
):
    model = tmp_path / model_name
    data = tmp_path / data_name
    output = tmp_path / output_name
    result = invoke("evaluate", model, data, "--output", output)
    assert result.exit_code == 1
    assert expected.format(model=model, data=data, output=output) in flat(result.output)
    assert not output.exists()


@pytest.mark.skipif(
    gpu_is_available(), reason="checks the error raised on a machine without a GPU"
)
def test_evaluate_gpu_unavailable(tmp_path, tagger_model, train_spacy):
    output = tmp_path / "s.json"
    result = invoke("evaluate", tagger_model, train_spacy, "--gpu-id", 0, "-o", output)
    assert result.exit_code == 1
    assert "Cannot use GPU 0" in flat(result.output)


def make_example(words, gold_ents, predicted_ents):
    vocab = spacy.blank("en").vocab
    reference = Doc(vocab, words=words, ents=gold_ents)
    predicted = Doc(vocab, words=words, ents=predicted_ents)
    return Example(predicted, reference)


def prf(precision, recall, fscore, *, support):
    return {"p": precision, "r": recall, "f": fscore, "support": support}


def test_score_tags_hand_worked():
    example = make_example(
        ["Ann", "Lee", "met", "Bob", "in", "Rome"],
        ["B-PER", "I-PER", "O", "B-PER", "O", "B-LOC"],
        ["B-PER", "O", "O", "B-PER", "B-LOC", "I-LOC"],
    )
    scores = score_tags([example], "BIO")
    # B-PER: both predicted B-PER tokens are gold B-PER, and both gold are found.
    assert scores["B-PER"] == pytest.approx(prf(1.0, 1.0, 1.0, support=2))
    # I-PER: never predicted, one gold token.
    assert scores["I-PER"] == pytest.approx(prf(0.0, 0.0, 0.0, support=1))
    # O: predicted on Lee and met, of which met is right. Gold on met and in, of
    # which met is found.
    assert scores["O"] == pytest.approx(prf(0.5, 0.5, 0.5, support=2))
    # B-LOC: predicted on "in", whose gold tag is O. Gold on Rome, which is
    # predicted I-LOC.
    assert scores["B-LOC"] == pytest.approx(prf(0.0, 0.0, 0.0, support=1))
    # I-LOC: predicted on Rome only, and no token is gold I-LOC.
    assert scores["I-LOC"] == pytest.approx(prf(0.0, 0.0, 0.0, support=0))


def test_score_tags_skips_missing_gold():
    example = make_example(
        ["Ann", "met", "Bob"], ["B-PER", None, "B-PER"], ["B-PER", "B-PER", "O"]
    )
    scores = score_tags([example], "BIO")
    # "met" has no gold tag, so its B-PER prediction counts neither way.
    assert scores["B-PER"]["p"] == pytest.approx(1.0)
    assert scores["B-PER"]["r"] == pytest.approx(0.5)
    assert sum(s["support"] for s in scores.values()) == 2


def test_predicted_tags_biluo_and_bio():
    vocab = spacy.blank("en").vocab
    words = ["New", "York", "and", "Rome"]
    doc = Doc(vocab, words=words, ents=["B-LOC", "I-LOC", "O", "B-LOC"])
    assert predicted_tags(doc, "BILUO") == ["B-LOC", "L-LOC", "O", "U-LOC"]
    assert predicted_tags(doc, "BIO") == ["B-LOC", "I-LOC", "O", "B-LOC"]
