import io
import math

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.training.initialize import init_nlp
from spacy.training.loop import train
from spacy.util import load_config_from_str, registry

from spacy_nerloss.logger import CollapseMonitor, entity_diagnostics

LOGGER = "spacy_nerloss.ConsoleLogger.v1"

TRAIN_CONFIG = """
[paths]
train = null
dev = null

[system]
seed = 0

[nlp]
lang = "en"
pipeline = ["ner_tagger"]

[components]

[components.ner_tagger]
factory = "ner_tagger"

[components.ner_tagger.loss]
@losses = "spacy_nerloss.cross_entropy.v1"
weighting = "none"

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${paths.train}

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${paths.dev}

[training]
seed = ${system.seed}
max_steps = 6
eval_frequency = 2
dropout = 0.0

[training.batcher]
@batchers = "spacy.batch_by_sequence.v1"
size = 8

[training.logger]
@loggers = "spacy_nerloss.ConsoleLogger.v1"
collapse_ratio = 0.5
zero_prediction_evals = 2

[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.01
"""


def monitor_info(step, share_gold, share_pred, gold=None, pred=None, loss=1.0):
    return {
        "step": step,
        "losses": {"ner_tagger": loss},
        "other_scores": {
            "ents_token_share_gold": share_gold,
            "ents_token_share_pred": share_pred,
            "ents_gold_per_type": gold if gold is not None else {"PER": 3},
            "ents_pred_per_type": pred if pred is not None else {"PER": 2},
        },
    }


def messages(warnings):
    return [message for message, hint in warnings]


def test_collapse_fires_below_ratio():
    monitor = CollapseMonitor(collapse_ratio=0.5, zero_prediction_evals=3)
    warnings = monitor.check(monitor_info(10, share_gold=0.10, share_pred=0.04))
    assert len(warnings) == 1
    message, hint = warnings[0]
    assert message.startswith("Collapsing to O: 96.0% of dev tokens are predicted O")
    assert "against 90.0% in the gold data" in message
    assert "raise gamma" in hint


def test_collapse_quiet_at_or_above_ratio():
    monitor = CollapseMonitor(collapse_ratio=0.5, zero_prediction_evals=3)
    assert monitor.check(monitor_info(10, share_gold=0.10, share_pred=0.05)) == []
    assert monitor.check(monitor_info(20, share_gold=0.10, share_pred=0.30)) == []


def test_step_zero_checks_only_the_loss():
    monitor = CollapseMonitor(collapse_ratio=0.5, zero_prediction_evals=1)
    assert monitor.check(monitor_info(0, 0.1, 0.0, pred={})) == []
    warnings = monitor.check(monitor_info(0, 0.1, 0.0, pred={}, loss=math.nan))
    assert messages(warnings) == ["The loss of ner_tagger is nan at step 0."]


def test_collapse_needs_diagnostic_scores():
    monitor = CollapseMonitor(collapse_ratio=0.5, zero_prediction_evals=1)
    info = {"step": 1, "losses": {"ner": 2.0}, "other_scores": {"ents_f": 0.0}}
    assert monitor.check(info) == []


def test_zero_predictions_after_n_evaluations():
    monitor = CollapseMonitor(collapse_ratio=0.5, zero_prediction_evals=2)
    gold = {"LOC": 4, "PER": 3}
    pred = {"PER": 2}
    assert monitor.check(monitor_info(1, 0.1, 0.1, gold, pred)) == []
    warnings = monitor.check(monitor_info(2, 0.1, 0.1, gold, pred))
    assert messages(warnings) == [
        "No predicted entity of type LOC for 2 or more evaluations in a row."
    ]
    # One evaluation with a LOC prediction resets the count.
    assert monitor.check(monitor_info(3, 0.1, 0.1, gold, {"LOC": 1})) == []
    assert monitor.check(monitor_info(4, 0.1, 0.1, gold, pred)) == []


@pytest.mark.parametrize("loss", [math.nan, math.inf, -math.inf])
def test_not_finite_loss_warns(loss):
    monitor = CollapseMonitor(collapse_ratio=0.5, zero_prediction_evals=3)
    warnings = monitor.check(monitor_info(7, 0.1, 0.1, loss=loss))
    assert messages(warnings) == [f"The loss of ner_tagger is {loss} at step 7."]
    assert "Lower the learning rate" in warnings[0][1]


