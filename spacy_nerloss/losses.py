"""Token-classification losses for imbalanced tag sets, registered in thinc.

Every loss takes one array of softmax probabilities per doc (what thinc's
`Softmax` layer emits during training) and one list of gold tags per doc, where
`None` marks a missing tag. It returns `(gradients, loss)`:

- each gradient is with respect to the logits *before* the softmax, which is
  what thinc's `Softmax` backprop expects;
- `loss` is the value of the objective itself, averaged over annotated tokens;
- missing tags get a zero gradient and are not counted in the average.

The losses compute with the array module of their input (numpy or cupy), so the
same code runs on CPU and GPU. Targets and masks are built on the host and moved
to the device once per batch.
"""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy
from thinc.api import get_array_module, registry
from thinc.types import Floats2d

from .validation import validate_choice, validate_number
from .weights import (
    DEFAULT_BETA,
    class_weights,
    validate_beta,
    validate_weighting,
    weights_from_counts,
)

Truths = Sequence[Sequence[Optional[str]]]

# Below this distance from 1, p*log(p)/(1-p) is replaced by its Taylor series.
SERIES_CUTOFF = 1e-4


def safe_log(xp, probs):
    """Take the log of probabilities floored at the smallest normal number of
    their dtype. A probability of exactly 0 then gives a large finite loss
    (87.3 in float32) in place of inf. The gradients need no floor.
    """
    return xp.log(xp.maximum(probs, xp.finfo(probs.dtype).tiny))


def validate_gamma(loss_name: str, gamma: float) -> float:
    """Check that the focal `gamma` is a finite number >= 0 and return it."""
    return validate_number(loss_name, "gamma", gamma, minimum=0.0)


def focal_terms(
    xp, probs: Floats2d, gold: Floats2d, gamma: float
) -> Tuple[Floats2d, Floats2d]:
    """Compute the unweighted focal loss per token and its gradient with
    respect to the logits.
    """
    p_t = (probs * gold).sum(axis=1)
    # 1 - p_t summed from the other tags keeps its precision when p_t ~ 1.
    q_t = (probs * (1.0 - gold)).sum(axis=1)
    log_p = safe_log(xp, p_t)
    modulator = q_t**gamma
    losses = -modulator * log_p
    # dFL/dz_j = (1-p)**gamma * (gamma * p*log(p)/(1-p) - 1) * (gold_j - p_j).
    # p*log(p)/(1-p) -> -1 as p -> 1; use the series -1 + q/2 there, which
    # also avoids (1-p)**(gamma-1), infinite for gamma < 1.
    safe_q = xp.where(q_t < SERIES_CUTOFF, 1.0, q_t)
    ratio = xp.where(q_t < SERIES_CUTOFF, -1.0 + 0.5 * q_t, p_t * log_p / safe_q)
    coef = modulator * (gamma * ratio - 1.0)
    return losses, coef[:, None] * (gold - probs)


def cross_entropy_terms(
    xp, probs: Floats2d, gold: Floats2d
) -> Tuple[Floats2d, Floats2d]:
    """Compute the unweighted cross-entropy per token and its gradient with
    respect to the logits.
    """
    p_t = (probs * gold).sum(axis=1)
    return -safe_log(xp, p_t), probs - gold


