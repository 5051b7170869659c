import math
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import torch
from thinc.api import Config, registry

from spacy_nerloss.losses import (
    BatchBalancedFocal,
    ClassBalanced,
    CrossEntropy,
    Dice,
    Focal,
    LabelSmoothing,
)
from spacy_nerloss.weights import WEIGHTINGS, class_weights

TAGS = ("O", "B-PER", "I-PER")
COUNTS = {"O": 7, "B-PER": 3, "I-PER": 1}
CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.cfg"))

# Softmax outputs for a 3-token, 3-tag example with gold tags O, B-PER, I-PER,
# so the gold probabilities are p_t = 0.5, 0.25, 0.8.
HAND_PROBS = numpy.asarray(
    [[0.5, 0.25, 0.25], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], dtype="float64"
)
HAND_GOLD = [["O", "B-PER", "I-PER"]]

# Every loss with every option, as (constructor, settings, reference). The
# reference names the per-token formula for torch and where its tag weights
# come from: None, "train" (COUNTS with a weighting and beta), "alpha" or
# "batch" (the batch's own counts).
OPTIONS = [
    (CrossEntropy, {"weighting": "none"}, ("ce", {}, None)),
    (CrossEntropy, {"weighting": "inverse"}, ("ce", {}, ("train", "inverse", 0.0))),
    (
        CrossEntropy,
        {"weighting": "inverse_sqrt"},
        ("ce", {}, ("train", "inverse_sqrt", 0.0)),
    ),
    (Focal, {"gamma": 0.0, "weighting": "none"}, ("focal", {"gamma": 0.0}, None)),
    (Focal, {"gamma": 0.5, "weighting": "none"}, ("focal", {"gamma": 0.5}, None)),
    (
        Focal,
        {"gamma": 2.0, "weighting": "inverse_sqrt"},
        ("focal", {"gamma": 2.0}, ("train", "inverse_sqrt", 0.0)),
    ),
    (
        Focal,
        {"gamma": 1.0, "weighting": "inverse"},
        ("focal", {"gamma": 1.0}, ("train", "inverse", 0.0)),
    ),
    (
        Focal,
        {"gamma": 5.0, "alpha": [0.25, 1.0, 3.0]},
        ("focal", {"gamma": 5.0}, ("alpha", [0.25, 1.0, 3.0])),
    ),
    (BatchBalancedFocal, {}, ("focal", {"gamma": 2.0}, ("batch", 0.999))),
    (
        BatchBalancedFocal,
        {"gamma": 0.5, "beta": 0.9},
        ("focal", {"gamma": 0.5}, ("batch", 0.9)),
    ),
    (
        BatchBalancedFocal,
        {"gamma": 0.0, "beta": 0.0},
        ("focal", {"gamma": 0.0}, ("batch", 0.0)),
    ),
    (ClassBalanced, {}, ("focal", {"gamma": 2.0}, ("train", "effective", 0.9999))),
    (
        ClassBalanced,
        {"beta": 0.5, "gamma": 0.5},
        ("focal", {"gamma": 0.5}, ("train", "effective", 0.5)),
    ),
    (
        ClassBalanced,
        {"beta": 0.9, "base": "cross_entropy"},
        ("ce", {}, ("train", "effective", 0.9)),
    ),
    (
        ClassBalanced,
        {"beta": 0.0, "gamma": 0.0},
        ("focal", {"gamma": 0.0}, ("train", "effective", 0.0)),
    ),
    (LabelSmoothing, {"smoothing": 0.0}, ("smoothed", {"smoothing": 0.0}, None)),
    (LabelSmoothing, {}, ("smoothed", {"smoothing": 0.1}, None)),
    (LabelSmoothing, {"smoothing": 0.6}, ("smoothed", {"smoothing": 0.6}, None)),
    (Dice, {}, ("dice", {"alpha": 1.0, "gamma": 1.0}, None)),
    (Dice, {"alpha": 0.0, "gamma": 1.0}, ("dice", {"alpha": 0.0, "gamma": 1.0}, None)),
    (Dice, {"alpha": 0.5, "gamma": 0.1}, ("dice", {"alpha": 0.5, "gamma": 0.1}, None)),
    (
        Dice,
        {"alpha": 2.0, "gamma": 0.001},
        ("dice", {"alpha": 2.0, "gamma": 0.001}, None),
    ),
]
OPTION_IDS = [
    "-".join([cls.__name__] + [f"{key}={value}" for key, value in settings.items()])
    for cls, settings, _ in OPTIONS
]


