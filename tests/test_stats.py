import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import registry
from thinc.api import Config

from spacy_nerloss.stats import (
    LOSS_BLOCKS,
    corpus_stats,
    effective_number,
    recommend_loss,
)
from test_cli import flat, invoke

ROOT = Path(__file__).parent.parent

# Three docs: 10 tagged tokens, 4 of them inside entities, and one token
# ("?") without annotation that no statistic counts.
DOCS = [
    (["bob", "smith", "lives", "here"], ["B-PER", "I-PER", "O", "O"]),
    (["paris", "is", "big", "?"], ["B-LOC", "O", "O", ""]),
    (["anna", "left", "?"], ["B-PER", "O", ""]),
]


def make_examples():
    nlp = spacy.blank("en")
    examples = []
    for words, tags in DOCS:
        doc = Doc(nlp.vocab, words=words, ents=tags)
        examples.append(Example(Doc(nlp.vocab, words=words), doc))
    return examples


def one_doc_batches():
    return registry.resolve(
        {"b": {"@batchers": "spacy.batch_by_sequence.v1", "size": 1}}
    )["b"]


def test_stats_counts_and_shares():
    stats = corpus_stats(make_examples(), "BIO", batcher=one_doc_batches(), beta=0.5)
    assert stats["docs"] == 3
    assert stats["tokens"] == 11
    assert stats["tagged_tokens"] == 9
    assert stats["entities"] == 3
    assert stats["o_share"] == pytest.approx(5 / 9)
    # O (5) over the rarest present tags, B-LOC and I-PER (1 each).
    assert stats["imbalance_ratio"] == pytest.approx(5.0)
    assert stats["most_frequent_tag"] == "O"
    assert stats["absent_tags"] == ["I-LOC"]
    assert stats["tags"]["B-PER"]["count"] == 2
    assert stats["tags"]["B-PER"]["share"] == pytest.approx(2 / 9)
    # beta 0.5, n = 2: (1 - 0.25) / (1 - 0.5) = 1.5.
    assert stats["tags"]["B-PER"]["effective_number"] == pytest.approx(1.5)
    assert stats["entity_types"]["PER"] == {"entities": 2, "share": pytest.approx(2 / 3), "tokens": 3}
    assert stats["entity_types"]["LOC"]["tokens"] == 1


def test_stats_batch_spread():
    stats = corpus_stats(
        make_examples(), "BIO", batcher=one_doc_batches(), epochs=2, seed=3
    )
    batches = stats["batches"]
    # One doc per batch, so every epoch gives the shares 2/4, 1/3 and 1/2.
    shares = [0.5, 1 / 3, 0.5]
    avg = sum(shares) / 3
    sd = (sum((s - avg) ** 2 for s in shares) / 3) ** 0.5
    assert batches["batches"] == 6
    assert batches["entity_share_mean"] == pytest.approx(avg)
    assert batches["entity_share_sd"] == pytest.approx(sd)
    assert batches["entity_share_min"] == pytest.approx(1 / 3)
    assert batches["entity_share_cv"] == pytest.approx(sd / avg)


def test_effective_number_limits():
    assert effective_number(0, 0.9) == pytest.approx(0.0)
    assert effective_number(1, 0.9) == pytest.approx(1.0)
    assert effective_number(10_000, 0.9) == pytest.approx(10.0)
    assert effective_number(5, 0.0) == pytest.approx(1.0)


def synthetic_stats(o_share, ratio, cv, rarest_entities):
    return {
        "o_share": o_share,
        "imbalance_ratio": ratio,
        "batches": {"entity_share_cv": cv},
        "entity_types": {
            "PER": {"entities": 5000},
            "MISC": {"entities": rarest_entities},
        },
    }


@pytest.mark.parametrize(
    "o_share,ratio,cv,rarest,loss,rule",
    [
        (0.70, 5.0, 0.9, 10, "cross_entropy", 1),
        (0.79, 9.9, 0.1, 5000, "cross_entropy", 1),
        (0.80, 5.0, 0.1, 5000, "focal", 4),
        (0.70, 10.0, 0.1, 5000, "focal", 4),
        (0.95, 500.0, 0.5, 10, "batch_balanced_focal", 2),
        (0.95, 500.0, 0.49, 999, "class_balanced", 3),
        (0.95, 500.0, 0.49, 1000, "focal", 4),
        (0.95, 500.0, None, 1000, "focal", 4),
    ],
)
def test_recommendation_rules(o_share, ratio, cv, rarest, loss, rule):
    advice = recommend_loss(synthetic_stats(o_share, ratio, cv, rarest))
    assert advice["loss"] == loss
    assert advice["rule"] == rule
    assert advice["config"].startswith("[components.ner_tagger.loss]\n")


def test_recommendation_reason_has_figures():
    advice = recommend_loss(synthetic_stats(0.95, 500.0, 0.2, 140))
    assert advice["reason"] == (
        "O is 95.0% of the tagged tokens and the rarest type, MISC, has 140 "
        "entities (under 1,000), so weights by effective number of samples "
        "give the rare types more weight."
    )


@pytest.mark.parametrize("name", sorted(LOSS_BLOCKS))
def test_recommended_blocks_match_configs(name):
    config = Config().from_disk(ROOT / "configs" / f"{name}.cfg", interpolate=False)
    assert config["components"]["ner_tagger"]["loss"] == LOSS_BLOCKS[name]
    # The block is pasted into a config that has the parent sections.
    text = "[components]\n\n[components.ner_tagger]\n\n" + recommend_block(name)
    pasted = Config().from_str(text)
    assert pasted["components"]["ner_tagger"]["loss"] == LOSS_BLOCKS[name]