class TagLoss:
    """Shared machinery of the tag losses: tag ids, masking, class weights and
    normalisation. A subclass implements `token_terms`, which holds only what
    makes that loss different.
    """

    name = "spacy_nerloss.tag_loss"
    # Allowed values of `weighting`. Focal and cross-entropy reject "effective"
    # because they have no `beta` key to go with it.
    weightings: Tuple[str, ...] = ("none", "inverse", "inverse_sqrt")

    def __init__(
        self,
        *,
        weighting: str = "none",
        alpha: Optional[Sequence[float]] = None,
        beta: float = DEFAULT_BETA,
    ):
        hint = ""
        if weighting == "effective" and weighting not in self.weightings:
            hint = (
                "For effective-number weights use spacy_nerloss.class_balanced.v1, "
                "which has a 'beta' setting."
            )
        validate_weighting(self.name, weighting, self.weightings, hint)
        self.beta = validate_beta(self.name, beta)
        if alpha is not None:
            alpha = [float(value) for value in alpha]
            if any(not numpy.isfinite(value) or value < 0 for value in alpha):
                raise ValueError(
                    f"[{self.name}] Invalid value for 'alpha': {alpha}. "
                    "Every entry must be a finite number >= 0."
                )
        self.weighting = weighting
        self.alpha = alpha
        self.tags: Tuple[str, ...] = ()
        self.tag_ids: Dict[str, int] = {}
        self.weights: Optional[numpy.ndarray] = None

    @property
    def is_initialized(self) -> bool:
        return bool(self.tags)

    def initialize(self, tags: Sequence[str], counts: Mapping[str, int]) -> None:
        """Set the tag set and compute the class weights.

        tags (Sequence[str]): The tag set, in the order of the model's output columns.
        counts (Mapping[str, int]): Training count of each tag.
        """
        self.tags = tuple(tags)
        self.tag_ids = {tag: i for i, tag in enumerate(self.tags)}
        if self.alpha is not None:
            if len(self.alpha) != len(self.tags):
                raise ValueError(
                    f"[{self.name}] 'alpha' has {len(self.alpha)} entries but the "
                    f"tag set has {len(self.tags)} tags: {list(self.tags)}. Give one "
                    "value per tag in this order, or set alpha = null to compute "
                    "weights from the training counts."
                )
            self.weights = numpy.asarray(self.alpha, dtype="float32")
        elif self.weighting == "none":
            self.weights = None
        else:
            self.weights = class_weights(
                self.tags, counts, self.weighting, beta=self.beta, loss_name=self.name
            )

    def __call__(self, guesses: List[Floats2d], truths: Truths) -> Tuple[List[Floats2d], float]:
        return self.compute(guesses, truths)

    def get_grad(self, guesses: List[Floats2d], truths: Truths) -> List[Floats2d]:
        return self.compute(guesses, truths)[0]

    def get_loss(self, guesses: List[Floats2d], truths: Truths) -> float:
        return self.compute(guesses, truths)[1]

    def compute(self, guesses: List[Floats2d], truths: Truths) -> Tuple[List[Floats2d], float]:
        """Compute the gradients with respect to the logits and the mean loss.

        guesses (List[Floats2d]): Softmax probabilities, one (n_tokens, n_tags)
            array per doc.
        truths (Sequence[Sequence[Optional[str]]]): Gold tags per doc, None for missing.
        RETURNS (Tuple[List[Floats2d], float]): The gradients, shaped like `guesses`,
            and the loss.
        """
        if not self.is_initialized:
            raise ValueError(
                f"[{self.name}] The loss has no tag set. Call "
                "loss.initialize(tags, counts) first; the ner_tagger component "
                "does this in its initialize method."
            )
        xp = get_array_module(guesses[0]) if guesses else numpy
        lengths = [len(guess) for guess in guesses]
        probs = self._concatenate(xp, guesses)
        target, token_weight, n_annotated = self._targets(xp, truths, lengths)
        if n_annotated == 0:
            return [xp.zeros_like(guess) for guess in guesses], 0.0

        gold_onehot = xp.zeros_like(probs)
        gold_onehot[xp.arange(len(target)), target] = 1.0
        losses, d_probs = self.token_terms(xp, probs, gold_onehot)
        loss = float((token_weight * losses).sum()) / n_annotated
        d_logits = d_probs * (token_weight / n_annotated)[:, None]

        out_dtype = guesses[0].dtype
        d_logits = d_logits.astype(out_dtype, copy=False)
        splits = numpy.cumsum(lengths)[:-1].tolist()
        return list(xp.split(d_logits, splits)), loss

    def token_terms(self, xp, probs: Floats2d, gold: Floats2d) -> Tuple[Floats2d, Floats2d]:
        """Return the per-token loss, shape (n,), and its gradient with respect
        to the logits, shape (n, n_tags), before weighting and averaging.
        """
        raise NotImplementedError

    def _concatenate(self, xp, guesses: List[Floats2d]) -> Floats2d:
        probs = xp.concatenate(guesses) if guesses else xp.zeros((0, len(self.tags)))
        if probs.ndim != 2 or probs.shape[1] != len(self.tags):
            raise ValueError(
                f"[{self.name}] Expected probabilities of shape (n_tokens, "
                f"{len(self.tags)}), got {probs.shape}."
            )
        # float16 lacks the range for log(p) and (1-p)**gamma near 0 and 1.
        if probs.dtype != xp.float64:
            probs = probs.astype(xp.float32)
        return probs

    def _targets(self, xp, truths: Truths, lengths: List[int]):
        if len(truths) != len(lengths):
            raise ValueError(
                f"[{self.name}] Got {len(lengths)} score arrays but {len(truths)} "
                "gold tag sequences."
            )
        target = numpy.zeros(sum(lengths), dtype="int32")
        mask = numpy.zeros(sum(lengths), dtype="float32")
        i = 0
        for doc_tags, length in zip(truths, lengths):
            if len(doc_tags) != length:
                raise ValueError(
                    f"[{self.name}] A doc has {length} score rows but "
                    f"{len(doc_tags)} gold tags."
                )
            for tag in doc_tags:
                if tag is not None:
                    if tag not in self.tag_ids:
                        raise ValueError(
                            f"[{self.name}] Gold tag {tag!r} is not in the tag set "
                            f"{list(self.tags)}."
                        )
                    target[i] = self.tag_ids[tag]
                    mask[i] = 1.0
                i += 1
        n_annotated = float(mask.sum())
        weights = self.batch_weights(target, mask > 0)
        if weights is not None:
            mask *= weights[target]
        return xp.asarray(target), xp.asarray(mask), n_annotated

    def batch_weights(
        self, target: numpy.ndarray, annotated: numpy.ndarray
    ) -> Optional[numpy.ndarray]:
        """Return the per-tag weights for one batch, or None for no weights.
        By default these are the weights computed at initialization.

        target (numpy.ndarray): The gold tag id of every token, 0 where missing.
        annotated (numpy.ndarray): Boolean mask of the tokens with a gold tag.
        RETURNS (Optional[numpy.ndarray]): float32 weights of shape (n_tags,).
        """
        return self.weights