@pytest.fixture(autouse=True, scope="module")
def single_torch_thread():
    # The torch reference runs thousands of tiny ops, which take several times
    # longer with torch's default thread pool when other processes load the CPU.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make(cls, counts=COUNTS, **settings):
    loss = cls(**settings)
    loss.initialize(TAGS, counts)
    return loss


def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = numpy.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def reference_weights(counts, weighting, beta):
    """Weights written out from the formulas, independent of weights.py."""
    n = numpy.asarray(counts, dtype="float64")
    smoothed = n + 1.0
    if weighting == "inverse":
        raw = 1.0 / smoothed
    elif weighting == "inverse_sqrt":
        raw = smoothed**-0.5
    else:
        raw = (1.0 - beta) / (1.0 - beta**smoothed)
    freq = n if n.sum() > 0 else numpy.ones_like(n)
    return raw * freq.sum() / (freq * raw).sum()


def torch_token_losses(kind, params, log_p, target):
    rows = torch.arange(len(target))
    log_p_t = log_p[rows, target]
    others = torch.ones_like(log_p, dtype=torch.bool)
    others[rows, target] = False
    # 1 - p_t from the other tags, as exp(log_p_t) rounds to 1 for large logits.
    q_t = torch.where(others, log_p.exp(), torch.zeros_like(log_p)).sum(dim=1)
    if kind == "ce":
        return -log_p_t
    if kind == "focal":
        return -(q_t ** params["gamma"]) * log_p_t if params["gamma"] else -log_p_t
    if kind == "smoothed":
        eps = params["smoothing"]
        off_gold = torch.full_like(log_p, eps / (log_p.shape[1] - 1))
        smoothed = torch.where(others, off_gold, torch.full_like(log_p, 1.0 - eps))
        return -(smoothed * log_p).sum(dim=1)
    a = q_t ** params["alpha"] * log_p_t.exp()
    gamma = params["gamma"]
    return 1.0 - (2.0 * a + gamma) / (a + 1.0 + gamma)


def torch_reference(reference, logits, target, mask):
    kind, params, weights_from = reference
    if weights_from is None:
        weights = numpy.ones(len(TAGS))
    elif weights_from[0] == "train":
        weights = reference_weights([COUNTS[tag] for tag in TAGS], *weights_from[1:])
    elif weights_from[0] == "alpha":
        weights = numpy.asarray(weights_from[1])
    else:
        batch_counts = numpy.bincount(target[mask > 0], minlength=len(TAGS))
        weights = reference_weights(batch_counts, "effective", weights_from[1])
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    log_p = torch.log_softmax(z, dim=1)
    per_token = torch_token_losses(kind, params, log_p, torch.tensor(target))
    w = torch.tensor(weights)[torch.tensor(target)] * torch.tensor(mask)
    loss = (w * per_token).sum() / max(float(mask.sum()), 1.0)
    loss.backward()
    return float(loss.detach()), z.grad.numpy()


def random_batch(rng, scale):
    # The first doc has at least one token, later docs may be empty.
    n_docs = int(rng.integers(1, 4))
    lengths = [int(rng.integers(1, 7))]
    lengths += [int(rng.integers(0, 5)) for _ in range(n_docs - 1)]
    logits = rng.normal(0, scale, size=(sum(lengths), len(TAGS)))
    # Skew the gold tags towards O, as in NER data.
    target = rng.choice(len(TAGS), size=sum(lengths), p=[0.6, 0.25, 0.15])
    mask = (rng.random(sum(lengths)) > 0.2).astype("float64")
    return lengths, logits, target, mask


