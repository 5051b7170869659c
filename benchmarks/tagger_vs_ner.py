"""Time the ner_tagger pipeline against spaCy's transition-based ner on the
same transformer, component by component.

Both pipelines are built from the shipped configs (`configs/focal.cfg` and
`configs/baselines/spacy_ner.cfg`) with the given transformer and initialized
on the same training data. Each round, in alternating order:

- prediction: the transformer runs over the docs, then the entity component
  runs over its output, each timed on its own;
- training: one `nlp.update` on the same batch.

The script prints medians, words per second and the tagger / ner ratios, in
wall-clock and in CPU seconds of this process.

    python benchmarks/tagger_vs_ner.py corpus/wnut17/train.spacy corpus/wnut17/dev.spacy assets/all-MiniLM-L6-v2

This is not a test: it asserts nothing.
"""
import argparse
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import spacy
from spacy.training import Corpus
from spacy.util import load_config
from thinc.api import fix_random_seed

CONFIGS = Path(__file__).parent.parent / "configs"
SYSTEMS = {
    "ner_tagger": (CONFIGS / "focal.cfg", "ner_tagger"),
    "spacy ner": (CONFIGS / "baselines" / "spacy_ner.cfg", "ner"),
}


def build(config_path: Path, transformer: str, class_frequencies: str, examples):
    config = load_config(config_path)
    config["components"]["transformer"]["model"]["name"] = transformer
    if "ner_tagger" in config["initialize"]["components"]:
        config["initialize"]["components"]["ner_tagger"]["class_frequencies"] = class_frequencies
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    fix_random_seed(0)
    nlp.initialize(lambda: examples)
    return nlp


def timed(function: Callable[[], object]) -> Tuple[float, float]:
    """Return the wall-clock and CPU seconds that one call takes."""
    start, start_cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - start, time.process_time() - start_cpu


def predict_round(nlp, head: str, docs) -> Dict[str, Tuple[float, float]]:
    transformer = nlp.get_pipe("transformer")
    component = nlp.get_pipe(head)
    copies = [doc.copy() for doc in docs]
    annotated: List = []
    times = {"transformer": timed(lambda: annotated.extend(transformer.pipe(copies)))}
    times["head"] = timed(lambda: list(component.pipe(annotated)))
    return times


def print_prediction_medians(
    name: str, times: Dict[str, List[Tuple[float, float]]], n_words: int, width: int
) -> Dict[str, Tuple[float, float]]:
    """Print and return the median wall-clock and CPU seconds of each part.

    `times` maps "transformer" and one entity component part to per-round
    (wall, CPU) seconds. A "prediction" part, the sum of both, is added.
    """
    transformer = times["transformer"]
    component = next(values for part, values in times.items() if part != "transformer")
    parts = dict(times)
    parts["prediction"] = [(a[0] + b[0], a[1] + b[1]) for a, b in zip(transformer, component)]
    medians = {}
    for part, values in parts.items():
        wall = statistics.median(value[0] for value in values)
        cpu = statistics.median(value[1] for value in values)
        medians[part] = (wall, cpu)
        print(
            f"{name:<{width}} {part:<12} {wall:8.3f} {cpu:8.3f} "
            f"{n_words / wall:9.0f} {n_words / cpu:12.0f}"
        )
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train", help="Training data as a .spacy file")
    parser.add_argument("dev", help="Evaluation data as a .spacy file")
    parser.add_argument("transformer", help="Transformer name or local folder")
    parser.add_argument("--class-frequencies", default=None, help="weights command output")
    parser.add_argument("--rounds", type=int, default=5, help="Timed rounds")
    parser.add_argument("--dev-docs", type=int, default=300, help="Docs per prediction round")
    parser.add_argument("--batch-docs", type=int, default=64, help="Docs per training batch")
    args = parser.parse_args()

    blank = spacy.blank("en")
    train = list(Corpus(args.train)(blank))
    dev_docs = [eg.predicted for eg in Corpus(args.dev)(blank)][: args.dev_docs]
    n_dev_words = sum(len(doc) for doc in dev_docs)
    pipelines = {
        name: build(path, args.transformer, args.class_frequencies, train)
        for name, (path, _) in SYSTEMS.items()
    }
    size = args.batch_docs
    batches = [train[i * size : (i + 1) * size] for i in range(args.rounds + 1)]

    predict: Dict[str, Dict[str, List[Tuple[float, float]]]] = {
        name: {"transformer": [], "head": []} for name in SYSTEMS
    }
    update: Dict[str, List[Tuple[float, float]]] = {name: [] for name in SYSTEMS}
    names = list(SYSTEMS)
    for i in range(args.rounds + 1):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            nlp, head = pipelines[name], SYSTEMS[name][1]
            times = predict_round(nlp, head, dev_docs)
            step = timed(lambda: nlp.update(batches[i], losses={}))
            if i == 0:
                continue  # The first round warms up caches and allocators.
            for part, value in times.items():
                predict[name][part].append(value)
            update[name].append(step)

    print(f"{args.rounds} rounds, {len(dev_docs)} dev docs ({n_dev_words} words) per prediction round")
    print(f"{'pipeline':<12} {'part':<12} {'wall s':>8} {'CPU s':>8} {'words/s':>9} {'words/CPU s':>12}")
    medians: Dict[str, Dict[str, Tuple[float, float]]] = {}
    for name in names:
        medians[name] = print_prediction_medians(name, predict[name], n_dev_words, 12)
        wall = statistics.median(value[0] for value in update[name])
        cpu = statistics.median(value[1] for value in update[name])
        medians[name]["training step"] = (wall, cpu)
        print(f"{name:<12} {'training step':<12} {wall:8.3f} {cpu:8.3f}")
    print()
    print("ner_tagger / spacy ner time (below 1: ner_tagger is faster)")
    for part in ("transformer", "head", "prediction", "training step"):
        tagger, ner = medians["ner_tagger"][part], medians["spacy ner"][part]
        print(f"  {part:<14} wall {tagger[0] / ner[0]:.3f}   CPU {tagger[1] / ner[1]:.3f}")


if __name__ == "__main__":
    main()
