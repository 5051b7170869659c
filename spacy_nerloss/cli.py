"""Command-line tools: convert column files, compute class weights, print
class statistics, evaluate and compare pipelines.

Run as `python -m spacy_nerloss COMMAND --help`.
"""
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

import spacy
import srsly
import typer
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc, DocBin
from spacy.training import Corpus, Example, offsets_to_biluo_tags
from spacy.util import registry
from thinc.api import Config
from wasabi import msg

from .component import NERTagger
from .corpus import DEFAULT_N_SENTS, read_conll
from .plots import plot_per_type_f1
from .tags import BILUO_TO_BIO, SCHEMES, count_tags, gold_tags, make_tags, split_tag
from .weights import DEFAULT_BETA, WEIGHTINGS, weights_table

app = typer.Typer(
    name="spacy_nerloss",
    help="Data preparation and evaluation for the spacy_nerloss NER component.",
    add_completion=False,
    no_args_is_help=True,
)
Arg = typer.Argument
Opt = typer.Option


@app.command("convert")
def convert_cli(
    input_file: Path = Arg(
        ..., help="Column-format NER file (CoNLL-2003 or WNUT-17 style)"
    ),
    output_file: Path = Arg(..., help="Output .spacy file"),
    n_sents: int = Opt(
        DEFAULT_N_SENTS,
        "--n-sents",
        "-n",
        help="Sentences per doc in files with -DOCSTART- lines. Files without "
        "them get one doc per text.",
    ),
    lang: str = Opt("en", "--lang", "-l", help="Language code of the vocab"),
):
    """Convert a column-format NER file to a .spacy file."""
    check_input_file(input_file)
    check_output_file(output_file, ".spacy")
    if n_sents < 1:
        msg.fail(
            f"Invalid value for --n-sents: {n_sents}. Expected an integer >= 1.",
            exits=1,
        )
    nlp = make_blank(lang)
    try:
        docs, stats = read_conll(input_file, nlp.vocab, n_sents=n_sents, warn=False)
    except ValueError as err:
        msg.fail(f"Cannot convert {input_file}", str(err), exits=1)

    unit = "sentences" if stats.documents else "texts"
    in_documents = f" in {stats.documents} documents" if stats.documents else ""
    msg.good(
        f"Read {stats.sentences} {unit}, {stats.tokens} tokens{in_documents} "
        f"from {input_file}"
    )
    if not stats.tokens:
        msg.fail(
            f"No tokens found in {input_file}",
            "Every line is blank or a -DOCSTART- line. Nothing was written.",
            exits=1,
        )
    if stats.converted:
        msg.info(
            f"Converted {stats.converted} IOB1 tags to IOB2: an I- tag that opens "
            "an entity became B-"
        )
    if stats.repaired:
        msg.warn(
            f"Repaired {stats.repaired} ill-formed tags in {input_file}, first at "
            f"line {stats.first_repaired_line}",
            "An I- tag whose label differs from the entity before it (I-ORG after "
            "B-PER) was read as the start of a new entity.",
        )
    output_file.parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs, store_user_data=False).to_disk(output_file)
    n_written = sum(len(doc) for doc in docs)
    msg.good(f"Wrote {stats.docs} docs, {n_written} tokens to {output_file}")


@app.command("weights")
def weights_cli(
    train_file: Path = Arg(..., help="Training data as a .spacy file"),
    output_file: Path = Arg(..., help="Output .json file"),
    scheme: str = Opt("BIO", "--scheme", "-s", help="Tag scheme: BIO or BILUO"),
    lang: str = Opt(
        "en",
        "--lang",
        "-l",
        help="Language of the tokenizer that re-tokenizes docs with known spaces, "
        "as training does. Docs written by `convert` keep their tokens.",
    ),
):
    """Count the gold tags of a training corpus and compute the class weights.

    The output file is what the ner_tagger component reads with
    [initialize.components.ner_tagger] class_frequencies.
    """
    check_input_file(train_file, ".spacy")
    check_output_file(output_file, ".json")
    check_scheme(scheme)
    examples = load_examples(make_blank(lang), train_file)
    labels = sorted({ent.label_ for eg in examples for ent in eg.reference.ents})
    if not labels:
        msg.fail(f"No entities found in {train_file}", exits=1)

    data = tag_frequencies(examples, labels, scheme)
    output_file.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output_file, data)

    total = sum(data["counts"].values())
    rows = []
    for tag in data["tags"]:
        count = data["counts"][tag]
        weights = [f"{data['weights'][weighting][tag]:.4f}" for weighting in WEIGHTINGS]
        share = f"{count / total:.2%}" if total else "-"
        rows.append((tag, count, share, *weights))
    msg.table(
        rows,
        header=("tag", "count", "share", *WEIGHTINGS),
        aligns=("l",) + ("r",) * (2 + len(WEIGHTINGS)),
        divider=True,
    )
    msg.good(
        f"Counted {total} tagged tokens in {len(examples)} docs, wrote {output_file}"
    )