def split_docs(array, lengths):
    return numpy.split(array, numpy.cumsum(lengths)[:-1])


@pytest.mark.parametrize("cls,settings,reference", OPTIONS, ids=OPTION_IDS)
def test_gradient_matches_autograd(cls, settings, reference):
    rng = numpy.random.default_rng(0)
    loss = make(cls, **settings)
    scales = (0.5, 3.0, 10.0, 40.0)
    for case in range(200):
        lengths, logits, target, mask = random_batch(rng, scales[case % len(scales)])
        doc_targets = split_docs(target, lengths)
        doc_masks = split_docs(mask, lengths)
        truths = [
            [TAGS[t] if m else None for t, m in zip(doc_target, doc_mask)]
            for doc_target, doc_mask in zip(doc_targets, doc_masks)
        ]
        probs = [softmax(doc) for doc in split_docs(logits, lengths)]
        grads, value = loss(probs, truths)
        expected_value, expected_grad = torch_reference(reference, logits, target, mask)
        assert value == pytest.approx(expected_value, rel=1e-6, abs=1e-9), case
        numpy.testing.assert_allclose(
            numpy.concatenate(grads),
            expected_grad,
            rtol=1e-5,
            atol=1e-9,
            err_msg=str(case),
        )


@pytest.mark.parametrize(
    "weighting,beta,expected",
    [
        ("none", 0.9999, [1.0, 1.0, 1.0]),
        # Smoothed counts 8, 4, 2; raw 1/8, 1/4, 1/2; the count-weighted mean is
        # (7/8 + 3/4 + 1/2) / 11 = 17/88, so the weights are 11/17, 22/17, 44/17.
        ("inverse", 0.9999, [11 / 17, 22 / 17, 44 / 17]),
        # Raw 8**-0.5, 4**-0.5, 2**-0.5 = 0.35355, 0.5, 0.70711; the mean is
        # (7 * 0.35355 + 3 * 0.5 + 0.70711) / 11 = 0.42564.
        ("inverse_sqrt", 0.9999, [0.830650, 1.174717, 1.661300]),
        # Raw (1 - 0.5) / (1 - 0.5**n) for n = 8, 4, 2 is 128/255, 8/15, 2/3; the
        # mean is (7 * 128/255 + 3 * 8/15 + 2/3) / 11 = 134/255.
        ("effective", 0.5, [64 / 67, 68 / 67, 85 / 67]),
        # beta = 0 makes every effective number 1: equal weights.
        ("effective", 0.0, [1.0, 1.0, 1.0]),
    ],
)
def test_class_weights_by_hand(weighting, beta, expected):
    weights = class_weights(TAGS, COUNTS, weighting, beta=beta)
    assert weights.dtype == numpy.float32
    numpy.testing.assert_allclose(weights, expected, rtol=1e-5)
    # Normalised so that the weights summed over the 11 training tokens are 11.
    assert float(numpy.dot(weights, [7, 3, 1])) == pytest.approx(11.0, rel=1e-6)


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_unseen_tag_gets_finite_weight(weighting):
    weights = class_weights(TAGS, {"O": 50}, weighting)
    assert numpy.all(numpy.isfinite(weights))
    assert numpy.all(weights > 0)
    assert float(weights[0]) == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_weights_without_counts_average_one(weighting):
    weights = class_weights(TAGS, {}, weighting)
    numpy.testing.assert_allclose(weights, [1.0, 1.0, 1.0], rtol=1e-6)


def test_effective_weights_approach_inverse():
    # As beta -> 1, (1 - beta) / (1 - beta**n) -> 1/n.
    effective = class_weights(TAGS, COUNTS, "effective", beta=0.9999999)
    inverse = class_weights(TAGS, COUNTS, "inverse")
    numpy.testing.assert_allclose(effective, inverse, rtol=1e-4)


