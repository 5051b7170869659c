"""Class weights computed from tag frequencies.

Every weighting first adds a smoothing constant s (default 1) to each count n,
so a tag never seen in training still gets a finite weight, then computes a raw
weight per tag:

- "none": 1 (no smoothing needed);
- "inverse": 1 / (n + s);
- "inverse_sqrt": 1 / sqrt(n + s);
- "effective": (1 - beta) / (1 - beta**(n + s)), the inverse of the effective
  number of samples from Cui et al. (2019), "Class-Balanced Loss Based on
  Effective Number of Samples". beta = 0 gives equal weights, and as beta
  approaches 1 the weights approach "inverse".

The raw weights are then normalised so that their mean over the counted tokens
(each tag weighted by its unsmoothed count n) is 1. Summed over those tokens,
the weights add up to the number of tokens, so a weighted loss stays on the
same scale as the unweighted one and learning rates carry over. When every
count is 0 the plain mean over tags is 1 instead.
"""
from typing import Dict, List, Mapping, Sequence

import numpy

from .validation import validate_choice, validate_number

WEIGHTINGS = ("none", "inverse", "inverse_sqrt", "effective")

# The beta of the "effective" column in weights_table, the same as the default
# of spacy_nerloss.class_balanced.v1.
DEFAULT_BETA = 0.9999


def validate_weighting(
    loss_name: str, weighting: str, allowed: Sequence[str] = WEIGHTINGS, hint: str = ""
) -> None:
    """Raise a ValueError unless `weighting` is one of `allowed`.

    loss_name (str): The registered loss name, used in the message.
    weighting (str): The value of the loss's `weighting` setting.
    allowed (Sequence[str]): The weightings this loss accepts.
    hint (str): A sentence appended to the message.
    """
    validate_choice(loss_name, "weighting", weighting, allowed, hint)


def validate_beta(loss_name: str, beta: float) -> float:
    """Check that the effective-number `beta` is in [0, 1) and return it."""
    return validate_number(loss_name, "beta", beta, minimum=0.0, exclusive_maximum=1.0)


def class_weights(
    tags: Sequence[str],
    counts: Mapping[str, int],
    weighting: str,
    *,
    smoothing: float = 1.0,
    beta: float = DEFAULT_BETA,
    loss_name: str = "class_weights",
) -> numpy.ndarray:
    """Compute one weight per tag from training counts.

    tags (Sequence[str]): The tag set, in the order of the model's output columns.
    counts (Mapping[str, int]): Training count of each tag. A tag missing from
        the mapping counts as 0.
    weighting (str): "none", "inverse", "inverse_sqrt" or "effective"; the
        module docstring gives the formulas.
    smoothing (float): Added to every count, so a tag never seen in training
        still gets a finite weight. Must be > 0.
    beta (float): The effective-number beta in [0, 1), used by "effective".
    loss_name (str): The loss that asked for the weights, named in errors.
    RETURNS (numpy.ndarray): float32 weights of shape (len(tags),).
    """
    validate_weighting(loss_name, weighting)
    validate_number(
        loss_name, "smoothing", smoothing, minimum=0.0, exclusive_minimum=True
    )
    validate_beta(loss_name, beta)
    n = numpy.asarray([counts.get(tag, 0) for tag in tags], dtype="float64")
    if (n < 0).any():
        negative = [tag for tag in tags if counts.get(tag, 0) < 0]
        raise ValueError(
            f"[{loss_name}] Tag counts must not be negative, got negative counts "
            f"for {negative}."
        )
    return weights_from_counts(n, weighting, smoothing=smoothing, beta=beta)


def weights_from_counts(
    counts: numpy.ndarray,
    weighting: str,
    *,
    smoothing: float = 1.0,
    beta: float = DEFAULT_BETA,
) -> numpy.ndarray:
    """Compute normalised weights from an array of counts, one per tag, without
    checking the settings. `class_weights` checks them first. The
    batch-balanced loss calls this function once per batch with its own counts.

    counts (numpy.ndarray): Count of each tag, >= 0.
    weighting (str): One of WEIGHTINGS.
    smoothing (float): Added to every count, > 0.
    beta (float): The effective-number beta in [0, 1).
    RETURNS (numpy.ndarray): float32 weights of shape (len(counts),).
    """
    counts = numpy.asarray(counts, dtype="float64")
    if weighting == "none":
        return numpy.ones(len(counts), dtype="float32")
    smoothed = counts + smoothing
    if weighting == "inverse":
        raw = 1.0 / smoothed
    elif weighting == "inverse_sqrt":
        raw = 1.0 / numpy.sqrt(smoothed)
    elif weighting == "effective":
        raw = effective_number_weights(smoothed, beta)
    else:
        validate_weighting("weights_from_counts", weighting)
    freq = counts if counts.sum() > 0 else numpy.ones_like(counts)
    raw /= (freq * raw).sum() / freq.sum()
    return raw.astype("float32")


def effective_number_weights(counts: numpy.ndarray, beta: float) -> numpy.ndarray:
    """Compute (1 - beta) / (1 - beta**n) for counts n > 0, unnormalised."""
    if beta == 0.0:
        return numpy.ones_like(counts)
    # expm1 keeps 1 - beta**n precise when beta**n is close to 1.
    return (1.0 - beta) / -numpy.expm1(counts * numpy.log(beta))


def weights_table(
    tags: Sequence[str], counts: Mapping[str, int]
) -> Dict[str, Dict[str, float]]:
    """Compute the weights of every weighting, keyed by weighting then tag.
    The "effective" entry uses beta = DEFAULT_BETA.
    """
    table: Dict[str, Dict[str, float]] = {}
    for weighting in WEIGHTINGS:
        values: List[float] = class_weights(tags, counts, weighting).tolist()
        table[weighting] = dict(zip(tags, values))
    return table