def tag_frequencies(
    examples: List[Example], labels: Sequence[str], scheme: str
) -> Dict[str, Any]:
    """Count the gold tags and compute the weights of every weighting.

    examples (List[Example]): The training examples.
    labels (Sequence[str]): The sorted entity labels.
    scheme (str): "BIO" or "BILUO".
    RETURNS (Dict[str, Any]): The JSON object that `NERTagger.initialize` reads as
        `class_frequencies`, with every tag in `counts`, unseen tags as 0.
    """
    tags = make_tags(labels, scheme)
    found = count_tags(examples, scheme)
    counts = {tag: found.get(tag, 0) for tag in tags}
    return {
        "scheme": scheme,
        "labels": list(labels),
        "tags": list(tags),
        "counts": counts,
        "weights": weights_table(tags, counts),
    }


@app.command("evaluate")
def evaluate_cli(
    model: str = Arg(..., help="Pipeline package name or path"),
    data_file: Path = Arg(..., help="Evaluation data as a .spacy file"),
    output_file: Path = Opt(
        Path("metrics/scores.json"),
        "--output",
        "-o",
        help="Output .json file for the scores",
    ),
    gpu_id: int = Opt(-1, "--gpu-id", "-g", help="GPU ID, or -1 for CPU"),
):
    """Evaluate a pipeline: entity P/R/F per type and token P/R/F per tag."""
    check_input_file(data_file, ".spacy")
    check_output_file(output_file, ".json")
    setup_device(gpu_id)
    nlp = load_pipeline(model)
    examples = load_examples(nlp, data_file)

    scores = annotate_and_score(nlp, examples)
    scheme = pipeline_scheme(nlp)
    result = {
        "ents_p": scores.get("ents_p"),
        "ents_r": scores.get("ents_r"),
        "ents_f": scores.get("ents_f"),
        "ents_per_type": entity_scores(examples, scores.get("ents_per_type")),
        "tags_per_type": score_tags(examples, scheme),
        "speed": scores.get("speed"),
    }

    msg.divider("Entities")
    rows = [
        ("Precision", format_score(result["ents_p"])),
        ("Recall", format_score(result["ents_r"])),
        ("F-score", format_score(result["ents_f"])),
        ("Speed (words/s)", f"{result['speed']:.0f}"),
    ]
    msg.table(rows, aligns=("l", "r"))
    print_prf_table("Entities per type", "type", result["ents_per_type"])
    print_prf_table(f"Tokens per tag ({scheme})", "tag", result["tags_per_type"])
    output_file.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output_file, result)
    msg.good(f"Saved scores to {output_file}")
    if result["ents_per_type"]:
        plot_file = output_file.with_name(f"{output_file.stem}_per_type.png")
        title = f"{model} on {data_file.name}: F1 per entity type"
        plot_per_type_f1(result["ents_per_type"], plot_file, title)
        msg.good(f"Saved the per-type F1 chart to {plot_file}")


def annotate_and_score(nlp: Language, examples: List[Example]) -> Dict[str, Any]:
    """Run the pipeline over the examples once, keep its predictions in
    `example.predicted` for the per-tag scores, and score them with spaCy's Scorer.

    `nlp.evaluate` is not used because it annotates copies of the examples,
    which would leave the per-tag scores without predictions.
    """
    start, start_cpu = time.perf_counter(), time.process_time()
    docs = list(nlp.pipe(eg.predicted for eg in examples))
    elapsed = time.perf_counter() - start
    elapsed_cpu = time.process_time() - start_cpu
    for example, doc in zip(examples, docs):
        example.predicted = doc
    scores = Scorer(nlp).score(examples)
    n_words = sum(len(doc) for doc in docs)
    scores["speed"] = n_words / elapsed if elapsed > 0 else 0.0
    # Words per CPU second of this process: less disturbed by other load.
    scores["cpu_speed"] = n_words / elapsed_cpu if elapsed_cpu > 0 else 0.0
    return scores


