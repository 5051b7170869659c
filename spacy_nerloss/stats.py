"""Class statistics of an NER corpus and a loss recommendation drawn from them.

The recommendation follows four rules, checked in order; the first that
applies names the loss:

1. Mild imbalance: `O` is under 80% of the tagged tokens and the most frequent
   tag is under 10 times as frequent as the rarest. Plain cross-entropy is the
   simplest model of such data.
2. Unstable batches: the entity-token share of a batch, under the training
   batcher, has a coefficient of variation (standard deviation over mean) of
   0.5 or more. Batch-balanced focal loss computes its weights from each
   batch's own counts, so it follows that variation.
3. Rare types: the rarest entity type has fewer than 1,000 entities in the
   corpus. Class-balanced focal loss weights each tag by the inverse of its
   effective number of samples, which gives the rare types more weight than
   the square-root weights of rule 4.
4. Otherwise `O` dominates but every type has enough examples: focal loss
   (gamma 2) with inverse square-root class weights.
"""
import json
import random
from collections import Counter
from statistics import mean, pstdev
from typing import Any, Callable, Dict, Iterable, List, Sequence

from spacy.training import Example

from .tags import count_tags, make_tags
from .weights import DEFAULT_BETA

# Thresholds of the decision rules in the module docstring.
MILD_O_SHARE = 0.80
MILD_IMBALANCE_RATIO = 10.0
UNSTABLE_BATCH_CV = 0.5
RARE_TYPE_ENTITIES = 1000

# The loss block of each recommended config in configs/; a test checks that
# they match the files.
LOSS_BLOCKS: Dict[str, Dict[str, Any]] = {
    "cross_entropy": {"@losses": "spacy_nerloss.cross_entropy.v1", "weighting": "none"},
    "batch_balanced_focal": {
        "@losses": "spacy_nerloss.batch_balanced_focal.v1",
        "gamma": 2.0,
        "beta": 0.999,
    },
    "class_balanced": {
        "@losses": "spacy_nerloss.class_balanced.v1",
        "beta": 0.9999,
        "base": "focal",
        "gamma": 2.0,
    },
    "focal": {
        "@losses": "spacy_nerloss.focal.v1",
        "gamma": 2.0,
        "alpha": None,
        "weighting": "inverse_sqrt",
    },
}


def corpus_stats(
    examples: Sequence[Example],
    scheme: str,
    *,
    batcher: Callable[[Iterable[Example]], Iterable[List[Example]]],
    beta: float = DEFAULT_BETA,
    epochs: int = 5,
    seed: int = 0,
) -> Dict[str, Any]:
    """Count tags and entities and measure how the entity share varies by batch.

    examples (Sequence[Example]): The corpus.
    scheme (str): "BIO" or "BILUO".
    batcher (Callable): A spaCy batcher, as in [training.batcher].
    beta (float): The beta of the effective number of samples, in [0, 1).
    epochs (int): Shuffled passes over the corpus for the batch statistics,
        as spaCy's training loop shuffles before every epoch.
    seed (int): Seed of the shuffling.
    RETURNS (Dict[str, Any]): The statistics, as the stats command prints them.
    """
    labels = sorted({ent.label_ for eg in examples for ent in eg.reference.ents})
    tags = make_tags(labels, scheme)
    found = count_tags(examples, scheme)
    counts = {tag: found.get(tag, 0) for tag in tags}
    n_tagged = sum(counts.values())
    entities = Counter(ent.label_ for eg in examples for ent in eg.reference.ents)
    entity_tokens = Counter()
    for eg in examples:
        for ent in eg.reference.ents:
            entity_tokens[ent.label_] += len(ent)

    present = {tag: n for tag, n in counts.items() if n > 0}
    max_tag = max(present, key=present.get)
    min_tag = min(present, key=present.get)
    return {
        "scheme": scheme,
        "docs": len(examples),
        "tokens": sum(len(eg.reference) for eg in examples),
        "tagged_tokens": n_tagged,
        "entities": sum(entities.values()),
        "o_share": counts["O"] / n_tagged if n_tagged else 0.0,
        "imbalance_ratio": present[max_tag] / present[min_tag],
        "most_frequent_tag": max_tag,
        "least_frequent_tag": min_tag,
        "absent_tags": [tag for tag in tags if counts[tag] == 0],
        "beta": beta,
        "tags": {
            tag: {
                "count": n,
                "share": n / n_tagged if n_tagged else 0.0,
                "effective_number": effective_number(n, beta),
            }
            for tag, n in counts.items()
        },
        "entity_types": {
            label: {
                "entities": entities[label],
                "share": entities[label] / sum(entities.values()),
                "tokens": entity_tokens[label],
            }
            for label in labels
        },
        "batches": batch_stats(examples, batcher, epochs=epochs, seed=seed),
    }


