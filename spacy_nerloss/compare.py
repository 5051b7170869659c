"""Train and evaluate several pipelines the same way and compare them.

Each system is one training config. `run_system` trains and evaluates it once
per seed, each run in its own process so that its peak RSS is its own, and
skips runs whose recorded inputs match the current ones: an interrupted
comparison resumes where it stopped. `write_report` turns the per-system
results into a Markdown table, a JSON file and two plots.
"""
import hashlib
import importlib.metadata
import json
import os
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean, stdev
from typing import Any, Dict, List, Optional, Sequence

import srsly
from spacy import require_gpu, util
from spacy.language import Language
from spacy.training.initialize import init_nlp
from spacy.training.loop import train as train_loop
from thinc.api import Config
from wasabi import msg

from .plots import pyplot

# The reference system for the time ratios, and the baseline for the speed and
# memory ratios.
REFERENCE = "cross_entropy"
BASELINE = "spacy_ner"

# Metrics averaged over seeds, with the number format used in the tables.
SCORES = ("ents_p", "ents_r", "ents_f", "macro_f")
COSTS = (
    "train_s",
    "train_words_per_s",
    "train_cpu_s",
    "train_words_per_cpu_s",
    "infer_words_per_s",
    "infer_words_per_cpu_s",
    "train_peak_rss_mib",
    "infer_peak_rss_mib",
)


def fingerprint(
    config: Path, files: Dict[str, Optional[Path]], settings: Dict[str, Any]
) -> Dict[str, Any]:
    """Describe a run's inputs: the config, the data files by role ("train",
    "dev", ...), the settings and the versions of the packages that train.

    A finished run whose recorded fingerprint equals the current one is not
    run again. The [training.logger] block is left out of the config's hash
    because the logger only reports and does not change what is trained.
    """
    hashes = {
        role: file_hash(path) for role, path in files.items() if path is not None
    }
    return {
        "config": config_hash(config),
        "files": hashes,
        "settings": settings,
        "versions": package_versions(),
    }