@pytest.mark.parametrize(
    "cls,settings,expected",
    [
        # (-log 0.5 - log 0.25 - log 0.8) / 3 = log(10) / 3.
        (CrossEntropy, {"weighting": "none"}, math.log(10) / 3),
        # (11/17 log 2 + 22/17 log 4 + 44/17 * -log 0.8) / 3.
        (CrossEntropy, {"weighting": "inverse"}, 0.940028),
        # (0.830650 log 2 + 1.174717 log 4 + 1.661300 * -log 0.8) / 3.
        (CrossEntropy, {"weighting": "inverse_sqrt"}, 0.858325),
        # Focal terms (1 - p)**2 * -log p: 0.25 log 2 = 0.173287,
        # 0.5625 log 4 = 0.779791, 0.04 * -log 0.8 = 0.008926; mean 0.320668.
        (Focal, {"gamma": 2.0, "weighting": "none"}, 0.320668),
        # The same terms weighted 11/17, 22/17, 44/17.
        (Focal, {"gamma": 2.0, "weighting": "inverse"}, 0.381456),
        # The same terms weighted 0.830650, 1.174717, 1.661300.
        (Focal, {"gamma": 2.0, "weighting": "inverse_sqrt"}, 0.358267),
        # Focal terms weighted by the beta = 0.5 effective weights 64/67, 68/67, 85/67.
        (ClassBalanced, {"beta": 0.5}, 0.322760),
        # Cross-entropy terms log 2, log 4, -log 0.8 weighted 64/67, 68/67, 85/67.
        (ClassBalanced, {"beta": 0.5, "base": "cross_entropy"}, 0.784063),
        # Targets 0.9 on gold and 0.05 elsewhere. Token 1: 0.9 log 2 + 0.1 log 4
        # = 0.762462; token 2: 0.05 log 2 + 0.95 log 4 = 1.351637; token 3:
        # 0.1 log 10 + 0.9 * -log 0.8 = 0.431088; mean 0.848396.
        (LabelSmoothing, {"smoothing": 0.1}, 0.848396),
        # a = (1 - p) * p = 0.25, 0.1875, 0.16 gives DSC = 1 - (2a + 1) / (a + 2)
        # = 1/3, 0.371429, 0.388889; mean 0.364550.
        (Dice, {"alpha": 1.0, "gamma": 1.0}, 0.364550),
        # alpha = 0 gives a = p: DSC = 1 - (2p + 1) / (p + 2) = 0.2, 1/3,
        # 0.071429; mean 0.201587.
        (Dice, {"alpha": 0.0, "gamma": 1.0}, 0.201587),
        # a = (1 - p)**2 * p = 0.125, 0.140625, 0.032; DSC = 1 - (2a + 0.5) / (a + 1.5)
        # = 0.538462, 0.523810, 0.631854; mean 0.564708.
        (Dice, {"alpha": 2.0, "gamma": 0.5}, 0.564708),
    ],
)
def test_loss_value_by_hand(cls, settings, expected):
    loss = make(cls, **settings)
    assert loss.get_loss([HAND_PROBS], HAND_GOLD) == pytest.approx(expected, rel=1e-5)


def test_label_smoothing_gradient_by_hand():
    # The gradient is (p - target) / n_tokens; token 1 has target 0.9, 0.05, 0.05.
    grads = make(LabelSmoothing, smoothing=0.1).get_grad([HAND_PROBS], HAND_GOLD)
    numpy.testing.assert_allclose(grads[0][0], [-0.4 / 3, 0.2 / 3, 0.2 / 3], rtol=1e-6)


def test_label_smoothing_zero_equals_cross_entropy():
    smoothed = make(LabelSmoothing, smoothing=0.0)([HAND_PROBS], HAND_GOLD)
    plain = make(CrossEntropy)([HAND_PROBS], HAND_GOLD)
    assert smoothed[1] == pytest.approx(plain[1])
    numpy.testing.assert_allclose(smoothed[0][0], plain[0][0])


