from pathlib import Path

import pytest
import spacy
import srsly

from spacy_nerloss.compare import fingerprint, summarise, write_report

from test_cli import flat, invoke

ROOT = Path(__file__).parent.parent

# Two short texts with entities, in WNUT-17's two-column layout.
DATA = """\
bob\tB-person
smith\tI-person
lives\tO
in\tO
paris\tB-location

anna\tB-person
works\tO
at\tO
acme\tB-corporation
corp\tI-corporation
"""


INPUTS = {
    "config": "c0ffee",
    "files": {"train": "aa", "dev": "bb", "class_frequencies": "cc"},
    "settings": {"max_steps": 250, "learn_rate": 0.0001},
    "versions": {"spacy": "3.8.0"},
}


def run_result(system, seed, f, macro, train_s, train_wps, infer_wps, rss, person_f):
    settings = dict(INPUTS["settings"], name=system, seed=seed)
    return {
        "system": system,
        "seed": seed,
        "inputs": dict(INPUTS, settings=settings),
        "ents_p": f,
        "ents_r": f,
        "ents_f": f,
        "macro_f": macro,
        "ents_per_type": {
            "person": {"p": person_f, "r": person_f, "f": person_f, "support": 10},
            "location": {"p": 0.0, "r": 0.0, "f": 0.0, "support": 4},
        },
        "train_s": train_s,
        "train_words_per_s": train_wps,
        "train_cpu_s": 2 * train_s,
        "train_words_per_cpu_s": train_wps / 2,
        "infer_words_per_s": infer_wps,
        "infer_words_per_cpu_s": infer_wps / 2,
        "train_peak_rss_mib": rss,
        "infer_peak_rss_mib": rss / 2,
    }


@pytest.fixture
def results_dir(tmp_path):
    path = tmp_path / "results"
    path.mkdir()
    systems = {
        "cross_entropy": [
            run_result("cross_entropy", 0, 0.2, 0.1, 100.0, 50.0, 400.0, 1000.0, 0.2),
            run_result("cross_entropy", 1, 0.4, 0.3, 300.0, 70.0, 600.0, 1000.0, 0.4),
        ],
        "spacy_ner": [
            run_result("spacy_ner", 0, 0.5, 0.4, 400.0, 40.0, 500.0, 800.0, 0.5),
            run_result("spacy_ner", 1, 0.5, 0.4, 400.0, 40.0, 500.0, 1200.0, 0.5),
        ],
        "focal": [
            run_result("focal", 0, 0.6, 0.5, 300.0, 60.0, 550.0, 900.0, 0.7),
        ],
    }
    for name, runs in systems.items():
        srsly.write_json(path / f"{name}.json", {"system": name, "runs": runs})
    return path


def test_summary_means_and_ratios(results_dir):
    from spacy_nerloss.compare import load_results

    summary = summarise(load_results(results_dir))
    systems = summary["systems"]
    assert list(systems) == ["cross_entropy", "focal", "spacy_ner"]
    ce = systems["cross_entropy"]
    assert ce["ents_f"]["mean"] == pytest.approx(0.3)
    # Sample standard deviation of 0.2 and 0.4: sqrt(2 * 0.1 ** 2 / 1).
    assert ce["ents_f"]["sd"] == pytest.approx(0.1414214)
    assert systems["focal"]["ents_f"]["sd"] is None
    assert ce["ents_per_type"]["person"]["f"]["mean"] == pytest.approx(0.3)
    assert ce["ents_per_type"]["person"]["support"] == 10
    # Training time over CE's mean of 200 s.
    assert systems["focal"]["train_time_vs_reference"] == pytest.approx(1.5)
    assert systems["spacy_ner"]["train_time_vs_reference"] == pytest.approx(2.0)
    # Speed and memory over spacy_ner's means: 40 words/s, 500 words/s, 1000 MiB.
    vs = systems["cross_entropy"]["vs_baseline"]
    assert vs["train_words_per_s"] == pytest.approx(1.5)
    assert vs["infer_words_per_s"] == pytest.approx(1.0)
    assert vs["train_peak_rss_mib"] == pytest.approx(1.0)
    assert systems["focal"]["vs_baseline"]["train_peak_rss_mib"] == pytest.approx(0.9)


