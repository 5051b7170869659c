"""Class-imbalance losses and a token-tagging NER component for spaCy v3."""
from .component import NERTagger, make_ner_tagger
from .losses import CrossEntropy, Focal, TagLoss
from .weights import class_weights

__all__ = ["NERTagger", "make_ner_tagger", "CrossEntropy", "Focal", "TagLoss", "class_weights"]
__version__ = "0.1.0"
