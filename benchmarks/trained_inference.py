"""Time the prediction of trained pipelines side by side, component by component.

Each argument after the data file is a trained pipeline folder, for example
the `model-last` of each run of the compare workflow. Every round runs each
pipeline in rotating order: its transformer over the dev docs, then its entity
component (the last component of the pipeline) over the transformer's output,
each timed on its own. The first round only warms up. The script prints
medians, words per second, and each pipeline's time over the first
pipeline's, in wall-clock and in CPU seconds of this process.

    python benchmarks/trained_inference.py corpus/conll2003/dev.spacy \\
        training/compare/conll2003/spacy_ner/seed0/model-last \\
        training/compare/conll2003/focal/seed0/model-last

This is not a test: it asserts nothing.
"""
import argparse
from pathlib import Path
from typing import Dict, List, Tuple

import spacy
from spacy.training import Corpus

from tagger_vs_ner import print_prediction_medians, timed


def pipeline_name(path: Path) -> str:
    """Name a compare run's `model-last` by its system and seed folders."""
    if path.name.startswith("model-") and len(path.parts) >= 3:
        return f"{path.parent.parent.name}/{path.parent.name}"
    return path.name


def predict_round(nlp, docs) -> Dict[str, Tuple[float, float]]:
    transformer = nlp.get_pipe("transformer")
    component = nlp.get_pipe(nlp.pipe_names[-1])
    copies = [doc.copy() for doc in docs]
    annotated: List = []
    times = {"transformer": timed(lambda: annotated.extend(transformer.pipe(copies)))}
    times["entities"] = timed(lambda: list(component.pipe(annotated)))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dev", help="Evaluation data as a .spacy file")
    parser.add_argument("pipelines", nargs="+", type=Path, help="Trained pipeline folders")
    parser.add_argument("--rounds", type=int, default=5, help="Timed rounds")
    parser.add_argument("--dev-docs", type=int, default=0, help="Docs per round (0: all)")
    parser.add_argument(
        "--flush-denormal",
        action="store_true",
        help="Call torch.set_flush_denormal(True) before timing",
    )
    args = parser.parse_args()
    if args.flush_denormal:
        import torch

        if not torch.set_flush_denormal(True):
            parser.error("This CPU does not support flushing denormal numbers.")

    names = [pipeline_name(path) for path in args.pipelines]
    if len(set(names)) != len(names):
        names = [str(path) for path in args.pipelines]
    pipelines = {name: spacy.load(path) for name, path in zip(names, args.pipelines)}
    blank = spacy.blank(pipelines[names[0]].lang)
    dev_docs = [eg.predicted for eg in Corpus(args.dev)(blank)]
    if args.dev_docs > 0:
        dev_docs = dev_docs[: args.dev_docs]
    n_words = sum(len(doc) for doc in dev_docs)

    times: Dict[str, Dict[str, List[Tuple[float, float]]]] = {
        name: {"transformer": [], "entities": []} for name in names
    }
    for i in range(args.rounds + 1):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            result = predict_round(pipelines[name], dev_docs)
            if i == 0:
                continue  # The first round warms up caches and allocators.
            for part, value in result.items():
                times[name][part].append(value)

    print(f"{args.rounds} rounds, {len(dev_docs)} docs ({n_words} words) per round")
    print(f"{'pipeline':<28} {'part':<12} {'wall s':>8} {'CPU s':>8} {'words/s':>9} {'words/CPU s':>12}")
    medians: Dict[str, Dict[str, Tuple[float, float]]] = {}
    for name in names:
        medians[name] = print_prediction_medians(name, times[name], n_words, 28)
    print()
    print(f"Time over {names[0]} (below 1: faster)")
    for name in names[1:]:
        for part in ("transformer", "entities", "prediction"):
            own, base = medians[name][part], medians[names[0]][part]
            print(f"  {name:<28} {part:<12} wall {own[0] / base[0]:.3f}   CPU {own[1] / base[1]:.3f}")


if __name__ == "__main__":
    main()