def test_report_writes_tables_and_plots(results_dir, tmp_path):
    output = tmp_path / "report"
    result = invoke("compare-report", results_dir, output, "--title", "WNUT test")
    assert result.exit_code == 0, result.output
    report = (output / "comparison.md").read_text(encoding="utf8")
    assert report.startswith("# WNUT test")
    assert "Settings shared by every run: max_steps 250, learn_rate 0.0001." in report
    assert "Versions: spacy 3.8.0." in report
    assert "| cross_entropy | 2 | 30.00 ± 14.14 | 30.00 ± 14.14 | 30.00 ± 14.14 |" in report
    assert "| focal | 1 | 60.00 | 60.00 | 60.00 | 50.00 | 0.00 | 70.00 |" in report
    assert "| focal | 300 | 1.50 | 60 | 30 | 550 | 275 | 900 | 450 |" in report
    assert "| focal | 1.50 | 1.50 | 1.10 | 1.10 | 0.90 |" in report
    summary = srsly.read_json(output / "comparison.json")
    assert summary["systems"]["focal"]["macro_f"]["mean"] == pytest.approx(0.5)
    for name in ("per_type_f1.png", "f1_vs_time.png"):
        data = (output / name).read_bytes()
        assert data.startswith(b"\x89PNG"), name


def test_per_type_plot_labels_zero_scores(results_dir):
    from spacy_nerloss.compare import draw_per_type, load_results
    from spacy_nerloss.plots import pyplot

    # focal loses its location score: no bar and no "0" label for it.
    focal = srsly.read_json(results_dir / "focal.json")
    del focal["runs"][0]["ents_per_type"]["location"]
    srsly.write_json(results_dir / "focal.json", focal)
    fig = draw_per_type(summarise(load_results(results_dir)))
    zeros = [text for text in fig.axes[0].texts if text.get_text() == "0"]
    pyplot().close(fig)

    # Groups sit at x = 0 (location), 1 (person), 2 (macro-F1). Only
    # cross_entropy and spacy_ner have a score of 0, both on location.
    assert len(zeros) == 2
    for text in zeros:
        assert abs(text.get_position()[0]) < 0.5


