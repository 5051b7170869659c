"""Class-imbalance losses and a token-tagging NER component for spaCy v3."""
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