def test_batch_balanced_batch_missing_tags():
    # Gold O, O, B-PER; I-PER is absent. Counts 2, 1, 0 smoothed to 3, 2, 1 give
    # raw (1 - 0.5) / (1 - 0.5**n) = 4/7, 2/3, 1 and the count-weighted mean
    # (2 * 4/7 + 2/3) / 3 = 38/63, so the weights are 18/19, 21/19, 63/38.
    # Focal terms with p_t = 0.5, 0.5, 0.1: 0.25 log 2 twice and
    # 0.81 * -log 0.1 = 1.865094, so the loss is
    # (18/19 * 0.25 log 2 * 2 + 21/19 * 1.865094) / 3 = 0.796584.
    loss = make(BatchBalancedFocal, beta=0.5)
    truths = [["O", "O", "B-PER"]]
    target = numpy.asarray([0, 0, 1])
    weights = loss.batch_weights(target, numpy.ones(3, dtype=bool))
    numpy.testing.assert_allclose(weights, [18 / 19, 21 / 19, 63 / 38], rtol=1e-6)
    grads, value = loss([HAND_PROBS], truths)
    assert value == pytest.approx(0.796584, rel=1e-5)
    assert numpy.all(numpy.isfinite(grads[0]))


def test_batch_balanced_all_o_batch_is_plain_focal():
    rng = numpy.random.default_rng(3)
    probs = [softmax(rng.normal(size=(n, len(TAGS)))) for n in (4, 3)]
    truths = [["O"] * 4, ["O", None, "O"]]
    balanced = make(BatchBalancedFocal, gamma=2.0)
    plain = make(Focal, gamma=2.0, weighting="none")
    balanced_grads, balanced_value = balanced(probs, truths)
    plain_grads, plain_value = plain(probs, truths)
    assert balanced_value == pytest.approx(plain_value, rel=1e-6)
    for got, expected in zip(balanced_grads, plain_grads):
        numpy.testing.assert_allclose(got, expected, rtol=1e-6)


def test_batch_balanced_weights_follow_each_batch():
    loss = make(BatchBalancedFocal, beta=0.9)
    everything = numpy.ones(4, dtype=bool)
    # B-PER is rarer than I-PER in the second batch but not in the first, so
    # the order of their weights flips.
    first = loss.batch_weights(numpy.asarray([0, 0, 0, 1]), everything)
    second = loss.batch_weights(numpy.asarray([0, 2, 2, 2]), everything)
    assert first[1] < first[2]
    assert second[1] > second[2]
    # Missing tokens are not counted: only the B-PER token remains.
    only_b = loss.batch_weights(
        numpy.asarray([0, 0, 2, 1]), numpy.asarray([False, False, False, True])
    )
    assert float(only_b[1]) == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("cls,settings,reference", OPTIONS, ids=OPTION_IDS)
def test_missing_tags_get_zero_gradient(cls, settings, reference):
    rng = numpy.random.default_rng(1)
    probs = softmax(rng.normal(size=(4, len(TAGS))))
    loss = make(cls, **settings)
    grads, value = loss([probs], [[None, "O", None, "B-PER"]])
    assert numpy.all(grads[0][[0, 2]] == 0)
    assert numpy.any(grads[0][[1, 3]] != 0)
    # The two missing tokens are not counted in the mean.
    alone, alone_value = loss([probs[[1, 3]]], [["O", "B-PER"]])
    assert value == pytest.approx(alone_value, rel=1e-6)
    numpy.testing.assert_allclose(grads[0][[1, 3]], alone[0], rtol=1e-6)


@pytest.mark.parametrize("cls,settings,reference", OPTIONS, ids=OPTION_IDS)
def test_all_missing_gives_zero_loss(cls, settings, reference):
    probs = softmax(numpy.ones((3, len(TAGS))))
    grads, value = make(cls, **settings)([probs], [[None] * 3])
    assert value == 0.0
    assert not numpy.any(grads[0])


