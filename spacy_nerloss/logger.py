"""A training logger that watches for collapse to O, and the scores it reads.

`spacy_nerloss.ConsoleLogger.v1` prints spaCy's console table (and progress
bar), then at every evaluation a line of per-type F-scores and a warning when:

- the share of dev tokens predicted as entity tokens falls below
  `collapse_ratio` times the gold share ("collapsing to O");
- an entity type of the dev data has had no predicted entity for
  `zero_prediction_evals` evaluations in a row;
- a component's loss is NaN or infinite.

The token shares and entity counts come from `entity_diagnostics`, which the
ner_tagger component adds to its scores. With a component that does not add
them (spaCy's own `ner`), only the per-type line and the loss check remain.
"""
import logging
import math
import sys
from collections import Counter
from typing import IO, Any, Callable, Dict, Iterable, List, Optional, Tuple

from spacy.training import Example
from spacy.training.loggers import console_logger_v3
from spacy.util import registry
from tqdm import tqdm
from wasabi import Printer

from .tags import gold_tags
from .validation import validate_number

logger = logging.getLogger("spacy_nerloss")

LOGGER_NAME = "spacy_nerloss.ConsoleLogger.v1"

HINT_COLLAPSE = (
    "Try a stronger push towards rare tags: raise gamma, use class weights "
    '(weighting = "inverse"), use spacy_nerloss.batch_balanced_focal.v1, or '
    "lower the learning rate."
)
HINT_ZERO = (
    "Give rare types more weight (weighting = \"inverse\" or \"effective\", or "
    "spacy_nerloss.class_balanced.v1), or train for more steps."
)
HINT_NOT_FINITE = (
    "Lower the learning rate, keep training.optimizer.grad_clip at 1.0 or "
    "less, and turn off mixed precision."
)


def entity_diagnostics(examples: Iterable[Example]) -> Dict[str, Any]:
    """Count gold and predicted entity tokens and entities per type.

    Only predicted tokens with a gold tag count towards the token shares, with
    the gold tags aligned as the ner_tagger loss aligns them.

    examples (Iterable[Example]): Examples whose predicted docs are annotated.
    RETURNS (Dict[str, Any]): "ents_token_share_gold" and
        "ents_token_share_pred" (share of tokens inside an entity, None when no
        token has a gold annotation), "ents_gold_per_type" and
        "ents_pred_per_type" (entity counts).
    """
    n_tokens = n_gold = n_pred = 0
    gold_types: Counter = Counter()
    pred_types: Counter = Counter()
    for eg in examples:
        gold_types.update(ent.label_ for ent in eg.reference.ents)
        pred_types.update(ent.label_ for ent in eg.predicted.ents)
        # The gold tags aligned as the loss receives them; None is missing.
        for token, tag in zip(eg.predicted, gold_tags(eg, "BIO")):
            if tag is None:
                continue
            n_tokens += 1
            n_gold += tag != "O"
            # ent_iob: 1 inside, 2 outside, 3 begin, 0 unset.
            n_pred += token.ent_iob in (1, 3)
    return {
        "ents_token_share_gold": n_gold / n_tokens if n_tokens else None,
        "ents_token_share_pred": n_pred / n_tokens if n_tokens else None,
        "ents_gold_per_type": dict(sorted(gold_types.items())),
        "ents_pred_per_type": dict(sorted(pred_types.items())),
    }


