"""Package a trained pipeline with `spacy package` and load it in a fresh
virtualenv where spacy_nerloss comes from its wheel, not from this repository.

The test needs no network. Both wheels are built by pip with --no-index and
--no-build-isolation, so the test environment's setuptools (>= 70.1, which
builds wheels without the `wheel` package) does the build. The fresh virtualenv
has no pip and no packages of its own: a .pth file appends the test
environment's site-packages, so spaCy, thinc and torch resolve from there.
Only the folder itself is appended, so the .pth files in it, such as the one
of an editable install of this repository, are not run.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy
import spacy
import srsly
from spacy.training import Example
from thinc.api import fix_random_seed

import spacy_nerloss
from test_component import transformer_nlp

REPO = Path(__file__).resolve().parents[1]
PACKAGE_NAME = "nerloss_tiny"
PACKAGE_MODULE = f"en_{PACKAGE_NAME}"

TRAIN_DATA = [
    ("bob smith lives in paris", {"entities": [(0, 9, "PER"), (19, 24, "LOC")]}),
    ("anna works at acme corp", {"entities": [(0, 4, "PER"), (14, 23, "ORG")]}),
    ("we met mary near rome", {"entities": [(7, 11, "PER"), (17, 21, "LOC")]}),
    ("the sun is hot today", {"entities": []}),
]
TEXTS = [text for text, _ in TRAIN_DATA] + ["i like london and berlin", ""]

# Runs in the fresh virtualenv. It checks where the modules come from before
# it prints anything, so a leak from the repository fails the child itself.
CHILD_SCRIPT = """
import json, sys
from pathlib import Path

site_packages, repo = Path(sys.argv[1]), Path(sys.argv[2])
texts = json.loads(sys.argv[3])
import spacy
nlp = spacy.load("{module}")

import spacy_nerloss, {module}
for module in (spacy_nerloss, {module}):
    origin = Path(module.__file__).resolve()
    assert site_packages in origin.parents, f"{{module.__name__}} from {{origin}}"
for name, module in list(sys.modules.items()):
    origin = getattr(module, "__file__", None)
    if origin and (repo / "spacy_nerloss") in Path(origin).resolve().parents:
        raise AssertionError(f"{{name}} loaded from the repository: {{origin}}")

docs = list(nlp.pipe(texts))
logits = nlp.get_pipe("ner_tagger").model.predict([doc for doc in docs if len(doc)])
print(json.dumps({{
    "ents": [[(ent.text, ent.label_) for ent in doc.ents] for doc in docs],
    "logits": [array.tolist() for array in logits],
    "spacy_nerloss": spacy_nerloss.__file__,
    "sys_path": sys.path,
}}))
""".format(
    module=PACKAGE_MODULE
)


def run(args, **kwargs):
    """Run a command and fail the test with its output if it fails."""
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, **kwargs
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def build_wheel(source: Path, wheel_dir: Path) -> Path:
    """Build one wheel with the test environment's setuptools, offline."""
    before = set(wheel_dir.glob("*.whl"))
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index"]
        + ["--no-build-isolation", "--wheel-dir", wheel_dir, source]
    )
    (wheel,) = set(wheel_dir.glob("*.whl")) - before
    return wheel


def copy_source(destination: Path) -> Path:
    """Copy what a wheel of this project is built from, so that the build
    writes its egg-info and build folders outside the repository.
    """
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, destination / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    package = destination / "spacy_nerloss"
    shutil.copytree(REPO / "spacy_nerloss", package, ignore=ignore)
    return destination


def make_venv(path: Path) -> Path:
    """Create a virtualenv without pip whose dependencies resolve from the
    test environment, and return its site-packages folder.
    """
    run([sys.executable, "-m", "venv", "--without-pip", path])
    python = path / "bin" / "python"
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site_packages = Path(run([python, "-c", code]).stdout.strip())
    paths = sysconfig.get_paths()
    dependencies = dict.fromkeys([paths["purelib"], paths["platlib"]])
    (site_packages / "test_dependencies.pth").write_text("\n".join(dependencies) + "\n")
    return site_packages


def install(wheels, site_packages: Path) -> None:
    run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index"]
        + ["--upgrade", "--target", site_packages]
        + list(wheels)
    )


def run_child(venv: Path, site_packages: Path, cwd: Path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH")
    }
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    args = [venv / "bin" / "python", "-c", CHILD_SCRIPT, site_packages.resolve()]
    args += [REPO, json.dumps(TEXTS)]
    return subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, cwd=cwd, env=env
    )


def train_pipeline(transformer: Path):
    fix_random_seed(0)
    nlp = transformer_nlp(transformer)
    examples = [Example.from_dict(nlp.make_doc(t), a) for t, a in TRAIN_DATA]
    optimizer = nlp.initialize(lambda: examples)
    optimizer.learn_rate = 0.003
    for _ in range(30):
        nlp.update(examples, sgd=optimizer)
    return nlp


def test_package_predicts_same_in_fresh_venv(tiny_transformer, tmp_path):
    # A private copy of the transformer is deleted before the package is
    # loaded, so the package cannot fall back on the folder it was trained from.
    transformer = tmp_path / "transformer"
    shutil.copytree(tiny_transformer, transformer)
    nlp = train_pipeline(transformer)
    docs = list(nlp.pipe(TEXTS))
    expected_ents = [[(ent.text, ent.label_) for ent in doc.ents] for doc in docs]
    # Without any entity the comparison below could pass by accident.
    assert any(expected_ents)
    tagger = nlp.get_pipe("ner_tagger")
    expected_logits = tagger.model.predict([doc for doc in docs if len(doc)])
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(transformer)

    packages = tmp_path / "packages"
    packages.mkdir()
    run(
        [sys.executable, "-m", "spacy", "package", tmp_path / "pipeline", packages]
        + ["--name", PACKAGE_NAME, "--version", "0.0.1", "--build", "none"]
    )
    package_dir = packages / f"{PACKAGE_MODULE}-0.0.1"
    requirements = srsly.read_json(package_dir / "meta.json")["requirements"]
    assert any(r.startswith("spacy-nerloss>=") for r in requirements), requirements

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    pipeline_wheel = build_wheel(package_dir, wheels)
    source = tmp_path / "source"
    source.mkdir()
    nerloss_wheel = build_wheel(copy_source(source), wheels)

    venv = tmp_path / "venv"
    site_packages = make_venv(venv)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    install([pipeline_wheel], site_packages)
    repo_package = REPO / "spacy_nerloss"
    if Path(spacy_nerloss.__file__).resolve().parent == repo_package.resolve():
        # With this repository installed in editable mode, nothing but the wheel
        # can provide spacy_nerloss, so the pipeline must not load without it.
        # Otherwise the test environment provides an installed copy, and this
        # control does not apply.
        missing = run_child(venv, site_packages, cwd)
        assert missing.returncode != 0
        assert "No module named 'spacy_nerloss'" in missing.stderr, missing.stderr

    install([nerloss_wheel], site_packages)
    result = run_child(venv, site_packages, cwd)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    installed = Path(output["spacy_nerloss"]).resolve()
    assert installed.parent.parent == site_packages.resolve()
    assert str(REPO) not in output["sys_path"]
    assert [[tuple(ent) for ent in doc] for doc in output["ents"]] == expected_ents
    assert len(output["logits"]) == len(expected_logits)
    for got, expected in zip(output["logits"], expected_logits):
        numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