@pytest.mark.parametrize("cls,settings,reference", OPTIONS, ids=OPTION_IDS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_extreme_logits_stay_finite(cls, settings, reference, dtype):
    # Logits of +-1e4 make the softmax output exactly 0 and 1: one token is
    # certain and right, one certain and wrong, one certain and right with a
    # tie among the others.
    logits = numpy.asarray([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4], [-1e4, -1e4, 1e4]])
    probs = softmax(logits).astype(dtype)
    grads, value = make(cls, **settings)([probs], [["B-PER", "B-PER", "I-PER"]])
    assert numpy.isfinite(value)
    assert value > 0  # the misclassified token is penalised
    assert grads[0].dtype == numpy.dtype(dtype)
    assert numpy.all(numpy.isfinite(grads[0]))


@pytest.mark.parametrize("cls,settings,reference", OPTIONS, ids=OPTION_IDS)
def test_float16_matches_float64(cls, settings, reference):
    rng = numpy.random.default_rng(4)
    probs = softmax(rng.normal(0, 2.0, size=(6, len(TAGS))))
    truths = [["O", "B-PER", "I-PER", "O", None, "B-PER"]]
    loss = make(cls, **settings)
    grads16, value16 = loss([probs.astype("float16")], truths)
    grads64, value64 = loss([probs], truths)
    assert value16 == pytest.approx(value64, rel=1e-2, abs=1e-3)
    numpy.testing.assert_allclose(grads16[0], grads64[0], rtol=5e-2, atol=2e-3)


@pytest.mark.parametrize(
    "block,cls,attributes",
    [
        (
            '@losses = "spacy_nerloss.focal.v1"\ngamma = 0.5\nweighting = "inverse"',
            Focal,
            {"gamma": 0.5, "weighting": "inverse"},
        ),
        (
            '@losses = "spacy_nerloss.cross_entropy.v1"\nweighting = "inverse_sqrt"',
            CrossEntropy,
            {"weighting": "inverse_sqrt"},
        ),
        (
            '@losses = "spacy_nerloss.batch_balanced_focal.v1"\ngamma = 1.0\nbeta = 0.99',
            BatchBalancedFocal,
            {"gamma": 1.0, "beta": 0.99},
        ),
        (
            '@losses = "spacy_nerloss.batch_balanced_focal.v1"',
            BatchBalancedFocal,
            {"gamma": 2.0, "beta": 0.999},
        ),
        (
            '@losses = "spacy_nerloss.class_balanced.v1"',
            ClassBalanced,
            {"beta": 0.9999, "base": "focal", "gamma": 2.0},
        ),
        (
            '@losses = "spacy_nerloss.class_balanced.v1"\nbeta = 0.99\nbase = "cross_entropy"',
            ClassBalanced,
            {"beta": 0.99, "base": "cross_entropy"},
        ),
        (
            '@losses = "spacy_nerloss.label_smoothing.v1"\nsmoothing = 0.2',
            LabelSmoothing,
            {"smoothing": 0.2},
        ),
        (
            '@losses = "spacy_nerloss.dice.v1"',
            Dice,
            {"exponent": 1.0, "smoothing": 1.0},
        ),
        (
            '@losses = "spacy_nerloss.dice.v1"\nalpha = 0.5\ngamma = 0.1',
            Dice,
            {"exponent": 0.5, "smoothing": 0.1},
        ),
    ],
)
def test_registered_name_resolves_from_config(block, cls, attributes):
    loss = registry.resolve(Config().from_str(f"[loss]\n{block}\n"))["loss"]
    assert type(loss) is cls
    for key, value in attributes.items():
        assert getattr(loss, key) == value, key


@pytest.mark.parametrize("path", CONFIGS, ids=[path.name for path in CONFIGS])
def test_config_loss_block_resolves(path):
    config = Config().from_disk(path, interpolate=False)
    block = config["components"]["ner_tagger"]["loss"]
    loss = registry.resolve({"loss": block})["loss"]
    loss.initialize(TAGS, COUNTS)
    assert numpy.isfinite(loss.get_loss([HAND_PROBS], HAND_GOLD))


