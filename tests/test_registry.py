import subprocess
import sys
from pathlib import Path

from thinc.api import Config

ROOT = Path(__file__).parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.cfg"))

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
    for path in CONFIGS:
        result = subprocess.run(
            [sys.executable, "-m", "spacy", "debug", "config", str(path),
             "--paths.train", str(corpus), "--paths.dev", str(corpus)],
            capture_output=True,
            text=True,
            env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
        )
        assert result.returncode == 0, f"{path.name}: {result.stdout}{result.stderr}"
        assert "Config is valid" in result.stdout