def recommend_block(name):
    from spacy_nerloss.stats import loss_block

    return loss_block(name)


@pytest.fixture
def corpus(tmp_path):
    nlp = spacy.blank("en")
    docs = [Doc(nlp.vocab, words=words, ents=tags) for words, tags in DOCS]
    path = tmp_path / "train.spacy"
    DocBin(docs=docs).to_disk(path)
    return path


def test_stats_command_prints_tables(corpus):
    result = invoke("stats", corpus, "--config", ROOT / "configs" / "focal.cfg")
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert "O share 55.56%" in output
    assert "Imbalance ratio 5.0 (O / B-LOC)" in output
    assert "Tags never seen in this corpus: I-LOC" in output
    assert "Batcher spacy.batch_by_padded.v1" in output
    # O is 56% and the imbalance ratio 5: rule 1, mild imbalance.
    assert "Loss: cross_entropy (configs/cross_entropy.cfg)" in output
    assert '@losses = "spacy_nerloss.cross_entropy.v1"' in result.output


def test_stats_command_json(corpus):
    result = invoke("stats", corpus, "--json", "--scheme", "BILUO")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["stats"]["scheme"] == "BILUO"
    assert data["stats"]["tags"]["U-LOC"]["count"] == 1
    assert data["stats"]["batches"]["batcher"]["size"] == 2000
    assert data["recommendation"]["rule"] == 1


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--scheme", "IOB"], "Invalid value for --scheme: 'IOB'. Allowed values: BIO, BILUO."),
        (["--beta", "1.0"], "Invalid value for --beta: 1.0. Expected a number in [0, 1)."),
        (["--epochs", "0"], "Invalid value for --epochs: 0. Expected an integer >= 1."),
    ],
)  # fmt: skip
def test_stats_command_rejects_bad_options(corpus, args, expected):
    result = invoke("stats", corpus, *args)
    assert result.exit_code == 1
    assert expected in flat(result.output)


def biluo_config(tmp_path, scheme="BILUO"):
    text = (ROOT / "configs" / "focal.cfg").read_text(encoding="utf8")
    assert 'scheme = "BIO"\n' in text
    config = tmp_path / "biluo.cfg"
    config.write_text(text.replace('scheme = "BIO"\n', f'scheme = "{scheme}"\n', 1))
    return config


def test_stats_command_takes_scheme_from_config(corpus, tmp_path):
    result = invoke("stats", corpus, "--json", "--config", biluo_config(tmp_path))
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)["stats"]
    assert stats["scheme"] == "BILUO"
    assert stats["tags"]["U-LOC"]["count"] == 1


def test_stats_command_scheme_option_overrides_config(corpus, tmp_path):
    config = biluo_config(tmp_path)
    result = invoke("stats", corpus, "--config", config, "--scheme", "BIO")
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert f"Counting BIO tags, but the ner_tagger in {config} uses BILUO." in output
    assert "U-LOC" not in output


def test_stats_command_config_with_bad_scheme(corpus, tmp_path):
    config = biluo_config(tmp_path, scheme="IOBES")
    result = invoke("stats", corpus, "--config", config)
    assert result.exit_code == 1
    assert (
        f"Invalid value for scheme of the ner_tagger in {config}: 'IOBES'. "
        "Allowed values: BIO, BILUO." in flat(result.output)
    )


def test_stats_command_config_without_batcher(corpus, tmp_path):
    config = tmp_path / "bare.cfg"
    config.write_text("[training]\nseed = 0\n", encoding="utf8")
    result = invoke("stats", corpus, "--config", config)
    assert result.exit_code == 1
    assert f"No [training.batcher] block in {config}" in flat(result.output)


def test_stats_command_corpus_without_entities(tmp_path):
    nlp = spacy.blank("en")
    path = tmp_path / "plain.spacy"
    DocBin(docs=[Doc(nlp.vocab, words=["a", "b"], ents=["O", "O"])]).to_disk(path)
    result = invoke("stats", path)
    assert result.exit_code == 1
    assert f"No entities found in {path}" in flat(result.output)


def test_stats_command_interpolates_config(corpus, tmp_path):
    text = (ROOT / "configs" / "focal.cfg").read_text(encoding="utf8")
    text = text.replace("[system]\n", "[system]\nbatch_size = 8\n", 1)
    text = text.replace("size = 2000\n", "size = ${system.batch_size}\n", 1)
    config = tmp_path / "variables.cfg"
    config.write_text(text, encoding="utf8")
    result = invoke("stats", corpus, "--json", "--config", config)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["stats"]["batches"]["batcher"]["size"] == 8


def test_stats_command_batcher_drops_every_doc(tmp_path):
    nlp = spacy.blank("en")
    words = ["w"] * 30
    tags = ["B-PER"] + ["O"] * 29
    path = tmp_path / "long.spacy"
    DocBin(docs=[Doc(nlp.vocab, words=words, ents=tags)]).to_disk(path)
    text = (ROOT / "configs" / "focal.cfg").read_text(encoding="utf8")
    config = tmp_path / "small.cfg"
    config.write_text(text.replace("size = 2000\n", "size = 10\n", 1), encoding="utf8")
    result = invoke("stats", path, "--config", config)
    assert result.exit_code == 1
    output = flat(result.output)
    assert f"Cannot compute the batch statistics of {path}" in output
    assert "The longest doc has 30 tokens" in output