def test_entity_diagnostics_counts():
    nlp = spacy.blank("en")
    words = ["bob", "smith", "lives", "in", "paris", "today"]
    gold = Doc(nlp.vocab, words=words, ents=["B-PER", "I-PER", "O", "O", "B-LOC", ""])
    predicted = Doc(nlp.vocab, words=words, ents=["B-PER", "O", "O", "O", "O", "B-LOC"])
    scores = entity_diagnostics([Example(predicted, gold)])
    # "today" has no gold annotation, so 5 tokens count: 3 gold entity
    # tokens, 1 predicted (the LOC on "today" is not counted).
    assert scores["ents_token_share_gold"] == pytest.approx(3 / 5)
    assert scores["ents_token_share_pred"] == pytest.approx(1 / 5)
    assert scores["ents_gold_per_type"] == {"LOC": 1, "PER": 1}
    assert scores["ents_pred_per_type"] == {"LOC": 1, "PER": 1}


def test_entity_diagnostics_merged_tokens():
    # "New" + "York" (B-LOC I-LOC) predicted as one token: the loss reads it
    # as B-LOC, so it counts as a gold entity token.
    nlp = spacy.blank("en")
    gold = Doc(nlp.vocab, words=["New", "York", "now"], spaces=[False, True, False], ents=["B-LOC", "I-LOC", "O"])
    predicted = Doc(nlp.vocab, words=["NewYork", "now"], spaces=[True, False])
    scores = entity_diagnostics([Example(predicted, gold)])
    assert scores["ents_token_share_gold"] == pytest.approx(1 / 2)
    assert scores["ents_token_share_pred"] == pytest.approx(0.0)


def test_entity_diagnostics_without_annotation():
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["a", "b"])
    scores = entity_diagnostics([Example(doc, doc.copy())])
    assert scores["ents_token_share_gold"] is None
    assert scores["ents_token_share_pred"] is None


@pytest.mark.parametrize(
    "settings,match",
    [
        ({"collapse_ratio": 0.0}, r"Invalid value for 'collapse_ratio': 0\.0\. Allowed: a number in \(0, 1\]"),
        ({"collapse_ratio": 1.5}, r"Invalid value for 'collapse_ratio': 1\.5\. Allowed: a number in \(0, 1\]"),
        ({"zero_prediction_evals": 0}, r"Invalid value for zero_prediction_evals: 0\. Expected an integer >= 1"),
        ({"zero_prediction_evals": -2}, r"Invalid value for zero_prediction_evals: -2\. Expected an integer >= 1"),
        # spaCy's config validation rejects a non-integer before the logger runs.
        ({"zero_prediction_evals": True}, r"logger -> zero_prediction_evals.*True is not <class 'int'>"),
    ],
)  # fmt: skip
def test_logger_rejects_bad_settings(settings, match):
    with pytest.raises(ValueError, match=match):
        registry.resolve({"logger": {"@loggers": LOGGER, **settings}})


def write_corpus(path, n_docs, words, tags):
    nlp = spacy.blank("en")
    docs = [Doc(nlp.vocab, words=words, ents=tags) for _ in range(n_docs)]
    DocBin(docs=docs).to_disk(path)
    return path


def train_and_log(tmp_path, corpus, overrides):
    config = load_config_from_str(TRAIN_CONFIG)
    config["paths"]["train"] = str(corpus)
    config["paths"]["dev"] = str(corpus)
    for section, values in overrides.items():
        node = config
        for key in section.split("."):
            node = node[key]
        node.update(values)
    # Fill in spaCy's defaults, as `spacy train` does before init_nlp.
    filled = spacy.util.load_model_from_config(config, auto_fill=True).config
    nlp = init_nlp(filled)
    stdout = io.StringIO()
    train(nlp, None, stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def test_collapsing_run_warns(tmp_path):
    # 1 entity token in 100, with the same word and context as the 99 O
    # tokens around it: unweighted cross-entropy can only learn to say O.
    words = ["bob"] * 100
    tags = ["O"] * 50 + ["B-PER"] + ["O"] * 49
    corpus = write_corpus(tmp_path / "train.spacy", 8, words, tags)
    output = train_and_log(tmp_path, corpus, {})
    assert "Collapsing to O: 100.0% of dev tokens are predicted O" in output
    assert "No predicted entity of type PER for 2 or more evaluations" in output
    assert "F per type: PER 0.00" in output


def test_healthy_run_does_not_warn(tmp_path):
    words = ["bob", "smith", "lives", "in", "paris", "now"]
    tags = ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]
    corpus = write_corpus(tmp_path / "train.spacy", 8, words, tags)
    loss = {"@losses": "spacy_nerloss.focal.v1", "gamma": 2.0, "weighting": "inverse"}
    overrides = {
        "components.ner_tagger": {"loss": loss},
        "training": {"max_steps": 30, "eval_frequency": 10},
    }
    output = train_and_log(tmp_path, corpus, overrides)
    assert "F per type: LOC 100.00, PER 100.00" in output
    assert "Collapsing to O" not in output
    assert "No predicted entity" not in output
