import math

import numpy
import pytest
import torch
from thinc.api import registry

from spacy_nerloss.losses import CrossEntropy, Focal

TAGS = ("O", "B-PER", "I-PER")


def make_loss(name, **kwargs):
    loss = {"focal": Focal, "cross_entropy": CrossEntropy}[name](**kwargs)
    loss.initialize(TAGS, {"O": 8, "B-PER": 3, "I-PER": 1})
    return loss


def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = numpy.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    "p_gold,expected_ce,expected_focal",
    [
        # -log(0.95) = 0.05129; (1 - 0.95)**2 * 0.05129 = 0.0001282
        (0.95, 0.0513, 0.0001282),
        # -log(0.3) = 1.204; (1 - 0.3)**2 * 1.204 = 0.590
        (0.3, 1.204, 0.590),
    ],
)
def test_loss_values_by_hand(p_gold, expected_ce, expected_focal):
    probs = numpy.asarray([[p_gold, 1 - p_gold, 0.0]], dtype="float64")
    ce = make_loss("cross_entropy")
    focal = make_loss("focal", gamma=2.0, weighting="none")
    assert ce.get_loss([probs], [["O"]]) == pytest.approx(expected_ce, rel=1e-3)
    assert focal.get_loss([probs], [["O"]]) == pytest.approx(expected_focal, rel=1e-3)


def test_loss_is_mean_over_annotated_tokens():
    # Two annotated tokens with p_gold 0.5 and 0.25, one missing token:
    # CE = (log 2 + log 4) / 2, the missing token neither adds nor counts.
    probs = numpy.asarray([[0.5, 0.5, 0.0], [0.25, 0.75, 0.0], [0.1, 0.1, 0.8]])
    loss = make_loss("cross_entropy").get_loss([probs], [["O", "O", None]])
    assert loss == pytest.approx((math.log(2) + math.log(4)) / 2)


def test_weighted_focal_value_by_hand():
    # Explicit alpha: token 1 has gold B-PER (alpha 2.0), p = 0.5, gamma 1:
    # 2.0 * 0.5 * log 2; token 2 has gold O (alpha 0.5), p = 0.8: 0.5 * 0.2 * -log 0.8.
    probs = numpy.asarray([[0.5, 0.5, 0.0], [0.8, 0.1, 0.1]])
    loss = make_loss("focal", gamma=1.0, alpha=[0.5, 2.0, 1.0])
    expected = (2.0 * 0.5 * math.log(2) + 0.5 * 0.2 * -math.log(0.8)) / 2
    assert loss.get_loss([probs], [["B-PER", "O"]]) == pytest.approx(expected)


def torch_reference(logits, target, mask, gamma, weights):
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    log_p = torch.log_softmax(z, dim=1)
    idx = torch.tensor(target)
    log_p_t = log_p[torch.arange(len(idx)), idx]
    # 1 - p_t from the other tags, as exp(log_p_t) rounds to 1 for large logits.
    others = torch.ones_like(log_p, dtype=torch.bool)
    others[torch.arange(len(idx)), idx] = False
    q_t = torch.where(others, log_p.exp(), torch.zeros_like(log_p)).sum(dim=1)
    w = torch.tensor(weights)[idx] * torch.tensor(mask)
    per_token = -(q_t**gamma) * log_p_t if gamma else -log_p_t
    loss = (w * per_token).sum() / max(float(mask.sum()), 1.0)
    loss.backward()
    return float(loss.detach()), z.grad.numpy()