def effective_number(n: int, beta: float) -> float:
    """Return the effective number of samples (1 - beta**n) / (1 - beta).

    It is close to n while n is small next to 1 / (1 - beta), and approaches
    1 / (1 - beta) as n grows (Cui et al., 2019).
    """
    if beta == 0.0:
        return 1.0 if n > 0 else 0.0
    return (1.0 - beta**n) / (1.0 - beta)


def batch_stats(
    examples: Sequence[Example],
    batcher: Callable[[Iterable[Example]], Iterable[List[Example]]],
    *,
    epochs: int,
    seed: int,
) -> Dict[str, Any]:
    """Describe the entity-token share of the batches the batcher makes.

    Only tokens with a gold annotation count. Batches without such tokens are
    left out.
    """
    rng = random.Random(seed)
    shares = []
    for _ in range(epochs):
        order = list(examples)
        rng.shuffle(order)
        for batch in batcher(order):
            n_tokens = n_entity = 0
            for eg in batch:
                for iob in eg.reference.to_array("ENT_IOB").tolist():
                    n_tokens += iob != 0
                    n_entity += iob in (1, 3)
            if n_tokens:
                shares.append(n_entity / n_tokens)
    if not shares:
        raise ValueError("The batcher produced no batch with annotated tokens.")
    avg = mean(shares)
    spread = pstdev(shares)
    return {
        "batches": len(shares),
        "epochs": epochs,
        "entity_share_mean": avg,
        "entity_share_sd": spread,
        "entity_share_min": min(shares),
        "entity_share_max": max(shares),
        "entity_share_cv": spread / avg if avg else None,
    }


def recommend_loss(stats: Dict[str, Any]) -> Dict[str, Any]:
    """Apply the decision rules of the module docstring to corpus statistics.

    stats (Dict[str, Any]): The output of `corpus_stats`.
    RETURNS (Dict[str, Any]): "loss" (the config name in configs/), "rule"
        (1 to 4), "reason" (a sentence with the figures) and "config" (the
        loss block to paste into a config).
    """
    o_share = stats["o_share"]
    ratio = stats["imbalance_ratio"]
    cv = stats["batches"]["entity_share_cv"]
    types = stats["entity_types"]
    rarest = min(types, key=lambda label: types[label]["entities"]) if types else None

    if o_share < MILD_O_SHARE and ratio < MILD_IMBALANCE_RATIO:
        loss, rule = "cross_entropy", 1
        reason = (
            f"The imbalance is mild: O is {o_share:.1%} of the tagged tokens "
            f"(under {MILD_O_SHARE:.0%}) and the tag imbalance ratio is "
            f"{ratio:.1f} (under {MILD_IMBALANCE_RATIO:g})."
        )
    elif cv is not None and cv >= UNSTABLE_BATCH_CV:
        loss, rule = "batch_balanced_focal", 2
        reason = (
            f"The entity share changes a lot from batch to batch (coefficient "
            f"of variation {cv:.2f}, at least {UNSTABLE_BATCH_CV}), so weights "
            "from each batch's own counts follow it."
        )
    elif rarest is not None and types[rarest]["entities"] < RARE_TYPE_ENTITIES:
        loss, rule = "class_balanced", 3
        reason = (
            f"O is {o_share:.1%} of the tagged tokens and the rarest type, "
            f"{rarest}, has {types[rarest]['entities']} entities (under "
            f"{RARE_TYPE_ENTITIES:,}), so weights by effective number of samples "
            "give the rare types more weight."
        )
    else:
        loss, rule = "focal", 4
        reason = (
            f"O is {o_share:.1%} of the tagged tokens (imbalance ratio "
            f"{ratio:.1f}), but every type has at least {RARE_TYPE_ENTITIES:,} "
            "entities, so focal loss with square-root class weights is enough."
        )
    return {"loss": loss, "rule": rule, "reason": reason, "config": loss_block(loss)}


def loss_block(name: str) -> str:
    """Return the [components.ner_tagger.loss] block of a recommended loss."""
    lines = ["[components.ner_tagger.loss]"]
    for key, value in LOSS_BLOCKS[name].items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines)