def test_report_without_results(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("compare-report", empty, tmp_path / "report")
    assert result.exit_code == 1
    assert f"No results in {empty}" in flat(result.output)


def test_fingerprint_follows_config_and_data(tmp_path):
    config = tmp_path / "a.cfg"
    data = tmp_path / "train.spacy"
    config.write_text("[nlp]\n", encoding="utf8")
    data.write_bytes(b"one")
    files = {"train": data, "class_frequencies": None}
    before = fingerprint(config, files, {"seed": 0})
    assert fingerprint(config, files, {"seed": 0}) == before
    assert fingerprint(config, files, {"seed": 1}) != before
    assert before["versions"]["spacy"] == spacy.__version__
    data.write_bytes(b"two")
    assert fingerprint(config, files, {"seed": 0}) != before
    data.write_bytes(b"one")
    config.write_text("[nlp]\nlang = 'en'\n", encoding="utf8")
    assert fingerprint(config, files, {"seed": 0}) != before


def test_fingerprint_ignores_logger_block(tmp_path):
    config = tmp_path / "a.cfg"
    config.write_text("[training]\nseed = 0\n", encoding="utf8")
    before = fingerprint(config, {}, {})
    config.write_text(
        '[training]\nseed = 0\n\n[training.logger]\n@loggers = "spacy.ConsoleLogger.v1"\n',
        encoding="utf8",
    )
    assert fingerprint(config, {}, {}) == before


def test_fingerprint_tells_swapped_files_apart(tmp_path):
    config = tmp_path / "a.cfg"
    config.write_text("[nlp]\n", encoding="utf8")
    first, second = tmp_path / "a.spacy", tmp_path / "b.spacy"
    first.write_bytes(b"one")
    second.write_bytes(b"two")
    straight = fingerprint(config, {"train": first, "dev": second}, {})
    swapped = fingerprint(config, {"train": second, "dev": first}, {})
    assert straight != swapped


def test_report_rejects_mixed_settings(results_dir, tmp_path):
    collected = srsly.read_json(results_dir / "focal.json")
    collected["runs"][0]["inputs"]["settings"]["max_steps"] = 300
    srsly.write_json(results_dir / "focal.json", collected)
    result = invoke("compare-report", results_dir, tmp_path / "report")
    assert result.exit_code == 1
    assert "The runs of cross_entropy and focal (seed 0) were trained with different" in flat(result.output)


@pytest.mark.parametrize(
    "content,expected",
    [
        ("[1, 2]", "expected a JSON object with 'system' and a list of 'runs'"),
        ('{"system": "x", "runs": [{"seed": 0}]}', "a run lacks inputs, ents_per_type, ents_p"),
        ('{"system": "x", "ru', "Cannot read"),
    ],
)
def test_report_rejects_bad_result_files(results_dir, tmp_path, content, expected):
    (results_dir / "stray.json").write_text(content, encoding="utf8")
    result = invoke("compare-report", results_dir, tmp_path / "report")
    assert result.exit_code == 1
    assert str(results_dir / "stray.json") in flat(result.output)
    assert expected in flat(result.output)


def test_report_missing_folder(tmp_path):
    result = invoke("compare-report", tmp_path / "nowhere", tmp_path / "report")
    assert result.exit_code == 1
    assert f"Results folder not found: {tmp_path / 'nowhere'}" in flat(result.output)


def test_unreadable_or_old_result_runs_again(tmp_path, capsys):
    from spacy_nerloss.compare import read_finished_run

    path = tmp_path / "seed0.json"
    path.write_text('{"inputs": {"con', encoding="utf8")
    assert read_finished_run(path, {}) is None
    assert f"Cannot read {path}" in flat(capsys.readouterr().out)
    srsly.write_json(path, {"inputs": {}, "seed": 0})
    assert read_finished_run(path, {}) is None
    assert "lacks some results" in flat(capsys.readouterr().out)
    full = run_result("focal", 0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 0.5)
    srsly.write_json(path, full)
    assert read_finished_run(path, full["inputs"]) == full
    assert read_finished_run(path, INPUTS) is None


def test_failed_run_removes_stale_collection(tmp_path, monkeypatch):
    import spacy_nerloss.compare as compare

    metrics = tmp_path / "metrics"
    metrics.mkdir()
    stale = metrics / "focal.json"
    srsly.write_json(stale, {"system": "focal", "runs": []})
    config = tmp_path / "focal.cfg"
    config.write_text("[nlp]\n", encoding="utf8")
    data = tmp_path / "data.spacy"
    data.write_bytes(b"")

    def fail(step, args):
        raise SystemExit(1)

    monkeypatch.setattr(compare, "run_in_process", fail)
    with pytest.raises(SystemExit):
        compare.run_system(
            "focal", config, train=data, dev=data, class_frequencies=None,
            training_dir=tmp_path / "training", metrics_dir=metrics, seeds=[0],
            max_steps=2, warmup_steps=0, learn_rate=0.001, transformer="x",
        )  # fmt: skip
    assert not stale.exists()


def test_loop_timer_excludes_saving():
    import time

    from spacy_nerloss.compare import _LoopTimer

    class FakeNLP:
        def update(self, examples, **kwargs):
            return {}

        def evaluate(self, examples):
            time.sleep(0.05)
            return {}

        def to_disk(self, path):
            time.sleep(0.1)

    nlp = FakeNLP()
    timer = _LoopTimer(nlp)
    nlp.update([[1, 2, 3], [4]])
    nlp.evaluate([])
    nlp.to_disk("x")
    nlp.to_disk("y")
    assert timer.words == 4
    assert timer.eval_s >= 0.05
    assert timer.save_s >= 0.2


@pytest.mark.parametrize(
    "option,value,expected",
    [
        ("--n-seeds", 0, "Invalid value for --n-seeds: 0. Expected an integer >= 1."),
        ("--max-steps", 0, "Invalid value for --max-steps: 0. Expected an integer >= 1."),
        ("--warmup-steps", -1, "Invalid value for --warmup-steps: -1. Expected an integer >= 0."),
    ],
)  # fmt: skip
def test_compare_rejects_bad_options(tmp_path, option, value, expected):
    check_compare_option(tmp_path, [option, value], expected)


def test_compare_rejects_warmup_past_budget(tmp_path):
    expected = (
        "Invalid value for --warmup-steps: 30. Expected at most --max-steps (20), "
        "or the learning rate never reaches its peak."
    )
    check_compare_option(tmp_path, ["--max-steps", 20, "--warmup-steps", 30], expected)


def check_compare_option(tmp_path, options, expected):
    data = tmp_path / "data.spacy"
    data.write_bytes(b"")
    config = ROOT / "configs" / "focal.cfg"
    result = invoke("compare", config, data, data, *options)
    assert result.exit_code == 1
    assert expected in flat(result.output)


def compare(config, corpus, tmp_path, tiny_transformer, n_seeds):
    return invoke(
        "compare", config, corpus / "train.spacy", corpus / "dev.spacy",
        "--class-frequencies", corpus / "freqs.json",
        "--training-dir", tmp_path / "training",
        "--metrics-dir", tmp_path / "metrics",
        "--n-seeds", n_seeds, "--max-steps", 2, "--warmup-steps", 0,
        "--transformer", tiny_transformer,
    )  # fmt: skip


def test_compare_trains_evaluates_and_resumes(tmp_path, tiny_transformer):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (tmp_path / "data.conll").write_text(DATA, encoding="utf8")
    for name in ("train", "dev"):
        result = invoke("convert", tmp_path / "data.conll", corpus / f"{name}.spacy")
        assert result.exit_code == 0, result.output
    result = invoke("weights", corpus / "train.spacy", corpus / "freqs.json")
    assert result.exit_code == 0, result.output
    tagger = ROOT / "configs" / "cross_entropy.cfg"
    ner = ROOT / "configs" / "baselines" / "spacy_ner.cfg"

    for config in (tagger, ner):
        result = compare(config, corpus, tmp_path, tiny_transformer, 1)
        assert result.exit_code == 0, result.output
    run = srsly.read_json(tmp_path / "metrics" / "spacy_ner" / "seed0.json")
    # Both texts (10 tokens) fit one batch, and spaCy's loop updates at steps
    # 0, 1 and 2 for max_steps = 2.
    assert run["words"] == 30
    for key in ("train_s", "train_cpu_s", "infer_words_per_s", "infer_words_per_cpu_s"):
        assert run[key] > 0, key
    assert set(run["ents_per_type"]) >= {"person", "location", "corporation"}
    model = tmp_path / "training" / "spacy_ner" / "seed0" / "model-last"
    trained_at = (model / "meta.json").stat().st_mtime_ns

    result = compare(ner, corpus, tmp_path, tiny_transformer, 2)
    assert result.exit_code == 0, result.output
    assert "spacy_ner, seed 0: finished earlier, not run again" in result.output
    assert (model / "meta.json").stat().st_mtime_ns == trained_at
    collected = srsly.read_json(tmp_path / "metrics" / "spacy_ner.json")
    assert [run["seed"] for run in collected["runs"]] == [0, 1]

    summary = write_report(tmp_path / "metrics", tmp_path / "report")
    assert list(summary["systems"]) == ["cross_entropy", "spacy_ner"]
    assert summary["systems"]["spacy_ner"]["seeds"] == [0, 1]