def random_case(rng, scale):
    n = int(rng.integers(1, 8))
    logits = rng.normal(0, scale, size=(n, len(TAGS)))
    target = rng.integers(0, len(TAGS), size=n)
    mask = (rng.random(n) > 0.2).astype("float64")
    return logits, target, mask


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("cross_entropy", {}),
        ("cross_entropy", {"weighting": "inverse"}),
        ("cross_entropy", {"weighting": "inverse_sqrt"}),
        ("focal", {"gamma": 0.0, "weighting": "none"}),
        ("focal", {"gamma": 2.0, "weighting": "none"}),
        ("focal", {"gamma": 2.0}),
        ("focal", {"gamma": 1.0, "weighting": "inverse"}),
        ("focal", {"gamma": 5.0, "alpha": [0.25, 1.0, 3.0]}),
    ],
)
@pytest.mark.parametrize("scale", [1.0, 8.0, 40.0])
def test_gradient_matches_autograd(name, kwargs, scale):
    rng = numpy.random.default_rng(0)
    loss = make_loss(name, **kwargs)
    gamma = kwargs.get("gamma", 2.0) if name == "focal" else 0.0
    weights = loss.weights if loss.weights is not None else numpy.ones(len(TAGS))
    for _ in range(50):
        logits, target, mask = random_case(rng, scale)
        truths = [[TAGS[t] if m else None for t, m in zip(target, mask)]]
        grads, value = loss([softmax(logits)], truths)
        expected_value, expected_grad = torch_reference(
            logits, target, mask, gamma, weights.astype("float64")
        )
        assert value == pytest.approx(expected_value, rel=1e-6, abs=1e-9)
        numpy.testing.assert_allclose(grads[0], expected_grad, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name", ["cross_entropy", "focal"])
def test_missing_tags_get_zero_gradient(name):
    rng = numpy.random.default_rng(1)
    probs = softmax(rng.normal(size=(4, len(TAGS))))
    grads, _ = make_loss(name)([probs], [[None, "O", None, "B-PER"]])
    assert numpy.all(grads[0][[0, 2]] == 0)
    assert numpy.any(grads[0][[1, 3]] != 0)


@pytest.mark.parametrize("name", ["cross_entropy", "focal"])
def test_all_missing_gives_zero_loss(name):
    probs = softmax(numpy.ones((3, len(TAGS))))
    grads, value = make_loss(name)([probs], [[None, None, None]])
    assert value == 0.0
    assert not numpy.any(grads[0])


@pytest.mark.parametrize("name", ["cross_entropy", "focal"])
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_extreme_probabilities_stay_finite(name, dtype):
    # Logits of +-1e4 make the softmax output exactly 0 and 1.
    logits = numpy.asarray([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4]])
    probs = softmax(logits).astype(dtype)
    grads, value = make_loss(name)([probs], [["B-PER", "B-PER"]])
    assert numpy.isfinite(value)
    assert value > 10  # the misclassified token is penalised
    assert grads[0].dtype == numpy.dtype(dtype)
    assert numpy.all(numpy.isfinite(grads[0]))


def test_gradient_splits_per_doc():
    rng = numpy.random.default_rng(2)
    docs = [softmax(rng.normal(size=(n, len(TAGS)))) for n in (2, 0, 3)]
    grads, _ = make_loss("focal")(docs, [["O", "B-PER"], [], ["I-PER", "O", "O"]])
    assert [g.shape for g in grads] == [(2, 3), (0, 3), (3, 3)]


def test_alpha_length_mismatch_names_both_lengths():
    loss = Focal(alpha=[0.5, 1.0])
    with pytest.raises(ValueError, match=r"'alpha' has 2 entries but the tag set has 3 tags"):
        loss.initialize(TAGS, {})


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"gamma": -1.0}, r"Invalid value for 'gamma': -1\.0"),
        ({"gamma": float("nan")}, r"Invalid value for 'gamma': nan"),
        ({"alpha": [1.0, -0.5, 1.0]}, r"Invalid value for 'alpha'"),
        ({"weighting": "log"}, r"Invalid value for 'weighting': 'log'\. Allowed values: none, inverse, inverse_sqrt"),
    ],
)
def test_invalid_focal_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Focal(**kwargs)


def test_unknown_gold_tag_is_an_error():
    probs = softmax(numpy.zeros((1, len(TAGS))))
    with pytest.raises(ValueError, match=r"Gold tag 'B-LOC' is not in the tag set"):
        make_loss("focal")([probs], [["B-LOC"]])


def test_uninitialized_loss_is_an_error():
    with pytest.raises(ValueError, match=r"The loss has no tag set"):
        Focal()([numpy.ones((1, 3)) / 3], [["O"]])


@pytest.mark.parametrize(
    "name,settings,cls",
    [
        ("spacy_nerloss.focal.v1", {"gamma": 1.5, "alpha": None}, Focal),
        ("spacy_nerloss.cross_entropy.v1", {"weighting": "inverse"}, CrossEntropy),
    ],
)
def test_registered_losses_resolve(name, settings, cls):
    loss = registry.resolve({"loss": {"@losses": name, **settings}})["loss"]
    assert isinstance(loss, cls)