class Focal(TagLoss):
    """Focal loss (Lin et al., 2017): FL = -alpha_t * (1 - p_t)**gamma * log(p_t).

    With gamma = 0 and no weights it equals cross-entropy. Well-classified
    tokens (p_t near 1, most `O` tokens) contribute little, so the gradient is
    spent on the hard and rare tags.
    """

    name = "spacy_nerloss.focal.v1"

    def __init__(
        self,
        *,
        gamma: float = 2.0,
        alpha: Optional[Sequence[float]] = None,
        weighting: str = "inverse_sqrt",
    ):
        self.gamma = validate_gamma(self.name, gamma)
        super().__init__(weighting=weighting, alpha=alpha)

    def token_terms(self, xp, probs, gold):
        return focal_terms(xp, probs, gold, self.gamma)


@registry.losses("spacy_nerloss.focal.v1")
def configure_Focal_v1(
    gamma: float = 2.0,
    alpha: Optional[List[float]] = None,
    weighting: str = "inverse_sqrt",
) -> Focal:
    """Focal loss. `alpha` is a per-tag weight list, or null to compute weights
    from the training tag counts with `weighting` ("none", "inverse",
    "inverse_sqrt").
    """
    return Focal(gamma=gamma, alpha=alpha, weighting=weighting)


class CrossEntropy(TagLoss):
    """Cross-entropy, -w_t * log(p_t), optionally weighted per tag."""

    name = "spacy_nerloss.cross_entropy.v1"

    def token_terms(self, xp, probs, gold):
        return cross_entropy_terms(xp, probs, gold)


@registry.losses("spacy_nerloss.cross_entropy.v1")
def configure_CrossEntropy_v1(weighting: str = "none") -> CrossEntropy:
    """Cross-entropy, with tag weights from the training counts unless
    `weighting` is "none".
    """
    return CrossEntropy(weighting=weighting)


class BatchBalancedFocal(Focal):
    """Focal loss whose tag weights are recomputed for every batch from the
    gold tags of that batch, with the effective-number formula
    w = (1 - beta) / (1 - beta**(n + 1)), normalised to a mean of 1 over the
    batch's annotated tokens. A tag absent from the batch (n = 0) gets the
    finite weight of a single occurrence, and an all-`O` batch gives `O` the
    weight 1, which is plain focal loss.
    """

    name = "spacy_nerloss.batch_balanced_focal.v1"

    def __init__(self, *, gamma: float = 2.0, beta: float = 0.999):
        super().__init__(gamma=gamma, weighting="none")
        self.beta = validate_beta(self.name, beta)

    def batch_weights(self, target, annotated):
        counts = numpy.bincount(target[annotated], minlength=len(self.tags))
        return weights_from_counts(counts, "effective", beta=self.beta)


@registry.losses("spacy_nerloss.batch_balanced_focal.v1")
def configure_BatchBalancedFocal_v1(
    gamma: float = 2.0, beta: float = 0.999
) -> BatchBalancedFocal:
    """Focal loss with effective-number tag weights from each batch's counts."""
    return BatchBalancedFocal(gamma=gamma, beta=beta)


class ClassBalanced(TagLoss):
    """Class-balanced loss (Cui et al., 2019, "Class-Balanced Loss Based on
    Effective Number of Samples"): a focal or cross-entropy loss weighted per
    tag by w = (1 - beta) / (1 - beta**(n + 1)), where n is the training count
    of the tag, normalised to a mean of 1 over the training tokens.
    """

    name = "spacy_nerloss.class_balanced.v1"
    weightings = ("effective",)
    bases = ("focal", "cross_entropy")

    def __init__(
        self, *, beta: float = 0.9999, base: str = "focal", gamma: float = 2.0
    ):
        self.base = validate_choice(self.name, "base", base, self.bases)
        self.gamma = validate_gamma(self.name, gamma)
        super().__init__(weighting="effective", beta=beta)

    def token_terms(self, xp, probs, gold):
        if self.base == "focal":
            return focal_terms(xp, probs, gold, self.gamma)
        return cross_entropy_terms(xp, probs, gold)


