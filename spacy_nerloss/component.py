"""The `ner_tagger` component: token-level NER with a configurable loss."""
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

import numpy
import srsly
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import Config, Model
from thinc.types import Floats2d

from .logger import entity_diagnostics
from .losses import TagLoss
from .tags import (
    count_tags,
    gold_tags,
    make_tags,
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
            counts = self._read_class_frequencies(class_frequencies)
        else:
            counts = count_tags(get_examples(), self.scheme)
        self.cfg["tag_counts"] = {tag: int(counts.get(tag, 0)) for tag in self.tags}
        self.loss.initialize(self.tags, self.cfg["tag_counts"])

        doc_sample = [eg.reference for eg in islice(get_examples(), 10)]
        if not doc_sample:
            doc_sample = [Doc(self.vocab, words=["hello"])]
        label_sample = [self.model.ops.alloc2f(len(doc), len(self.tags)) for doc in doc_sample]
        self.model.initialize(X=doc_sample, Y=label_sample)

    def _read_class_frequencies(self, data: Union[str, Path, Dict[str, Any]]) -> Dict[str, int]:
        source = "the class_frequencies setting"
        if isinstance(data, (str, Path)):
            source = str(data)
            if not Path(data).exists():
                raise ValueError(
                    f"[{self.name}] Class frequency file not found: {data}. Write it "
                    "with `python -m spacy_nerloss weights`."
                )
            data = srsly.read_json(data)
        if not isinstance(data, dict) or "counts" not in data or "scheme" not in data:
            raise ValueError(
                f"[{self.name}] Invalid class frequencies in {source}: expected a "
                "JSON object with 'scheme' and 'counts' keys, as written by "
                "`python -m spacy_nerloss weights`."
            )
        if data["scheme"] != self.scheme:
            raise ValueError(
                f"[{self.name}] The class frequencies in {source} were computed for "
                f"scheme {data['scheme']!r}, but the component uses {self.scheme!r}."
            )
        counts = data["counts"]
        missing = [tag for tag in self.tags if tag not in counts]
        extra = [tag for tag in counts if tag not in self.tags]
        if missing or extra:
            raise ValueError(
                f"[{self.name}] The class frequencies in {source} do not match the "
                f"tag set. Missing tags: {missing}. Unknown tags: {extra}. "
                "Recompute them from the training corpus."
            )
        for tag, n in counts.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError(
                    f"[{self.name}] Invalid count for tag {tag!r}: {n!r} in {source}. "
                    "Counts must be whole numbers >= 0."
                )
        return dict(counts)

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
        flat = flat - flat.max(axis=1, keepdims=True)
        log_probs = flat - numpy.log(numpy.exp(flat).sum(axis=1, keepdims=True))
        splits = numpy.cumsum([len(doc_logits) for doc_logits in logits])[:-1]
        trans, start, end = self._decoder()
        return viterbi(numpy.split(log_probs, splits), trans, start, end)

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
        d_scores, loss = self.loss(scores, truths)
        if not numpy.isfinite(loss):
            raise ValueError(
                f"[{self.name}] The loss is {loss}, so training stopped before it "
                "could corrupt the weights. Try a lower learning rate, or check "
                "the data for empty or degenerate docs."
            )
        return float(loss), d_scores

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

    def from_bytes(self, bytes_data, *, exclude=tuple()):
        result = super().from_bytes(bytes_data, exclude=exclude)
        self._after_load()
        return result

    def from_disk(self, path, *, exclude=tuple()):
        result = super().from_disk(path, exclude=exclude)
        self._after_load()
        return result

    def _after_load(self) -> None:
        self._decoder_cache = None
        if self.labels and self.cfg.get("tag_counts"):
            self.loss.initialize(self.tags, self.cfg["tag_counts"])