def entity_scores(
    examples: Iterable[Example], per_type: Optional[Dict[str, Dict[str, float]]]
) -> Dict[str, Dict[str, float]]:
    """Add the gold entity count of each type to spaCy's per-type scores.

    examples (Iterable[Example]): The evaluated examples.
    per_type (Optional[Dict[str, Dict[str, float]]]): spaCy's "ents_per_type",
        which is None when neither gold nor predictions contain an entity.
    RETURNS (Dict[str, Dict[str, float]]): "p", "r", "f" and "support" (gold
        entity count) per type. A gold type without a spaCy score gets zeros.
    """
    per_type = per_type or {}
    support = Counter(ent.label_ for eg in examples for ent in eg.reference.ents)
    result = {}
    for label in sorted(set(per_type) | set(support)):
        prf = per_type.get(label, {"p": 0.0, "r": 0.0, "f": 0.0})
        result[label] = {
            "p": prf["p"],
            "r": prf["r"],
            "f": prf["f"],
            "support": support[label],
        }
    return result


def score_tags(
    examples: Iterable[Example], scheme: str
) -> Dict[str, Dict[str, float]]:
    """Compute token-level precision, recall and F-score of every tag.

    Gold tags are aligned to the predicted tokens. Tokens without a gold tag
    (missing or misaligned) are skipped.

    examples (Iterable[Example]): Examples whose predicted docs contain the
        predicted entities.
    scheme (str): "BIO" or "BILUO".
    RETURNS (Dict[str, Dict[str, float]]): "p", "r", "f" and "support" (gold
        token count) per tag, "O" first.
    """
    true_pos: Counter = Counter()
    n_predicted: Counter = Counter()
    n_gold: Counter = Counter()
    for eg in examples:
        pairs = zip(gold_tags(eg, scheme), predicted_tags(eg.predicted, scheme))
        for gold, predicted in pairs:
            if gold is None:
                continue
            n_gold[gold] += 1
            n_predicted[predicted] += 1
            if gold == predicted:
                true_pos[gold] += 1

    seen = set(n_gold) | set(n_predicted)
    labels = sorted({split_tag(tag)[1] for tag in seen if tag != "O"})
    result = {}
    for tag in make_tags(labels, scheme):
        precision = true_pos[tag] / n_predicted[tag] if n_predicted[tag] else 0.0
        recall = true_pos[tag] / n_gold[tag] if n_gold[tag] else 0.0
        total = precision + recall
        fscore = 2 * precision * recall / total if total else 0.0
        result[tag] = {
            "p": precision,
            "r": recall,
            "f": fscore,
            "support": n_gold[tag],
        }
    return result


