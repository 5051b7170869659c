import subprocess
import sys
from pathlib import Path

from thinc.api import Config

ROOT = Path(__file__).parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.cfg"))
BASELINE = ROOT / "configs" / "baselines" / "spacy_ner.cfg"

# Runs in a fresh interpreter that never imports spacy_nerloss itself, so the
# names can only resolve through the package's entry points.
ENTRY_POINT_SCRIPT = """
import sys
import spacy
from thinc.api import registry
assert "spacy_nerloss" not in sys.modules
focal = registry.resolve({"x": {"@losses": "spacy_nerloss.focal.v1", "gamma": 1.0}})["x"]
ce = registry.resolve({"x": {"@losses": "spacy_nerloss.cross_entropy.v1"}})["x"]
nlp = spacy.blank("en")
nlp.add_pipe("ner_tagger")
print(type(focal).__name__, type(ce).__name__, type(nlp.get_pipe("ner_tagger")).__name__)
"""


def test_names_resolve_through_entry_points():
    result = subprocess.run(
        [sys.executable, "-c", ENTRY_POINT_SCRIPT],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Focal", "CrossEntropy", "NERTagger"]


def test_configs_differ_only_in_loss_block():
    assert len(CONFIGS) >= 2
    blocks = []
    for path in CONFIGS:
        config = Config().from_disk(path, interpolate=False)
        loss = config["components"]["ner_tagger"].pop("loss")
        assert loss["@losses"].startswith("spacy_nerloss.")
        blocks.append(config)
    for path, config in zip(CONFIGS[1:], blocks[1:]):
        assert config == blocks[0], f"{path.name} differs from {CONFIGS[0].name} outside the loss block"


def test_configs_pass_debug_config(tmp_path):
    import spacy
    from spacy.tokens import Doc, DocBin

    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["bob", "lives", "here"], ents=["B-PER", "O", "O"])
    corpus = tmp_path / "tiny.spacy"
    DocBin(docs=[doc]).to_disk(corpus)
    for path in CONFIGS + [BASELINE]:
        result = subprocess.run(
            [sys.executable, "-m", "spacy", "debug", "config", str(path),
             "--paths.train", str(corpus), "--paths.dev", str(corpus)],
            capture_output=True,
            text=True,
            env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
        )
        assert result.returncode == 0, f"{path.name}: {result.stdout}{result.stderr}"
        assert "Config is valid" in result.stdout


def test_baseline_matches_configs_outside_the_component():
    tagger = Config().from_disk(CONFIGS[0], interpolate=False)
    baseline = Config().from_disk(BASELINE, interpolate=False)
    assert baseline["nlp"]["pipeline"] == ["transformer", "ner"]
    for config in (tagger, baseline):
        config["components"].pop("ner_tagger", None)
        config["components"].pop("ner", None)
        config["nlp"].pop("pipeline")
        config["initialize"]["components"] = {}
    assert baseline == tagger


def test_compare_workflow_covers_every_config():
    import srsly

    project = srsly.read_yaml(ROOT / "project.yml")
    commands = {cmd["name"]: cmd for cmd in project["commands"]}
    systems = [path.stem for path in CONFIGS] + ["spacy_ner"]
    expected = [f"compare-{name}" for name in systems] + ["compare-report"]
    assert sorted(project["workflows"]["compare"][3:]) == sorted(expected)
    for path in CONFIGS + [BASELINE]:
        name = "spacy_ner" if path == BASELINE else path.stem
        command = commands[f"compare-{name}"]
        config = str(path.relative_to(ROOT))
        assert config in command["deps"]
        assert f"python -m spacy_nerloss compare {config}" in command["script"][0]
        assert command["outputs"] == [f"metrics/compare/${{vars.dataset}}/{name}.json"]