@registry.losses("spacy_nerloss.class_balanced.v1")
def configure_ClassBalanced_v1(
    beta: float = 0.9999, base: str = "focal", gamma: float = 2.0
) -> ClassBalanced:
    """Focal or cross-entropy loss with effective-number tag weights from the
    training counts. `gamma` is used only when `base` is "focal".
    """
    return ClassBalanced(beta=beta, base=base, gamma=gamma)


class LabelSmoothing(TagLoss):
    """Cross-entropy against a smoothed target: 1 - smoothing on the gold tag
    and smoothing / (n_tags - 1) on each other tag, so the loss per token is
    -sum_j target_j * log(p_j). With smoothing = 0 it equals cross-entropy.
    """

    name = "spacy_nerloss.label_smoothing.v1"

    def __init__(self, *, smoothing: float = 0.1):
        self.smoothing = validate_number(
            self.name, "smoothing", smoothing, minimum=0.0, exclusive_maximum=1.0
        )
        super().__init__(weighting="none")

    def initialize(self, tags: Sequence[str], counts: Mapping[str, int]) -> None:
        if len(tags) < 2:
            raise ValueError(
                f"[{self.name}] Label smoothing needs at least 2 tags to spread "
                f"the smoothing over, got {list(tags)}."
            )
        super().initialize(tags, counts)

    def token_terms(self, xp, probs, gold):
        off_gold = self.smoothing / (probs.shape[1] - 1)
        target = gold * (1.0 - self.smoothing) + (1.0 - gold) * off_gold
        losses = -(target * safe_log(xp, probs)).sum(axis=1)
        # The target sums to 1, so d/dz_j of -sum_k t_k log(p_k) is p_j - t_j.
        return losses, probs - target


@registry.losses("spacy_nerloss.label_smoothing.v1")
def configure_LabelSmoothing_v1(smoothing: float = 0.1) -> LabelSmoothing:
    """Cross-entropy against label-smoothed targets."""
    return LabelSmoothing(smoothing=smoothing)


class Dice(TagLoss):
    """Self-adjusting dice loss (Li et al., ACL 2020, "Dice Loss for
    Data-imbalanced NLP Tasks"). With p_t the probability of the gold tag:

        DSC = 1 - (2 * (1 - p_t)**alpha * p_t + gamma)
                  / ((1 - p_t)**alpha * p_t + 1 + gamma)

    The factor (1 - p_t)**alpha pushes down easy tokens as p_t approaches 1,
    and gamma smooths the ratio. With a = (1 - p_t)**alpha * p_t the loss is
    (1 - a) / (a + 1 + gamma), which lies in [0, 1 / (1 + gamma)]. At
    p_t = 0 the gradient is 0 as well, so a token the model gives no
    probability for its gold tag does not learn from this loss.
    """

    name = "spacy_nerloss.dice.v1"

    def __init__(self, *, alpha: float = 1.0, gamma: float = 1.0):
        self.exponent = validate_number(self.name, "alpha", alpha, minimum=0.0)
        self.smoothing = validate_number(
            self.name, "gamma", gamma, minimum=0.0, exclusive_minimum=True
        )
        super().__init__(weighting="none")

    def token_terms(self, xp, probs, gold):
        p_t = (probs * gold).sum(axis=1)
        q_t = (probs * (1.0 - gold)).sum(axis=1)
        decay = q_t**self.exponent
        a = decay * p_t
        denominator = a + 1.0 + self.smoothing
        losses = (1.0 - a) / denominator
        d_a = -(2.0 + self.smoothing) / denominator**2
        # da/dz_j = p (1-p)**(alpha-1) ((1-p) - alpha p) (gold_j - p_j). Writing
        # gold_j - p_j = q * r_j, with r_j = 1 on the gold tag and -p_j / q on
        # the others, leaves q**alpha, which is finite at q = 0 for alpha < 1.
        safe_q = xp.where(q_t > 0, q_t, 1.0)
        r = gold - (1.0 - gold) * probs / safe_q[:, None]
        coef = d_a * p_t * decay * (q_t - self.exponent * p_t)
        return losses, coef[:, None] * r


@registry.losses("spacy_nerloss.dice.v1")
def configure_Dice_v1(alpha: float = 1.0, gamma: float = 1.0) -> Dice:
    """Self-adjusting dice loss. `alpha` is the exponent of the (1 - p_t)
    factor, not a per-tag weight list as in focal loss, and `gamma` is the
    smoothing constant.
    """
    return Dice(alpha=alpha, gamma=gamma)
