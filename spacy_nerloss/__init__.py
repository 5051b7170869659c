"""Class-imbalance losses and a token-tagging NER component for spaCy v3."""
import logging

from .component import NERTagger, make_ner_tagger
from .losses import (
    BatchBalancedFocal,
    ClassBalanced,
    CrossEntropy,
    Dice,
    Focal,
    LabelSmoothing,
    TagLoss,
)
from .weights import class_weights

__all__ = [
    "NERTagger",
    "make_ner_tagger",
    "BatchBalancedFocal",
    "ClassBalanced",
    "CrossEntropy",
    "Dice",
    "Focal",
    "LabelSmoothing",
    "TagLoss",
    "class_weights",
]
__version__ = "0.1.0"

# Warnings reach the console through spaCy's printer; the logging records are
# only shown where the application configures logging.
logging.getLogger("spacy_nerloss").addHandler(logging.NullHandler())
