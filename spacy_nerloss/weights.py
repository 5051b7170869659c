"""Class weights computed from tag frequencies.

Every weighting returns one weight per tag, normalised so that the mean weight
over training tokens (each tag weighted by its count) is 1. A weighted loss then
stays on the same scale as the unweighted one, so learning rates carry over.
"""
from typing import Dict, List, Mapping, Sequence

import numpy

WEIGHTINGS = ("none", "inverse", "inverse_sqrt")


def validate_weighting(loss_name: str, weighting: str) -> None:
    """Raise a ValueError unless `weighting` is a known weighting name.

    loss_name (str): The registered loss name, used in the message.
    weighting (str): The value of the loss's `weighting` setting.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(
            f"[{loss_name}] Invalid value for 'weighting': {weighting!r}. "
            f"Allowed values: {', '.join(WEIGHTINGS)}."
        )


def class_weights(
    tags: Sequence[str],
    counts: Mapping[str, int],
    weighting: str,
    *,
    smoothing: float = 1.0,
) -> numpy.ndarray:
    """Compute one weight per tag from training counts.

    tags (Sequence[str]): The tag set, in the order of the model's output columns.
    counts (Mapping[str, int]): Training count of each tag. A tag missing from
        the mapping counts as 0.
    weighting (str): "none" (all 1), "inverse" (1/n) or "inverse_sqrt" (1/sqrt(n)).
    smoothing (float): Added to every count, so a tag never seen in training
        still gets a finite weight.
    RETURNS (numpy.ndarray): float32 weights of shape (len(tags),).
    """
    validate_weighting("class_weights", weighting)
    n = numpy.asarray([counts.get(tag, 0) for tag in tags], dtype="float64")
    if (n < 0).any():
        negative = [tag for tag in tags if counts.get(tag, 0) < 0]
        raise ValueError(f"Tag counts must not be negative, got negative counts for {negative}.")
    if weighting == "none":
        return numpy.ones(len(tags), dtype="float32")
    smoothed = n + smoothing
    if weighting == "inverse":
        raw = 1.0 / smoothed
    else:
        raw = 1.0 / numpy.sqrt(smoothed)
    # Normalise to a frequency-weighted mean of 1. With no counts at all, fall
    # back to the plain mean so the result is still finite.
    freq = n if n.sum() > 0 else numpy.ones_like(n)
    raw /= (freq * raw).sum() / freq.sum()
    return raw.astype("float32")


def weights_table(
    tags: Sequence[str], counts: Mapping[str, int]
) -> Dict[str, Dict[str, float]]:
    """Compute the weights of every weighting, keyed by weighting then tag."""
    table: Dict[str, Dict[str, float]] = {}
    for weighting in WEIGHTINGS:
        values: List[float] = class_weights(tags, counts, weighting).tolist()
        table[weighting] = dict(zip(tags, values))
    return table
