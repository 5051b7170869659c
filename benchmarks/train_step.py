"""Time full training steps (transformer + ner_tagger) with focal loss against
cross-entropy, on the same batches.

Both pipelines are built from the shipped configs and differ only in their
loss. Each round runs one `nlp.update` per pipeline on the same batch, in
alternating order, so background load hits both alike. The script prints the
median step time of each loss and their ratio, and the share of the step spent
in the loss itself.

    python benchmarks/train_step.py corpus/wnut17/train.spacy assets/all-MiniLM-L6-v2 [--rounds 10]

This is not a test: it asserts nothing.
"""
import argparse
import statistics
import time
from pathlib import Path
from typing import Dict, List

import spacy
from spacy.training import Corpus
from spacy.util import load_config
from thinc.api import fix_random_seed

CONFIGS = Path(__file__).parent.parent / "configs"


def build(config_name: str, transformer: str, examples):
    config = load_config(CONFIGS / f"{config_name}.cfg")
    config["components"]["transformer"]["model"]["name"] = transformer
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    fix_random_seed(0)
    optimizer = nlp.initialize(lambda: examples)
    return nlp, optimizer


def time_loss_share(nlp, batch) -> float:
    """Return the seconds that one get_loss call takes on the batch."""
    tagger = nlp.get_pipe("ner_tagger")
    docs = list(nlp.pipe([eg.predicted for eg in batch], disable=["ner_tagger"]))
    scores, _ = tagger.model.begin_update(docs)
    start = time.perf_counter()
    tagger.get_loss(batch, scores)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train", help="Training data as a .spacy file")
    parser.add_argument("transformer", help="Transformer name or local folder")
    parser.add_argument("--rounds", type=int, default=10, help="Timed rounds")
    parser.add_argument("--batch-docs", type=int, default=64, help="Docs per batch")
    args = parser.parse_args()

    blank = spacy.blank("en")
    examples = list(Corpus(args.train)(blank))
    pipelines = {name: build(name, args.transformer, examples) for name in ("cross_entropy", "focal")}
    size = args.batch_docs
    batches = [examples[i * size : (i + 1) * size] for i in range(args.rounds + 1)]

    times: Dict[str, List[float]] = {name: [] for name in pipelines}
    order = list(pipelines)
    for round_index, batch in enumerate(batches):
        for name in order if round_index % 2 else reversed(order):
            nlp, optimizer = pipelines[name]
            start = time.perf_counter()
            nlp.update(batch, sgd=optimizer, drop=0.1)
            if round_index:  # the first round warms up
                times[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(values) for name, values in times.items()}
    n_words = sum(len(eg.predicted) for eg in batches[0])
    print(f"{args.rounds} rounds, {size} docs per batch (~{n_words} words), median step time")
    for name, seconds in medians.items():
        loss_seconds = time_loss_share(pipelines[name][0], batches[0])
        print(
            f"{name:<14} {seconds:7.3f} s   get_loss {loss_seconds * 1000:6.1f} ms "
            f"({loss_seconds / seconds:.2%} of the step)"
        )
    print(f"focal / cross_entropy step time: {medians['focal'] / medians['cross_entropy']:.3f}")


if __name__ == "__main__":
    main()
