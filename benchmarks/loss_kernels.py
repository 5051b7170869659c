"""Time loss and gradient of every spacy_nerloss loss against thinc's
SequenceCategoricalCrossentropy (the loss of spaCy's tagger) on the same batch.

Each repeat times every loss once, in turn, so a change in background load
affects all of them alike. The table gives the median time over the repeats
and its ratio to thinc's median.

    python benchmarks/loss_kernels.py [--tokens 50000] [--doc-length 25] [--repeats 9]

This is not a test: it asserts nothing and needs no GPU.
"""
import argparse
import os
import platform
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy
import thinc
from thinc.api import SequenceCategoricalCrossentropy

from spacy_nerloss.losses import (
    BatchBalancedFocal,
    ClassBalanced,
    CrossEntropy,
    Dice,
    Focal,
    LabelSmoothing,
    TagLoss,
)

LABELS = ("PER", "ORG", "LOC", "MISC", "DATE", "TIME", "MONEY", "PRODUCT")
TAGS = ("O",) + tuple(f"{prefix}-{label}" for label in LABELS for prefix in "BI")
# CoNLL-2003 training data has 170K O tokens and 34K entity tokens (Li et
# al., 2020, "Dice Loss for Data-imbalanced NLP Tasks", Table 1), so 83% O.
O_SHARE = 0.83
# A small share of tokens without a gold tag, so masking is part of the cost.
MISSING_SHARE = 0.02


def make_batch(
    n_tokens: int, doc_length: int, seed: int
) -> Tuple[List[numpy.ndarray], List[List[Optional[str]]]]:
    """Build float32 softmax outputs and gold tags, split into docs."""
    rng = numpy.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, size=(n_tokens, len(TAGS)))
    probs = numpy.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype("float32")
    share = numpy.full(len(TAGS), (1.0 - O_SHARE) / (len(TAGS) - 1))
    share[0] = O_SHARE
    target = rng.choice(len(TAGS), size=n_tokens, p=share)
    missing = rng.random(n_tokens) < MISSING_SHARE
    tags = [None if gone else TAGS[i] for i, gone in zip(target, missing)]
    starts = range(0, n_tokens, doc_length)
    guesses = [probs[start : start + doc_length] for start in starts]
    truths = [tags[start : start + doc_length] for start in starts]
    return guesses, truths


def make_losses(counts: Dict[str, int]) -> Dict[str, TagLoss]:
    losses: Dict[str, TagLoss] = {
        "cross_entropy.v1": CrossEntropy(),
        "cross_entropy.v1 inverse_sqrt": CrossEntropy(weighting="inverse_sqrt"),
        "focal.v1 gamma=2": Focal(),
        "focal.v1 gamma=0.5": Focal(gamma=0.5),
        "batch_balanced_focal.v1": BatchBalancedFocal(),
        "class_balanced.v1 focal": ClassBalanced(),
        "class_balanced.v1 cross_entropy": ClassBalanced(base="cross_entropy"),
        "label_smoothing.v1 0.1": LabelSmoothing(smoothing=0.1),
        "dice.v1": Dice(),
    }
    for loss in losses.values():
        loss.initialize(TAGS, counts)
    return losses


def time_side_by_side(
    calls: Dict[str, Callable[[], object]], repeats: int
) -> Dict[str, float]:
    """Run every call once as a warm-up, then `repeats` rounds of all calls in
    turn, and return each call's median time in seconds.
    """
    for call in calls.values():
        call()
    times: Dict[str, List[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def format_table(medians: Dict[str, float], baseline: str) -> Sequence[str]:
    width = max(len(name) for name in medians)
    lines = [f"{'loss':<{width}}  {'median ms':>9}  {'ratio':>6}"]
    for name, seconds in medians.items():
        ratio = seconds / medians[baseline]
        lines.append(f"{name:<{width}}  {seconds * 1000:>9.1f}  {ratio:>6.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=50_000, help="Tokens per batch")
    parser.add_argument("--doc-length", type=int, default=25, help="Tokens per doc")
    parser.add_argument("--repeats", type=int, default=9, help="Timed rounds")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the random batch")
    args = parser.parse_args()

    guesses, truths = make_batch(args.tokens, args.doc_length, args.seed)
    counts = {tag: 0 for tag in TAGS}
    for doc_tags in truths:
        for tag in doc_tags:
            if tag is not None:
                counts[tag] += 1

    # spaCy 3.8's Tagger.get_loss builds its loss with the tag names and
    # normalize=False.
    baseline = "thinc SequenceCategoricalCrossentropy"
    thinc_loss = SequenceCategoricalCrossentropy(names=TAGS, normalize=False)
    calls: Dict[str, Callable[[], object]] = {
        baseline: lambda: thinc_loss(guesses, truths)
    }
    for name, loss in make_losses(counts).items():
        calls[name] = lambda loss=loss: loss(guesses, truths)

    medians = time_side_by_side(calls, args.repeats)
    print(
        f"{args.tokens} tokens x {len(TAGS)} tags in {len(guesses)} docs, float32, "
        f"median of {args.repeats} repeats; ratio = time / thinc time"
    )
    print(
        f"numpy {numpy.__version__}, thinc {thinc.__version__}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )
    print("\n".join(format_table(medians, baseline)))


if __name__ == "__main__":
    main()
