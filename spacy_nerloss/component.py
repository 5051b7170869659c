"""The `ner_tagger` component: token-level NER with a configurable loss."""
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

import numpy
import srsly
from spacy import util
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import registry
from spacy.vocab import Vocab
from srsly.msgpack.exceptions import UnpackException
from thinc.api import Config, Model
from thinc.types import Floats2d

from .frequencies import read_class_frequencies
from .logger import entity_diagnostics
from .losses import TagLoss
from .tags import (
    SCHEMES,
    count_tags,
    gold_tags,
    make_tags,
    split_tag,
    tags_to_spans,
    transition_scores,
    validate_scheme,
    viterbi,
)

DEFAULT_NER_TAGGER_MODEL_CONFIG = """
[model]
@architectures = "spacy.Tagger.v2"
nO = null
normalize = false

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""
DEFAULT_NER_TAGGER_MODEL = Config().from_str(DEFAULT_NER_TAGGER_MODEL_CONFIG)["model"]

# Exceptions that srsly and thinc raise on a truncated or corrupted msgpack or
# JSON file.
CORRUPT_DATA_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    UnpackException,
)

DEFAULT_LOSS = {"@losses": "spacy_nerloss.focal.v1", "gamma": 2.0, "alpha": None}


@Language.factory(
    "ner_tagger",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": DEFAULT_NER_TAGGER_MODEL,
        "loss": DEFAULT_LOSS,
        "scheme": "BIO",
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
    },
    default_score_weights={
        "ents_f": 1.0,
        "ents_p": 0.0,
        "ents_r": 0.0,
        "ents_per_type": None,
    },
)
def make_ner_tagger(
    nlp: Language,
    name: str,
    model: Model[List[Doc], List[Floats2d]],
    loss: TagLoss,
    scheme: str,
    scorer: Optional[Callable],
) -> "NERTagger":
    """Create a token-tagging named entity recognizer.

    model (Model[List[Doc], List[Floats2d]]): A model that returns one row of
        softmax probabilities per token while training, and one row of logits
        per token at prediction time, as spaCy's "spacy.Tagger.v2" does.
    loss (TagLoss): A loss from this package, e.g. "spacy_nerloss.focal.v1".
    scheme (str): The tagging scheme, "BIO" or "BILUO".
    scorer (Optional[Callable]): The scoring method.
    """
    return NERTagger(nlp.vocab, model, name, loss=loss, scheme=scheme, scorer=scorer)


class NERTagger(TrainablePipe):
    """Tag every token with a BIO or BILUO tag, then decode the tags into
    `doc.ents`. Decoding is constrained, so only valid spans come out.
    """

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "ner_tagger",
        *,
        loss: TagLoss,
        scheme: str = "BIO",
        scorer: Optional[Callable] = None,
    ) -> None:
        """Initialize the component.

        vocab (Vocab): The shared vocabulary.
        model (thinc.api.Model): The tagging model.
        name (str): The component instance name, used to add entries to the losses.
        loss (TagLoss): The loss to train with.
        scheme (str): "BIO" or "BILUO".
        scorer (Optional[Callable]): The scoring method.
        """
        validate_scheme(scheme, name)
        if not isinstance(loss, TagLoss):
            raise ValueError(
                f"[{name}] Invalid value for 'loss': {type(loss).__name__}. Use a "
                "loss registered by spacy_nerloss, e.g. "
                '{"@losses": "spacy_nerloss.focal.v1"}.'
            )
        self.vocab = vocab
        self.model = model
        self.name = name
        self.loss = loss
        self.scorer = scorer
        self.cfg: Dict[str, Any] = {"labels": [], "scheme": scheme, "tag_counts": {}}
        self._decoder_cache: Optional[tuple] = None

    @property
    def labels(self) -> tuple:
        """The entity labels, e.g. ("LOC", "PER")."""
        return tuple(self.cfg["labels"])

    @property
    def scheme(self) -> str:
        return self.cfg["scheme"]

    @property
    def tags(self) -> tuple:
        """The tag set, in the order of the model's output columns."""
        return make_tags(self.labels, self.scheme)

    @property
    def label_data(self) -> List[str]:
        return list(self.labels)

    def add_label(self, label: str) -> int:
        """Add an entity label. Only possible before the model is initialized.

        label (str): The label to add.
        RETURNS (int): 0 if the label was already present, otherwise 1.
        """
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"[{self.name}] Invalid entity label: {label!r}.")
        if label in self.labels:
            return 0
        if self.model.has_dim("nO") and self.model.get_dim("nO") is not None:
            raise ValueError(
                f"[{self.name}] Cannot add label {label!r}: the model is already "
                f"initialized with {len(self.tags)} output tags. Add all labels "
                "before nlp.initialize(), or pass them with "
                "[initialize.components.ner_tagger] labels."
            )
        self.cfg["labels"] = sorted(self.labels + (label,))
        self.vocab.strings.add(label)
        return 1

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
        class_frequencies: Optional[Union[str, Path, Dict[str, Any]]] = None,
    ) -> None:
        """Initialize the labels, the tag counts used by the loss, and the model.

        get_examples (Callable[[], Iterable[Example]]): Function that returns the
            training examples.
        nlp (Language): The current nlp object the component is part of.
        labels (Optional[Sequence[str]]): The entity labels. Read from the
            examples if not given.
        class_frequencies (Optional[Union[str, Path, dict]]): The JSON file written
            by `python -m spacy_nerloss weights`, or its content. If not given,
            the tag counts are taken from the examples; both give the same counts
            for the same corpus.
        """
        validate_get_examples(get_examples, "NERTagger.initialize")
        if isinstance(labels, str):
            raise ValueError(
                f"[{self.name}] Invalid value for 'labels': {labels!r}. Expected a "
                f'list of entity labels, e.g. ["{labels}"].'
            )
        found = {ent.label_ for eg in get_examples() for ent in eg.reference.ents}
        if labels is not None:
            unknown = sorted(found - set(labels))
            if unknown:
                raise ValueError(
                    f"[{self.name}] The training examples contain labels missing "
                    f"from the given labels: {unknown}. Add them to "
                    f"[initialize.components.{self.name}] labels."
                )
            found = set(labels)
        for label in sorted(found):
            self.add_label(label)
        if not self.labels:
            raise ValueError(
                f"[{self.name}] No entity labels found. The training examples "
                "contain no entities and no labels were given in "
                f"[initialize.components.{self.name}]."
            )
        if class_frequencies is not None:
            counts = read_class_frequencies(
                class_frequencies, self.tags, self.scheme, self.name
            )
        else:
            counts = count_tags(get_examples(), self.scheme)
        self.cfg["tag_counts"] = {tag: int(counts.get(tag, 0)) for tag in self.tags}
        self.loss.initialize(self.tags, self.cfg["tag_counts"])

        doc_sample = [eg.reference for eg in islice(get_examples(), 10)]
        if not doc_sample:
            doc_sample = [Doc(self.vocab, words=["hello"])]
        label_sample = [self.model.ops.alloc2f(len(doc), len(self.tags)) for doc in doc_sample]
        self.model.initialize(X=doc_sample, Y=label_sample)

    def predict(self, docs: Iterable[Doc]) -> List[numpy.ndarray]:
        """Predict the best valid tag sequence of each doc.

        docs (Iterable[Doc]): The documents to predict.
        RETURNS (List[numpy.ndarray]): Tag ids per doc, indexing `self.tags`.
        """
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((len(doc),), dtype="int32") for doc in docs]
        return self.decode(self.model.predict(docs))

    def decode(self, logits: List[Floats2d]) -> List[numpy.ndarray]:
        """Find the best valid tag sequence for each doc's logits.

        logits (List[Floats2d]): Unnormalised scores, one (n_tokens, n_tags) array per doc.
        RETURNS (List[numpy.ndarray]): Tag ids per doc, indexing `self.tags`.
        """
        ops = self.model.ops
        # One device-to-host copy per batch, then decode on the host.
        flat = ops.to_numpy(ops.flatten(logits)).astype("float32")
        with numpy.errstate(invalid="ignore"):
            flat = flat - flat.max(axis=1, keepdims=True)
            log_probs = flat - numpy.log(numpy.exp(flat).sum(axis=1, keepdims=True))
        self._check_finite(log_probs)
        splits = numpy.cumsum([len(doc_logits) for doc_logits in logits])[:-1]
        trans, start, end = self._decoder()
        return viterbi(numpy.split(log_probs, splits), trans, start, end)

    def _check_finite(self, log_probs: numpy.ndarray) -> None:
        """Raise a ValueError if the scores of any token could not be normalised.
        NaN, +inf, or -inf for every tag cause this, and decoding such a token
        would silently predict "O".
        """
        n_invalid = int(numpy.isnan(log_probs).any(axis=1).sum())
        if n_invalid:
            raise ValueError(
                f"[{self.name}] The model returned NaN or infinite scores for "
                f"{n_invalid} of {len(log_probs)} tokens, so no entities can be "
                "decoded. The weights are corrupted, for example by a training "
                "run that diverged: train again with a lower learning rate."
            )

    def _decoder(self):
        key = (self.labels, self.scheme)
        if self._decoder_cache is None or self._decoder_cache[0] != key:
            self._decoder_cache = (key, transition_scores(self.tags, self.scheme))
        return self._decoder_cache[1]

    def set_annotations(self, docs: Iterable[Doc], tag_ids: List[numpy.ndarray]) -> None:
        """Write the decoded entities to `doc.ents`, replacing any present.

        docs (Iterable[Doc]): The documents to modify.
        tag_ids (List[numpy.ndarray]): The output of `predict`.
        """
        tags = self.tags
        for doc, ids in zip(docs, tag_ids):
            doc.ents = tags_to_spans(doc, [tags[i] for i in ids])

    def get_loss(self, examples: Iterable[Example], scores: List[Floats2d]):
        """Compute the loss and its gradient for a batch.

        examples (Iterable[Examples]): The batch of examples.
        scores (List[Floats2d]): Softmax probabilities per doc, from the model.
        RETURNS (Tuple[float, List[Floats2d]]): The loss and the gradient.
        """
        validate_examples(examples, "NERTagger.get_loss")
        if not self.loss.is_initialized:
            self.loss.initialize(self.tags, self.cfg["tag_counts"])
        truths = [gold_tags(eg, self.scheme) for eg in examples]
        self._check_gold_labels(truths)
        d_scores, loss = self.loss(scores, truths)
        if not numpy.isfinite(loss):
            raise ValueError(
                f"[{self.name}] The loss is {loss}, so training stopped before it "
                "could corrupt the weights. Try a lower learning rate, or check "
                "the data for empty or degenerate docs."
            )
        return float(loss), d_scores

    def _check_gold_labels(self, truths: List[List[Optional[str]]]) -> None:
        """Raise a ValueError naming the labels of gold tags outside the tag set."""
        unknown = set().union(*truths) - set(self.tags) - {None}
        if unknown:
            labels = sorted({split_tag(tag)[1] for tag in unknown})
            raise ValueError(
                f"[{self.name}] The training examples contain the labels {labels}, "
                "which the component was not initialized with (its labels: "
                f"{list(self.labels)}). Labels cannot be added after initialize, "
                "because the size of the output layer is fixed then. List them in "
                f"[initialize.components.{self.name}] labels and initialize again."
            )

    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
        """Score the examples with the configured scorer, then add the entity
        token shares and per-type entity counts that
        spacy_nerloss.ConsoleLogger.v1 uses to detect collapse to O.

        examples (Iterable[Example]): The examples to score.
        RETURNS (Dict[str, Any]): The scores.
        """
        examples = list(examples)
        scores = super().score(examples, **kwargs)
        scores.update(entity_diagnostics(examples))
        return scores

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()) -> "NERTagger":
        """Load the component from the output of `to_bytes`.

        Raises ValueError, naming the component, when the data is truncated or
        corrupted, or when its labels do not fit the model weights.

        bytes_data (bytes): The data to load.
        exclude (Iterable[str]): String names of serialization fields to exclude.
        RETURNS (NERTagger): The loaded component.
        """
        try:
            super().from_bytes(bytes_data, exclude=exclude)
        except CORRUPT_DATA_ERRORS as err:
            raise ValueError(
                f"[{self.name}] Cannot load the component from bytes: the data is "
                f"truncated or corrupted ({type(err).__name__}: {err})."
            ) from err
        self._after_load("the loaded bytes", "the loaded bytes")
        return self

    def from_disk(
        self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()
    ) -> "NERTagger":
        """Load the component from a folder written by `to_disk`.

        Raises ValueError, naming the component and the file, when `cfg` or
        `model` is missing, truncated or corrupted, or when the labels in `cfg`
        do not fit the model weights.

        path (Union[str, Path]): The component folder, e.g. "pipeline/ner_tagger".
        exclude (Iterable[str]): String names of serialization fields to exclude.
        RETURNS (NERTagger): The loaded component.
        """
        path = util.ensure_path(path)
        readers = {
            "cfg": self._load_cfg,
            "vocab": lambda p: self.vocab.from_disk(p, exclude=exclude),
            "model": self._load_model,
        }
        util.from_disk(path, readers, exclude)
        self._after_load(path / "cfg", path / "model")
        return self

    def _load_cfg(self, path: Path) -> None:
        data = self._read_component_file(path)
        try:
            cfg = srsly.json_loads(data)
        except ValueError as err:
            raise ValueError(
                f"[{self.name}] Cannot load {path}: invalid JSON ({err}). The file "
                "is truncated or corrupted: save the pipeline again."
            ) from err
        if not isinstance(cfg, dict):
            raise ValueError(
                f"[{self.name}] Cannot load {path}: expected a JSON object, got a "
                f"{type(cfg).__name__}. The file is corrupted: save the pipeline again."
            )
        self.cfg.update(cfg)

    def _load_model(self, path: Path) -> None:
        # NOTE: the file has no checksum, so bytes changed inside the weight
        # arrays load without an error. Only a broken structure is detected.
        data = self._read_component_file(path)
        try:
            self.model.from_bytes(data)
        except CORRUPT_DATA_ERRORS as err:
            raise ValueError(
                f"[{self.name}] Cannot load the model weights from {path}: the file "
                "is truncated or corrupted, or was written by a component with "
                f"another model config ({type(err).__name__}: {err}). Save the "
                "pipeline again."
            ) from err

    def _read_component_file(self, path: Path) -> bytes:
        if not path.is_file():
            raise ValueError(
                f"[{self.name}] Cannot load the component: {path} is missing. Save "
                "the pipeline again with nlp.to_disk()."
            )
        return path.read_bytes()

    def _after_load(
        self, cfg_source: Union[str, Path], model_source: Union[str, Path]
    ) -> None:
        """Check the loaded settings against the model weights, then set up the
        decoder and the loss for them.
        """
        self._check_cfg(cfg_source)
        n_outputs = self.model.get_dim("nO") if self.model.has_dim("nO") else None
        if n_outputs is not None and n_outputs != len(self.tags):
            raise ValueError(
                f"[{self.name}] The model weights in {model_source} have "
                f"{n_outputs} output tags, but the {len(self.labels)} labels and "
                f"scheme {self.scheme!r} in {cfg_source} make {len(self.tags)} tags. "
                "The two do not belong to the same trained component: save the "
                "pipeline again."
            )
        self._check_tag_counts(cfg_source)
        self._decoder_cache = None
        if self.labels and self.cfg.get("tag_counts"):
            self.loss.initialize(self.tags, self.cfg["tag_counts"])

    def _check_cfg(self, source: Union[str, Path]) -> None:
        labels = self.cfg.get("labels")
        # The output columns follow the label order, so an unsorted list would
        # silently swap the predicted labels.
        valid = isinstance(labels, list) and all(
            isinstance(label, str) and label for label in labels
        )
        if not valid or labels != sorted(set(labels)):
            raise ValueError(
                f"[{self.name}] Invalid 'labels' in {source}: {labels!r}. Expected "
                "the sorted list of entity labels that the component was trained with."
            )
        scheme = self.cfg.get("scheme")
        if scheme not in SCHEMES:
            raise ValueError(
                f"[{self.name}] Invalid 'scheme' in {source}: {scheme!r}. Allowed "
                f"values: {', '.join(SCHEMES)}."
            )

    def _check_tag_counts(self, source: Union[str, Path]) -> None:
        counts = self.cfg.get("tag_counts")
        if not isinstance(counts, dict) or (counts and set(counts) != set(self.tags)):
            raise ValueError(
                f"[{self.name}] Invalid 'tag_counts' in {source}: expected one count "
                f"for each of the tags {list(self.tags)}."
            )