NEW_NAMES_SCRIPT = """
import sys
from thinc.api import registry
assert "spacy_nerloss" not in sys.modules
names = ["batch_balanced_focal", "class_balanced", "label_smoothing", "dice"]
for name in names:
    loss = registry.resolve({"x": {"@losses": f"spacy_nerloss.{name}.v1"}})["x"]
    print(type(loss).__name__)
"""


def test_new_names_resolve_through_entry_points():
    # A fresh interpreter outside the repository finds the names only through
    # the installed package's entry points.
    result = subprocess.run(
        [sys.executable, "-c", NEW_NAMES_SCRIPT],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    expected = ["BatchBalancedFocal", "ClassBalanced", "LabelSmoothing", "Dice"]
    assert result.stdout.split() == expected


@pytest.mark.parametrize(
    "name,settings,match",
    [
        (
            "focal",
            {"gamma": -1.0},
            r"\[spacy_nerloss\.focal\.v1\] Invalid value for 'gamma': -1\.0\. Allowed: a finite number >= 0\.",
        ),
        (
            "focal",
            {"weighting": "log"},
            r"\[spacy_nerloss\.focal\.v1\] Invalid value for 'weighting': 'log'\. Allowed values: none, inverse, inverse_sqrt\.",
        ),
        (
            "focal",
            {"weighting": "effective"},
            r"Invalid value for 'weighting': 'effective'\. Allowed values: none, inverse, inverse_sqrt\. For effective-number weights use spacy_nerloss\.class_balanced\.v1",
        ),
        (
            "focal",
            {"alpha": [1.0, -0.5, 1.0]},
            r"\[spacy_nerloss\.focal\.v1\] Invalid value for 'alpha': \[1\.0, -0\.5, 1\.0\]",
        ),
        (
            "cross_entropy",
            {"weighting": "effective"},
            r"\[spacy_nerloss\.cross_entropy\.v1\] Invalid value for 'weighting': 'effective'",
        ),
        (
            "batch_balanced_focal",
            {"gamma": -0.5},
            r"\[spacy_nerloss\.batch_balanced_focal\.v1\] Invalid value for 'gamma': -0\.5\. Allowed: a finite number >= 0\.",
        ),
        (
            "batch_balanced_focal",
            {"beta": 1.0},
            r"\[spacy_nerloss\.batch_balanced_focal\.v1\] Invalid value for 'beta': 1\.0\. Allowed: a number in \[0, 1\)\.",
        ),
        (
            "batch_balanced_focal",
            {"beta": -0.1},
            r"\[spacy_nerloss\.batch_balanced_focal\.v1\] Invalid value for 'beta': -0\.1\. Allowed: a number in \[0, 1\)\.",
        ),
        (
            "class_balanced",
            {"beta": 1.5},
            r"\[spacy_nerloss\.class_balanced\.v1\] Invalid value for 'beta': 1\.5\. Allowed: a number in \[0, 1\)\.",
        ),
        (
            "class_balanced",
            {"gamma": -2.0},
            r"\[spacy_nerloss\.class_balanced\.v1\] Invalid value for 'gamma': -2\.0\. Allowed: a finite number >= 0\.",
        ),
        (
            "class_balanced",
            {"base": "dice"},
            r"\[spacy_nerloss\.class_balanced\.v1\] Invalid value for 'base': 'dice'\. Allowed values: focal, cross_entropy\.",
        ),
        (
            "label_smoothing",
            {"smoothing": 1.0},
            r"\[spacy_nerloss\.label_smoothing\.v1\] Invalid value for 'smoothing': 1\.0\. Allowed: a number in \[0, 1\)\.",
        ),
        (
            "label_smoothing",
            {"smoothing": -0.1},
            r"\[spacy_nerloss\.label_smoothing\.v1\] Invalid value for 'smoothing': -0\.1\. Allowed: a number in \[0, 1\)\.",
        ),
        (
            "dice",
            {"alpha": -1.0},
            r"\[spacy_nerloss\.dice\.v1\] Invalid value for 'alpha': -1\.0\. Allowed: a finite number >= 0\.",
        ),
        (
            "dice",
            {"gamma": 0.0},
            r"\[spacy_nerloss\.dice\.v1\] Invalid value for 'gamma': 0\.0\. Allowed: a finite number > 0\.",
        ),
        (
            "dice",
            {"gamma": -1.0},
            r"\[spacy_nerloss\.dice\.v1\] Invalid value for 'gamma': -1\.0\. Allowed: a finite number > 0\.",
        ),
    ],
)
def test_invalid_setting_fails_at_resolution(name, settings, match):
    with pytest.raises(ValueError, match=match):
        registry.resolve({"loss": {"@losses": f"spacy_nerloss.{name}.v1", **settings}})


@pytest.mark.parametrize(
    "cls,settings,match",
    [
        (
            Focal,
            {"gamma": float("nan")},
            r"\[spacy_nerloss\.focal\.v1\] Invalid value for 'gamma': nan\.",
        ),
        (
            Dice,
            {"alpha": float("inf")},
            r"\[spacy_nerloss\.dice\.v1\] Invalid value for 'alpha': inf\.",
        ),
        (
            LabelSmoothing,
            {"smoothing": True},
            r"\[spacy_nerloss\.label_smoothing\.v1\] Invalid value for 'smoothing': True\.",
        ),
        (
            BatchBalancedFocal,
            {"beta": "0.9"},
            r"\[spacy_nerloss\.batch_balanced_focal\.v1\] Invalid value for 'beta': '0\.9'\.",
        ),
    ],
)
def test_invalid_setting_fails_in_constructor(cls, settings, match):
    with pytest.raises(ValueError, match=match):
        cls(**settings)


def test_alpha_of_wrong_length_fails_at_initialize():
    block = {"@losses": "spacy_nerloss.focal.v1", "alpha": [1.0, 2.0]}
    loss = registry.resolve({"loss": block})["loss"]
    match = r"\[spacy_nerloss\.focal\.v1\] 'alpha' has 2 entries but the tag set has 3 tags"
    with pytest.raises(ValueError, match=match):
        loss.initialize(TAGS, COUNTS)


def test_label_smoothing_needs_two_tags():
    match = r"\[spacy_nerloss\.label_smoothing\.v1\] Label smoothing needs at least 2 tags"
    with pytest.raises(ValueError, match=match):
        LabelSmoothing().initialize(["O"], {"O": 3})


@pytest.mark.parametrize(
    "weighting,settings,match",
    [
        (
            "log",
            {},
            r"\[class_weights\] Invalid value for 'weighting': 'log'\. Allowed values: none, inverse, inverse_sqrt, effective\.",
        ),
        (
            "effective",
            {"beta": 1.0},
            r"\[class_weights\] Invalid value for 'beta': 1\.0\. Allowed: a number in \[0, 1\)\.",
        ),
        (
            "inverse",
            {"smoothing": 0.0},
            r"\[class_weights\] Invalid value for 'smoothing': 0\.0\. Allowed: a finite number > 0\.",
        ),
        (
            "inverse",
            {"loss_name": "my.loss.v1", "smoothing": -1.0},
            r"\[my\.loss\.v1\] Invalid value for 'smoothing': -1\.0",
        ),
    ],
)
def test_invalid_class_weights_settings(weighting, settings, match):
    with pytest.raises(ValueError, match=match):
        class_weights(TAGS, COUNTS, weighting, **settings)


def test_negative_count_names_the_tag():
    with pytest.raises(ValueError, match=r"negative counts for \['B-PER'\]"):
        class_weights(TAGS, {"O": 3, "B-PER": -1}, "inverse")