def predicted_tags(doc: Doc, scheme: str) -> List[str]:
    """Return the tags of the doc's entities in `scheme`, "O" outside entities."""
    offsets = [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
    biluo = offsets_to_biluo_tags(doc, offsets)
    if scheme == "BILUO":
        return biluo
    tags = []
    for tag in biluo:
        prefix, label = split_tag(tag)
        tags.append("O" if prefix == "O" else f"{BILUO_TO_BIO[prefix]}-{label}")
    return tags


def pipeline_scheme(nlp: Language) -> str:
    """Return the scheme of the pipeline's ner_tagger, or BIO if it has none."""
    for _, pipe in nlp.pipeline:
        if isinstance(pipe, NERTagger):
            return pipe.scheme
    return "BIO"


def print_prf_table(
    title: str, key_name: str, scores: Dict[str, Dict[str, float]]
) -> None:
    msg.divider(title)
    rows = []
    for key, prf in scores.items():
        values = [format_score(prf[name]) for name in ("p", "r", "f")]
        rows.append((key, *values, prf["support"]))
    msg.table(
        rows,
        header=(key_name, "P", "R", "F", "support"),
        aligns=("l", "r", "r", "r", "r"),
        divider=True,
    )


def format_score(value: Optional[float]) -> str:
    """Format a score in [0, 1] as a percentage, or as "-" when it is undefined."""
    return "-" if value is None else f"{100 * value:.2f}"


def check_input_file(path: Path, suffix: Optional[str] = None) -> None:
    """Exit with an error unless `path` is an existing file ending in `suffix`."""
    if not path.exists():
        msg.fail(f"Input file not found: {path}", exits=1)
    if not path.is_file():
        msg.fail(f"Input path is not a file: {path}", exits=1)
    if suffix is not None and path.suffix != suffix:
        msg.fail(
            f"Invalid input file extension: {path}",
            f"Expected a {suffix} file.",
            exits=1,
        )


def check_scheme(scheme: str, setting: str = "--scheme") -> None:
    """Exit with an error unless `scheme` is a supported tag scheme."""
    if scheme not in SCHEMES:
        msg.fail(
            f"Invalid value for {setting}: {scheme!r}. "
            f"Allowed values: {', '.join(SCHEMES)}.",
            exits=1,
        )


def check_output_file(path: Path, suffix: str) -> None:
    """Exit with an error unless `path` ends in `suffix` and is not a folder."""
    if path.suffix != suffix:
        msg.fail(
            f"Invalid output file extension: {path}",
            f"Expected a {suffix} file.",
            exits=1,
        )
    if path.is_dir():
        msg.fail(f"Output path is a folder: {path}", exits=1)


def make_blank(lang: str) -> Language:
    try:
        return spacy.blank(lang)
    except ImportError as err:
        msg.fail(f"Invalid language code: {lang!r}", str(err), exits=1)


def load_pipeline(model: str) -> Language:
    try:
        return spacy.load(model)
    except OSError as err:
        msg.fail(f"Cannot load pipeline: {model}", str(err), exits=1)


def load_examples(nlp: Language, path: Path) -> List[Example]:
    """Read a .spacy file into Examples, as spaCy's training Corpus does."""
    try:
        examples = list(Corpus(path)(nlp))
    except ValueError as err:
        msg.fail(f"Cannot read {path}", str(err), exits=1)
    if not examples:
        msg.fail(f"No docs with tokens found in {path}", exits=1)
    return examples


def setup_device(gpu_id: int) -> None:
    if gpu_id < 0:
        msg.info("Using CPU")
        return
    try:
        spacy.require_gpu(gpu_id)
    except (ValueError, ImportError) as err:
        msg.fail(f"Cannot use GPU {gpu_id}", str(err), exits=1)
    msg.info(f"Using GPU {gpu_id}")


@app.command("compare")
def compare_cli(
    config_path: Path = Arg(..., help="Training config of the system"),
    train_file: Path = Arg(..., help="Training data as a .spacy file"),
    dev_file: Path = Arg(..., help="Evaluation data as a .spacy file"),
    class_frequencies: Optional[Path] = Opt(
        None, "--class-frequencies", "-c", help="Tag counts from the weights command"
    ),
    name: Optional[str] = Opt(
        None, "--name", "-n", help="System name; defaults to the config file name"
    ),
    training_dir: Path = Opt(
        Path("training/compare"), "--training-dir", help="Folder for the pipelines"
    ),
    metrics_dir: Path = Opt(
        Path("metrics/compare"), "--metrics-dir", help="Folder for the results"
    ),
    n_seeds: int = Opt(1, "--n-seeds", help="Train with seeds 0 to N-1"),
    max_steps: int = Opt(
        250,
        "--max-steps",
        help="Training steps per run; spaCy's loop updates at steps 0 to N",
    ),
    warmup_steps: int = Opt(25, "--warmup-steps", help="Linear warm-up steps"),
    learn_rate: float = Opt(1e-4, "--learn-rate", help="Peak learning rate"),
    transformer: str = Opt(
        "assets/all-MiniLM-L6-v2",
        "--transformer",
        "-t",
        help="Hugging Face model name or local folder",
    ),
    gpu_id: int = Opt(-1, "--gpu-id", "-g", help="GPU ID, or -1 for CPU"),
):
    """Train and evaluate one system per seed for a comparison.

    Runs whose inputs (config, data, settings) are unchanged since they
    finished are not run again, so an interrupted comparison resumes.
    """
    from .compare import run_system

    check_input_file(config_path, ".cfg")
    check_input_file(train_file, ".spacy")
    check_input_file(dev_file, ".spacy")
    if class_frequencies is not None:
        check_input_file(class_frequencies, ".json")
    for option, value, minimum in (
        ("--n-seeds", n_seeds, 1),
        ("--max-steps", max_steps, 1),
        ("--warmup-steps", warmup_steps, 0),
    ):
        if value < minimum:
            msg.fail(
                f"Invalid value for {option}: {value}. "
                f"Expected an integer >= {minimum}.",
                exits=1,
            )
    if warmup_steps > max_steps:
        msg.fail(
            f"Invalid value for --warmup-steps: {warmup_steps}. Expected at most "
            f"--max-steps ({max_steps}), or the learning rate never reaches its peak.",
            exits=1,
        )
    run_system(
        name or config_path.stem,
        config_path,
        train=train_file,
        dev=dev_file,
        class_frequencies=class_frequencies,
        training_dir=training_dir,
        metrics_dir=metrics_dir,
        seeds=range(n_seeds),
        max_steps=max_steps,
        warmup_steps=warmup_steps,
        learn_rate=learn_rate,
        transformer=transformer,
        gpu_id=gpu_id,
    )


@app.command("compare-report")
def compare_report_cli(
    metrics_dir: Path = Arg(..., help="Folder with the results of the compare command"),
    output_dir: Path = Arg(..., help="Folder for comparison.md/.json and the plots"),
    title: str = Opt("Comparison", "--title", help="Heading of comparison.md"),
):
    """Tabulate and plot the results of the compare command."""
    from .compare import write_report

    try:
        write_report(metrics_dir, output_dir, title)
    except ValueError as err:
        msg.fail(str(err), exits=1)
    print((output_dir / "comparison.md").read_text(encoding="utf8"))
    msg.good(f"Saved comparison.md, comparison.json and two plots to {output_dir}")


# The batcher of the shipped configs, used by `stats` when no config is given.
DEFAULT_BATCHER = {
    "@batchers": "spacy.batch_by_padded.v1",
    "size": 2000,
    "buffer": 256,
    "discard_oversize": True,
    "get_length": None,
}


@app.command("stats")
def stats_cli(
    data_file: Path = Arg(..., help="Corpus as a .spacy file, usually the training set"),
    config_path: Optional[Path] = Opt(
        None,
        "--config",
        "-c",
        help="Training config whose [training.batcher] makes the batches and "
        "whose ner_tagger sets the tag scheme. "
        "Default: spacy.batch_by_padded.v1 with size 2000, as in configs/.",
    ),
    scheme: Optional[str] = Opt(
        None,
        "--scheme",
        "-s",
        help="Tag scheme: BIO or BILUO. Default: the scheme of the ner_tagger "
        "in --config, else BIO",
    ),
    beta: float = Opt(
        DEFAULT_BETA, "--beta", help="Beta of the effective number of samples"
    ),
    epochs: int = Opt(5, "--epochs", help="Shuffled passes for the batch statistics"),
    as_json: bool = Opt(False, "--json", help="Print the statistics as JSON only"),
    lang: str = Opt("en", "--lang", "-l", help="Language code of the vocab"),
):
    """Print class statistics of a corpus and recommend a loss.

    The recommendation follows the rules documented in the README section
    "Diagnose your data" and in spacy_nerloss/stats.py.
    """
    from .stats import corpus_stats, recommend_loss

    check_input_file(data_file, ".spacy")
    if scheme is not None:
        check_scheme(scheme)
    if not 0.0 <= beta < 1.0:
        msg.fail(f"Invalid value for --beta: {beta}. Expected a number in [0, 1).", exits=1)
    if epochs < 1:
        msg.fail(f"Invalid value for --epochs: {epochs}. Expected an integer >= 1.", exits=1)
    batcher_config, seed, config_scheme = DEFAULT_BATCHER, 0, None
    if config_path is not None:
        check_input_file(config_path, ".cfg")
        batcher_config, seed, config_scheme = read_training_config(config_path)
    if scheme is None:
        scheme = config_scheme or "BIO"
    elif config_scheme is not None and scheme != config_scheme:
        msg.warn(
            f"Counting {scheme} tags, but the ner_tagger in {config_path} "
            f"uses {config_scheme}."
        )
    batcher = registry.resolve({"batcher": batcher_config})["batcher"]
    examples = load_examples(make_blank(lang), data_file)
    if not any(eg.reference.ents for eg in examples):
        msg.fail(f"No entities found in {data_file}", exits=1)

    try:
        stats = corpus_stats(
            examples, scheme, batcher=batcher, beta=beta, epochs=epochs, seed=seed
        )
    except ValueError as err:
        longest = max(len(eg.reference) for eg in examples)
        msg.fail(
            f"Cannot compute the batch statistics of {data_file}: {err}",
            f"Batcher: {batcher_config}. The longest doc has {longest} tokens; "
            "a batcher with discard_oversize = true drops docs over its size.",
            exits=1,
        )
    stats["batches"]["batcher"] = batcher_config
    advice = recommend_loss(stats)
    if as_json:
        print(srsly.json_dumps({"stats": stats, "recommendation": advice}, indent=2))
        return
    print_stats(data_file, stats)
    msg.divider("Recommendation")
    msg.good(f"Loss: {advice['loss']} (configs/{advice['loss']}.cfg)", advice["reason"])
    print(advice["config"])


def read_training_config(config_path: Path):
    """Return the [training.batcher] block, the [training] seed and the tag
    scheme of the config's ner_tagger (None without one), with variables such
    as ${system.seed} filled in, as `spacy train` does.
    """
    try:
        config = Config().from_disk(config_path, interpolate=True)
    except Exception as err:
        msg.fail(f"Cannot read config {config_path}", str(err), exits=1)
    training = config.get("training", {})
    if "batcher" not in training:
        msg.fail(f"No [training.batcher] block in {config_path}", exits=1)
    seed = training.get("seed", 0)
    schemes = [
        block.get("scheme", "BIO")
        for block in config.get("components", {}).values()
        if block.get("factory") == "ner_tagger"
    ]
    if schemes:
        check_scheme(schemes[0], f"scheme of the ner_tagger in {config_path}")
    scheme = schemes[0] if schemes else None
    return training["batcher"], seed if isinstance(seed, int) else 0, scheme


def print_stats(data_file: Path, stats: Dict[str, Any]) -> None:
    msg.divider(f"Corpus: {data_file}")
    rows = [
        ("Docs", f"{stats['docs']:,}"),
        ("Tokens", f"{stats['tokens']:,}"),
        ("Tagged tokens", f"{stats['tagged_tokens']:,}"),
        ("Entities", f"{stats['entities']:,}"),
        ("O share", f"{stats['o_share']:.2%}"),
        (
            "Imbalance ratio",
            f"{stats['imbalance_ratio']:,.1f} ({stats['most_frequent_tag']} / "
            f"{stats['least_frequent_tag']})",
        ),
    ]
    msg.table(rows, aligns=("l", "r"))
    if stats["absent_tags"]:
        msg.warn(f"Tags never seen in this corpus: {', '.join(stats['absent_tags'])}")

    msg.divider(f"Tags ({stats['scheme']})")
    rows = [
        (tag, f"{row['count']:,}", f"{row['share']:.2%}", f"{row['effective_number']:,.1f}")
        for tag, row in stats["tags"].items()
    ]
    msg.table(
        rows,
        header=("tag", "count", "share", f"effective n (beta {stats['beta']:g})"),
        aligns=("l", "r", "r", "r"),
        divider=True,
    )

    msg.divider("Entity types")
    rows = [
        (label, f"{row['entities']:,}", f"{row['share']:.2%}", f"{row['tokens']:,}")
        for label, row in stats["entity_types"].items()
    ]
    msg.table(
        rows,
        header=("type", "entities", "share", "tokens"),
        aligns=("l", "r", "r", "r"),
        divider=True,
    )

    batches = stats["batches"]
    msg.divider("Entity-token share per batch")
    cv = batches["entity_share_cv"]
    rows = [
        ("Batcher", batches["batcher"]["@batchers"]),
        ("Batches", f"{batches['batches']:,} ({batches['epochs']} shuffled epochs)"),
        ("Mean", f"{batches['entity_share_mean']:.2%}"),
        ("Standard deviation", f"{batches['entity_share_sd']:.2%}"),
        ("Min / max", f"{batches['entity_share_min']:.2%} / {batches['entity_share_max']:.2%}"),
        ("Coefficient of variation", "-" if cv is None else f"{cv:.2f}"),
    ]
    msg.table(rows, aligns=("l", "r"))