class CollapseMonitor:
    """Turn the scores of successive evaluations into warnings."""

    def __init__(self, collapse_ratio: float, zero_prediction_evals: int) -> None:
        self.collapse_ratio = collapse_ratio
        self.zero_prediction_evals = zero_prediction_evals
        self.evals_without_prediction: Counter = Counter()

    def check(self, info: Dict[str, Any]) -> List[Tuple[str, str]]:
        """Return (message, hint) pairs for the evaluation described by `info`.

        The evaluation at step 0 scores the untrained model, so only its loss
        is checked.
        """
        warnings = []
        for name, loss in info.get("losses", {}).items():
            if not math.isfinite(float(loss)):
                warnings.append(
                    (
                        f"The loss of {name} is {loss} at step {info['step']}.",
                        HINT_NOT_FINITE,
                    )
                )
        if info["step"] == 0:
            return warnings
        scores = info.get("other_scores", {})
        collapse = self.check_collapse(scores)
        if collapse:
            warnings.append(collapse)
        silent = self.update_zero_predictions(scores)
        if silent:
            warnings.append(
                (
                    f"No predicted entity of type {', '.join(silent)} for "
                    f"{self.zero_prediction_evals} or more evaluations in a row.",
                    HINT_ZERO,
                )
            )
        return warnings

    def check_collapse(self, scores: Dict[str, Any]) -> Optional[Tuple[str, str]]:
        gold = scores.get("ents_token_share_gold")
        pred = scores.get("ents_token_share_pred")
        if not gold or pred is None or pred >= self.collapse_ratio * gold:
            return None
        message = (
            f"Collapsing to O: {1 - pred:.1%} of dev tokens are predicted O, "
            f"against {1 - gold:.1%} in the gold data (entity tokens: "
            f"{pred:.1%} predicted, {gold:.1%} gold)."
        )
        return message, HINT_COLLAPSE

    def update_zero_predictions(self, scores: Dict[str, Any]) -> List[str]:
        gold = scores.get("ents_gold_per_type")
        pred = scores.get("ents_pred_per_type")
        if gold is None or pred is None:
            return []
        for label, count in gold.items():
            if count > 0 and pred.get(label, 0) == 0:
                self.evals_without_prediction[label] += 1
            else:
                self.evals_without_prediction[label] = 0
        return [
            label
            for label, n_evals in sorted(self.evals_without_prediction.items())
            if n_evals >= self.zero_prediction_evals
        ]


def format_per_type(scores: Dict[str, Any]) -> Optional[str]:
    per_type = scores.get("ents_per_type")
    if not per_type:
        return None
    cells = [f"{label} {100 * prf['f']:.2f}" for label, prf in sorted(per_type.items())]
    return "F per type: " + ", ".join(cells)


@registry.loggers(LOGGER_NAME)
def make_console_logger(
    progress_bar: Optional[str] = None,
    console_output: bool = True,
    output_file: Optional[str] = None,
    collapse_ratio: float = 0.5,
    zero_prediction_evals: int = 3,
) -> Callable:
    """Build spaCy's console logger with per-type scores and collapse warnings.

    progress_bar (Optional[str]): As in spacy.ConsoleLogger.v3: null, "train"
        or "eval".
    console_output (bool): Whether to print to the console.
    output_file (Optional[str]): A JSONL file for spaCy's per-evaluation log.
    collapse_ratio (float): Warn when the share of dev tokens predicted inside
        an entity is below this fraction of the gold share. In (0, 1].
    zero_prediction_evals (int): Warn when an entity type of the dev data has
        had no predicted entity for this many evaluations in a row. >= 1.
    RETURNS (Callable): The logger setup function spaCy's training loop calls.
    """
    validate_number(
        LOGGER_NAME, "collapse_ratio", collapse_ratio,
        minimum=0.0, exclusive_minimum=True, maximum=1.0,
    )  # fmt: skip
    is_int = isinstance(zero_prediction_evals, int)
    if not is_int or isinstance(zero_prediction_evals, bool) or zero_prediction_evals < 1:
        raise ValueError(
            f"[{LOGGER_NAME}] Invalid value for zero_prediction_evals: "
            f"{zero_prediction_evals!r}. Expected an integer >= 1."
        )
    setup_console = console_logger_v3(progress_bar, console_output, output_file)

    def setup_logger(
        nlp, stdout: IO = sys.stdout, stderr: IO = sys.stderr
    ) -> Tuple[Callable[[Optional[Dict[str, Any]]], None], Callable[[], None]]:
        log_console, finalize = setup_console(nlp, stdout, stderr)
        monitor = CollapseMonitor(collapse_ratio, zero_prediction_evals)
        printer = Printer(no_print=True)

        def write(text: str) -> None:
            # tqdm.write keeps an open progress bar below the printed line.
            tqdm.write(text, file=stdout)

        def log_step(info: Optional[Dict[str, Any]]) -> None:
            log_console(info)
            if info is None:
                return
            per_type = format_per_type(info.get("other_scores", {}))
            if per_type and console_output:
                write(printer.text(per_type))
            for message, hint in monitor.check(info):
                logger.warning("%s %s", message, hint)
                if console_output:
                    write(printer.warn(message, hint))

        return log_step, finalize

    return setup_logger