def package_versions() -> Dict[str, str]:
    versions = {}
    for package in ("spacy-nerloss", "spacy", "thinc", "spacy-transformers", "torch"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def config_hash(path: Path) -> str:
    config = Config().from_disk(path, interpolate=False)
    config.get("training", {}).pop("logger", None)
    return hashlib.md5(config.to_str().encode("utf8")).hexdigest()


def file_hash(path: Path) -> str:
    digest = hashlib.md5()
    with Path(path).open("rb") as file_:
        for chunk in iter(lambda: file_.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def peak_rss_mib() -> float:
    """Return this process's peak resident set size in MiB (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / (1024 * 1024)


def use_device(gpu_id: int) -> None:
    if gpu_id >= 0:
        require_gpu(gpu_id)


def train_once(
    config_path: Path,
    output_dir: Path,
    overrides: Dict[str, Any],
    gpu_id: int = -1,
) -> Dict[str, Any]:
    """Train a pipeline with spaCy's own training loop and time it.

    The training time excludes the loop's dev evaluations and the checkpoints
    it saves, so that systems with slower or faster prediction are timed on
    training alone. spaCy evaluates and saves at step 0 and every
    eval_frequency steps, and saves model-last at the end.

    config_path (Path): The training config.
    output_dir (Path): Where spaCy writes model-last and model-best.
    overrides (Dict[str, Any]): Config overrides, as on the spacy train command line.
    gpu_id (int): GPU id, or -1 for CPU.
    RETURNS (Dict[str, Any]): "train_s" (initialize plus the update loop),
        "words", "train_words_per_s", the same two in CPU seconds of this
        process ("train_cpu_s", "train_words_per_cpu_s"), which other load on
        the machine disturbs less than wall time, and "train_peak_rss_mib".
    """
    use_device(gpu_id)
    config = util.load_config(config_path, overrides=overrides, interpolate=False)
    output_dir.mkdir(parents=True, exist_ok=True)
    start, start_cpu = time.perf_counter(), time.process_time()
    nlp = init_nlp(config, use_gpu=gpu_id)
    init_s = time.perf_counter() - start
    init_cpu_s = time.process_time() - start_cpu
    timer = _LoopTimer(nlp)
    start, start_cpu = time.perf_counter(), time.process_time()
    train_loop(nlp, output_dir, use_gpu=gpu_id, stdout=sys.stdout, stderr=sys.stderr)
    loop_s = time.perf_counter() - start - timer.eval_s - timer.save_s
    loop_cpu_s = time.process_time() - start_cpu - timer.eval_cpu_s - timer.save_cpu_s
    return {
        "train_s": init_s + loop_s,
        "init_s": init_s,
        "loop_s": loop_s,
        "eval_s": timer.eval_s,
        "save_s": timer.save_s,
        "words": timer.words,
        "train_words_per_s": timer.words / loop_s if loop_s > 0 else 0.0,
        "train_cpu_s": init_cpu_s + loop_cpu_s,
        "train_words_per_cpu_s": timer.words / loop_cpu_s if loop_cpu_s > 0 else 0.0,
        "train_peak_rss_mib": peak_rss_mib(),
    }


class _LoopTimer:
    """Count the words passed to `nlp.update`, and time `nlp.evaluate` and
    `nlp.to_disk` in wall-clock and in CPU seconds.

    spaCy's training loop calls all three through the `nlp` object, so
    wrapping them on the instance measures the loop without changing it. The
    loop copies model-last to model-best after a save; that copy is not timed
    and stays in the training time.
    """

    def __init__(self, nlp: Language) -> None:
        self.words = 0
        self.eval_s = self.eval_cpu_s = 0.0
        self.save_s = self.save_cpu_s = 0.0
        update, evaluate, to_disk = nlp.update, nlp.evaluate, nlp.to_disk

        def counted_update(examples, *args, **kwargs):
            examples = list(examples)
            self.words += sum(len(eg) for eg in examples)
            return update(examples, *args, **kwargs)

        def timed_evaluate(*args, **kwargs):
            start, start_cpu = time.perf_counter(), time.process_time()
            scores = evaluate(*args, **kwargs)
            self.eval_s += time.perf_counter() - start
            self.eval_cpu_s += time.process_time() - start_cpu
            return scores

        def timed_to_disk(*args, **kwargs):
            start, start_cpu = time.perf_counter(), time.process_time()
            to_disk(*args, **kwargs)
            self.save_s += time.perf_counter() - start
            self.save_cpu_s += time.process_time() - start_cpu

        nlp.update = counted_update
        nlp.evaluate = timed_evaluate
        nlp.to_disk = timed_to_disk


def evaluate_once(model: Path, data_file: Path, gpu_id: int = -1) -> Dict[str, Any]:
    """Evaluate a trained pipeline: entity scores, inference speed, peak RSS.

    RETURNS (Dict[str, Any]): "ents_p", "ents_r", "ents_f", "macro_f" (mean F
        over the entity types of the gold data), "ents_per_type",
        "infer_words_per_s" (`nlp.pipe` over the docs), the same in CPU
        seconds ("infer_words_per_cpu_s") and "infer_peak_rss_mib".
    """
    from .cli import annotate_and_score, entity_scores, load_examples

    use_device(gpu_id)
    nlp = util.load_model(model)
    examples = load_examples(nlp, data_file)
    scores = annotate_and_score(nlp, examples)
    per_type = entity_scores(examples, scores.get("ents_per_type"))
    gold_types = [label for label, prf in per_type.items() if prf["support"] > 0]
    macro = mean(per_type[label]["f"] for label in gold_types) if gold_types else 0.0
    return {
        "ents_p": scores.get("ents_p") or 0.0,
        "ents_r": scores.get("ents_r") or 0.0,
        "ents_f": scores.get("ents_f") or 0.0,
        "macro_f": macro,
        "ents_per_type": per_type,
        "infer_words_per_s": scores["speed"],
        "infer_words_per_cpu_s": scores["cpu_speed"],
        "infer_peak_rss_mib": peak_rss_mib(),
    }


def training_overrides(
    *,
    train: Path,
    dev: Path,
    class_frequencies: Optional[Path],
    seed: int,
    max_steps: int,
    warmup_steps: int,
    learn_rate: float,
    transformer: str,
) -> Dict[str, Any]:
    """Build the config overrides shared by every system of a comparison.

    eval_frequency is max_steps, so the loop evaluates only at step 0 and at
    the last step: the comparison scores model-last on the full dev set
    afterwards, so more evaluations would only cost time. spaCy's loop makes
    max_steps + 1 updates (steps 0 to max_steps).
    """
    return {
        "paths.train": str(train),
        "paths.dev": str(dev),
        "paths.class_frequencies": (
            str(class_frequencies) if class_frequencies is not None else None
        ),
        "system.seed": seed,
        "training.max_steps": max_steps,
        "training.eval_frequency": max_steps,
        "training.optimizer.learn_rate.total_steps": max_steps,
        "training.optimizer.learn_rate.warmup_steps": warmup_steps,
        "training.optimizer.learn_rate.initial_rate": learn_rate,
        "components.transformer.model.name": transformer,
    }


def run_system(
    name: str,
    config_path: Path,
    *,
    train: Path,
    dev: Path,
    class_frequencies: Optional[Path],
    training_dir: Path,
    metrics_dir: Path,
    seeds: Sequence[int],
    max_steps: int,
    warmup_steps: int,
    learn_rate: float,
    transformer: str,
    gpu_id: int = -1,
) -> Dict[str, Any]:
    """Train and evaluate one system once per seed, skipping finished runs.

    Each run writes `metrics_dir/name/seed{N}.json` with its fingerprint;
    `metrics_dir/name.json` collects the runs of all seeds.

    RETURNS (Dict[str, Any]): The collected results.
    """
    collected_file = metrics_dir / f"{name}.json"
    # A stale collection must not outlive a failed run with new settings.
    collected_file.unlink(missing_ok=True)
    runs = []
    for seed in seeds:
        settings = {
            "name": name,
            "seed": seed,
            "max_steps": max_steps,
            "warmup_steps": warmup_steps,
            "learn_rate": learn_rate,
            "transformer": transformer,
            "gpu_id": gpu_id,
        }
        files = {"train": train, "dev": dev, "class_frequencies": class_frequencies}
        inputs = fingerprint(config_path, files, settings)
        result_file = metrics_dir / name / f"seed{seed}.json"
        finished = read_finished_run(result_file, inputs)
        if finished is not None:
            msg.info(f"{name}, seed {seed}: finished earlier, not run again")
            runs.append(finished)
            continue
        run_dir = training_dir / name / f"seed{seed}"
        overrides = training_overrides(
            train=train,
            dev=dev,
            class_frequencies=class_frequencies,
            seed=seed,
            max_steps=max_steps,
            warmup_steps=warmup_steps,
            learn_rate=learn_rate,
            transformer=transformer,
        )
        msg.divider(f"{name}, seed {seed}: training")
        train_stats = run_in_process(
            "train", [str(config_path), str(run_dir), json.dumps(overrides), str(gpu_id)]
        )
        msg.divider(f"{name}, seed {seed}: evaluating")
        eval_stats = run_in_process(
            "evaluate", [str(run_dir / "model-last"), str(dev), str(gpu_id)]
        )
        result = {"system": name, "seed": seed, "inputs": inputs}
        result.update(train_stats)
        result.update(eval_stats)
        write_json_atomic(result_file, result)
        msg.good(
            f"{name}, seed {seed}: F {100 * result['ents_f']:.2f}, "
            f"macro-F {100 * result['macro_f']:.2f}, "
            f"training {result['train_s']:.0f} s"
        )
        runs.append(result)
    collected = {"system": name, "config": str(config_path), "runs": runs}
    write_json_atomic(collected_file, collected)
    return collected


# Keys that every finished run records; a result file without them was
# written by an older version and is run again.
RUN_KEYS = ("inputs", "seed", "ents_per_type")


def read_finished_run(path: Path, inputs: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Return the recorded result of a run if it finished with these inputs.

    A missing, unreadable or incomplete file, or one with other inputs, means
    the run must be done (again); an unreadable file is reported.
    """
    if not path.exists():
        return None
    try:
        result = srsly.read_json(path)
    except ValueError as err:
        msg.warn(f"Cannot read {path}, so the run is done again", str(err))
        return None
    required = RUN_KEYS + SCORES + COSTS
    if not isinstance(result, dict) or any(key not in result for key in required):
        msg.warn(f"{path} lacks some results, so the run is done again")
        return None
    return result if result["inputs"] == inputs else None


def write_json_atomic(path: Path, data: Dict[str, Any]) -> None:
    """Write JSON through a temporary file, so that an interrupted write never
    leaves a truncated file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_name(path.name + ".tmp")
    srsly.write_json(tmp_path, data)
    os.replace(tmp_path, path)


def run_in_process(step: str, args: List[str]) -> Dict[str, Any]:
    """Run `train_once` or `evaluate_once` in a new Python process.

    A fresh process per run gives each run its own peak RSS and leaves no
    state (random seeds, loaded models) behind for the next one.
    """
    cmd = [sys.executable, "-m", "spacy_nerloss.compare", step, *args]
    with tempfile.TemporaryDirectory() as tmp_dir:
        out_file = Path(tmp_dir) / "result.json"
        proc = subprocess.run(cmd + [str(out_file)])
        if proc.returncode != 0:
            msg.fail(f"The {step} step failed: {' '.join(cmd)}", exits=1)
        return srsly.read_json(out_file)


def load_results(metrics_dir: Path) -> List[Dict[str, Any]]:
    """Read the collected results of every system in `metrics_dir`.

    The reference (cross-entropy) comes first and the spaCy ner baseline last;
    the others keep alphabetical order. Raises ValueError, naming the file,
    for a file that is not a collection of finished runs.
    """
    if not metrics_dir.is_dir():
        raise ValueError(f"Results folder not found: {metrics_dir}")
    collected = []
    for path in sorted(metrics_dir.glob("*.json")):
        try:
            item = srsly.read_json(path)
        except ValueError as err:
            raise ValueError(f"Cannot read {path}: {err}") from err
        problem = collection_problem(item)
        if problem:
            raise ValueError(
                f"Invalid results in {path}: {problem}. The folder should only "
                "contain the files that the compare command writes."
            )
        collected.append(item)

    def order(item: Dict[str, Any]) -> tuple:
        name = item["system"]
        return (name != REFERENCE, name == BASELINE, name)

    return sorted(collected, key=order)


def collection_problem(item: Any) -> Optional[str]:
    """Describe what makes `item` not a collection of finished runs, or
    return None."""
    if not isinstance(item, dict) or not isinstance(item.get("runs"), list):
        return "expected a JSON object with 'system' and a list of 'runs'"
    if "system" not in item or not item["runs"]:
        return "expected a JSON object with 'system' and a list of 'runs'"
    for run in item["runs"]:
        missing = [key for key in RUN_KEYS + SCORES + COSTS if key not in run]
        if missing:
            return f"a run lacks {', '.join(missing)}"
    return None


def shared_inputs(collected: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Return the inputs that every run shares (all but system name, seed and
    config), or raise ValueError naming the systems whose runs differ.
    """
    shared: Optional[Dict[str, Any]] = None
    first = None
    for item in collected:
        for run in item["runs"]:
            inputs = {key: value for key, value in run["inputs"].items() if key != "config"}
            settings = dict(inputs.get("settings", {}))
            settings.pop("name", None)
            settings.pop("seed", None)
            inputs["settings"] = settings
            if shared is None:
                shared, first = inputs, item["system"]
            elif inputs != shared:
                raise ValueError(
                    f"The runs of {first} and {item['system']} (seed {run['seed']}) "
                    "were trained with different data, settings or package "
                    "versions, so they cannot share one table. Run the compare "
                    "commands again with the same variables for every system."
                )
    return shared or {}
def summarise(collected: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Average every metric over the seeds of each system and add the ratios.

    RETURNS (Dict[str, Any]): "systems" maps each system to its metrics, each
        {"mean", "sd", "values"} (sd is None with one seed), its per-type F,
        and its ratios: "train_time_vs_reference" (training time over the
        cross-entropy run's), and "vs_baseline" (training words/s, inference
        words/s and training peak RSS over spaCy ner's).
    """
    inputs = shared_inputs(collected)
    systems: Dict[str, Any] = {}
    for item in collected:
        runs = item["runs"]
        entry: Dict[str, Any] = {"seeds": [run["seed"] for run in runs]}
        for key in SCORES + COSTS:
            entry[key] = spread([run[key] for run in runs])
        labels = sorted({label for run in runs for label in run["ents_per_type"]})
        entry["ents_per_type"] = {
            label: {
                "f": spread([run["ents_per_type"].get(label, {"f": 0.0})["f"] for run in runs]),
                "support": max(
                    run["ents_per_type"].get(label, {"support": 0})["support"]
                    for run in runs
                ),
            }
            for label in labels
        }
        systems[item["system"]] = entry

    reference = systems.get(REFERENCE)
    baseline = systems.get(BASELINE)
    for entry in systems.values():
        entry["train_time_vs_reference"] = (
            ratio(entry["train_s"], reference["train_s"]) if reference else None
        )
        entry["vs_baseline"] = None
        if baseline:
            entry["vs_baseline"] = {
                key: ratio(entry[key], baseline[key])
                for key in (
                    "train_words_per_s",
                    "infer_words_per_s",
                    "train_words_per_cpu_s",
                    "infer_words_per_cpu_s",
                    "train_peak_rss_mib",
                )
            }
    return {
        "reference": REFERENCE,
        "baseline": BASELINE,
        "settings": inputs.get("settings", {}),
        "versions": inputs.get("versions", {}),
        "systems": systems,
    }


def spread(values: Sequence[float]) -> Dict[str, Any]:
    values = [float(value) for value in values]
    sd = stdev(values) if len(values) > 1 else None
    return {"mean": mean(values), "sd": sd, "values": values}


def ratio(numerator: Dict[str, Any], denominator: Dict[str, Any]) -> Optional[float]:
    if not denominator["mean"]:
        return None
    return numerator["mean"] / denominator["mean"]


def write_report(
    metrics_dir: Path, output_dir: Path, title: str = "Comparison"
) -> Dict[str, Any]:
    """Write comparison.md, comparison.json, per_type_f1.png and f1_vs_time.png.

    metrics_dir (Path): Folder with one collected-results JSON per system.
    output_dir (Path): Folder for the report files.
    title (str): Heading of the Markdown report.
    RETURNS (Dict[str, Any]): The summary written to comparison.json.
    """
    collected = load_results(metrics_dir)
    if not collected:
        raise ValueError(
            f"No results in {metrics_dir}: run the compare commands for at least "
            "one system first."
        )
    summary = summarise(collected)
    output_dir.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output_dir / "comparison.json", summary)
    (output_dir / "comparison.md").write_text(
        markdown_report(summary, title), encoding="utf8"
    )
    plot_per_type(summary, output_dir / "per_type_f1.png")
    plot_f1_vs_time(summary, output_dir / "f1_vs_time.png")
    return summary


def markdown_report(summary: Dict[str, Any], title: str) -> str:
    """Render the summary as three Markdown tables: scores, costs, and the
    speed and memory ratios to the baseline.
    """
    lines = [f"# {title}", ""]
    settings = ", ".join(f"{key} {value}" for key, value in summary["settings"].items())
    versions = ", ".join(f"{key} {value}" for key, value in summary["versions"].items())
    if settings:
        lines += [f"Settings shared by every run: {settings}.", ""]
    if versions:
        lines += [f"Versions: {versions}.", ""]
    lines += score_table(summary)
    lines += cost_table(summary)
    lines += baseline_table(summary)
    return "\n".join(lines)


def score_table(summary: Dict[str, Any]) -> List[str]:
    systems = summary["systems"]
    labels = sorted(
        {label for entry in systems.values() for label in entry["ents_per_type"]}
    )
    lines = []
    n_seeds = sorted({len(entry["seeds"]) for entry in systems.values()})
    lines.append(
        "Scores in %, mean ± standard deviation over seeds where there is more "
        f"than one (seeds per system: {', '.join(map(str, n_seeds))}). "
        "Macro-F1 is the mean F1 over the entity types of the gold data."
    )
    lines.append("")
    header = ["system", "seeds", "P", "R", "F1", "macro-F1", *labels]
    lines += table_header(header)
    for name, entry in systems.items():
        row = [name, str(len(entry["seeds"]))]
        row += [percent(entry[key]) for key in SCORES]
        per_type = entry["ents_per_type"]
        for label in labels:
            row.append(percent(per_type[label]["f"]) if label in per_type else "-")
        lines.append(table_row(row))
    lines.append("")
    return lines


def cost_table(summary: Dict[str, Any]) -> List[str]:
    systems = summary["systems"]
    lines = []
    lines.append(
        "Training time covers initialize and the update loop, not dev "
        f"evaluation; the ratio is to `{summary['reference']}`. Words per CPU "
        "second count the CPU time of the training or predicting process, "
        "which other load on the machine disturbs less than wall time."
    )
    lines.append("")
    header = [
        "system",
        "training s",
        f"÷ {summary['reference']}",
        "train words/s",
        "train words/CPU s",
        "infer words/s",
        "infer words/CPU s",
        "peak RSS train MiB",
        "peak RSS infer MiB",
    ]
    lines += table_header(header)
    for name, entry in systems.items():
        row = [
            name,
            number(entry["train_s"], 0),
            fixed(entry["train_time_vs_reference"]),
            number(entry["train_words_per_s"], 0),
            number(entry["train_words_per_cpu_s"], 0),
            number(entry["infer_words_per_s"], 0),
            number(entry["infer_words_per_cpu_s"], 0),
            number(entry["train_peak_rss_mib"], 0),
            number(entry["infer_peak_rss_mib"], 0),
        ]
        lines.append(table_row(row))
    lines.append("")
    return lines


def baseline_table(summary: Dict[str, Any]) -> List[str]:
    systems = summary["systems"]
    lines = []
    baseline = summary["baseline"]
    lines.append(
        f"Ratios to `{baseline}` (words/s: above 1 is faster; RSS: below 1 "
        "uses less memory):"
    )
    lines.append("")
    columns = [
        ("train words/s", "train_words_per_s"),
        ("train words/CPU s", "train_words_per_cpu_s"),
        ("infer words/s", "infer_words_per_s"),
        ("infer words/CPU s", "infer_words_per_cpu_s"),
        ("peak RSS train", "train_peak_rss_mib"),
    ]
    lines += table_header(["system"] + [title for title, _ in columns])
    for name, entry in systems.items():
        vs = entry["vs_baseline"] or {}
        lines.append(table_row([name] + [fixed(vs.get(key)) for _, key in columns]))
    lines.append("")
    return lines


def table_header(columns: Sequence[str]) -> List[str]:
    aligns = ["---"] + ["---:"] * (len(columns) - 1)
    return [table_row(columns), table_row(aligns)]


def table_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def percent(value: Dict[str, Any]) -> str:
    text = f"{100 * value['mean']:.2f}"
    if value["sd"] is not None:
        text += f" ± {100 * value['sd']:.2f}"
    return text


def number(value: Dict[str, Any], digits: int) -> str:
    text = f"{value['mean']:.{digits}f}"
    if value["sd"] is not None:
        text += f" ± {value['sd']:.{digits}f}"
    return text


def fixed(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.2f}"


def plot_per_type(summary: Dict[str, Any], path: Path) -> None:
    """Save per-type F1 and macro-F1 as bars, one group per type, to `path`."""
    plt = pyplot()
    fig = draw_per_type(summary)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def draw_per_type(summary: Dict[str, Any]):
    """Draw per-type F1 and macro-F1 as bars and return the matplotlib figure.

    A score of exactly 0 is labelled "0" at its bar's place, so that it can be
    distinguished from a system without a score for the type (no bar, no label).
    """
    plt = pyplot()
    systems = summary["systems"]
    labels = sorted(
        {label for entry in systems.values() for label in entry["ents_per_type"]}
    )
    groups = labels + ["macro-F1"]

    width = 0.8 / len(systems)
    fig, ax = plt.subplots(figsize=(max(9, 1.4 * len(groups) + 4), 5))
    for i, (name, entry) in enumerate(systems.items()):
        values = [entry["ents_per_type"].get(label, {"f": None})["f"] for label in labels]
        values.append(entry["macro_f"])
        heights = [100 * v["mean"] if v else 0.0 for v in values]
        errors = None
        if len(entry["seeds"]) > 1:
            errors = [100 * v["sd"] if v else 0.0 for v in values]
        xs = [g + (i - (len(systems) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, heights, width, yerr=errors, capsize=2, label=name)
        color = bars.patches[0].get_facecolor()
        for x, value in zip(xs, values):
            if value is not None and value["mean"] == 0.0:
                ax.text(x, 0.5, "0", ha="center", va="bottom", fontsize=7, color=color)

    support = {
        label: max(
            entry["ents_per_type"][label]["support"]
            for entry in systems.values()
            if label in entry["ents_per_type"]
        )
        for label in labels
    }
    ticks = [f"{label}\n(n={support[label]})" for label in labels] + groups[-1:]
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(ticks)

    ax.set_xlabel("entity type (gold entities in the evaluation data)")
    ax.set_ylabel("F1 (%)")
    ax.set_ylim(0, 105)
    ax.set_title("F1 per entity type")
    # Outside the axes, so that it never hides a bar.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_f1_vs_time(summary: Dict[str, Any], path: Path) -> None:
    """Draw micro-F1 against training time, one marker per system."""
    plt = pyplot()
    markers = "osD^v<>pX*h"
    fig, ax = plt.subplots(figsize=(9, 5))
    for i, (name, entry) in enumerate(summary["systems"].items()):
        time_s, fscore = entry["train_s"], entry["ents_f"]
        ax.errorbar(
            time_s["mean"] / 60,
            100 * fscore["mean"],
            xerr=(time_s["sd"] or 0.0) / 60,
            yerr=100 * (fscore["sd"] or 0.0),
            fmt=markers[i % len(markers)],
            capsize=3,
            label=name,
            # A run that scored 0 sits on the x axis: draw its whole marker.
            clip_on=False,
        )
    ax.set_xlim(left=0)
    ax.set_ylim(0, 105)
    ax.set_xlabel("training time (minutes)")
    ax.set_ylabel("micro F1 (%)")
    ax.set_title("F1 against training time")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _main(argv: List[str]) -> None:
    step, *args, out_file = argv
    if step == "train":
        config, output_dir, overrides, gpu_id = args
        result = train_once(
            Path(config), Path(output_dir), json.loads(overrides), int(gpu_id)
        )
    elif step == "evaluate":
        model, data_file, gpu_id = args
        result = evaluate_once(Path(model), Path(data_file), int(gpu_id))
    else:
        raise ValueError(f"Unknown step: {step!r}. Expected 'train' or 'evaluate'.")
    srsly.write_json(out_file, result)


if __name__ == "__main__":
    _main(sys.argv[1:])
