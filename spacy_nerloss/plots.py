"""Plots of evaluation results, drawn with matplotlib (the `plots` extra)."""
from pathlib import Path
from typing import Dict


def pyplot():
    """Import matplotlib.pyplot with the file-only Agg backend."""
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError(
            "Plots need matplotlib: pip install 'spacy-nerloss[plots]'"
        ) from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_per_type_f1(
    per_type: Dict[str, Dict[str, float]], path: Path, title: str
) -> None:
    """Draw a bar chart of F1 per entity type, with the gold count of each type.

    per_type (Dict[str, Dict[str, float]]): "f" (in [0, 1]) and "support" per type.
    path (Path): The PNG file to write.
    title (str): The chart title.
    """
    plt = pyplot()
    labels = list(per_type)
    scores = [100 * per_type[label]["f"] for label in labels]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(labels) + 2), 4.5))
    bars = ax.bar(range(len(labels)), scores, color="tab:blue", label="F1")
    for bar, label in zip(bars, labels):
        ax.annotate(
            f"{bar.get_height():.1f}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize="small",
        )
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([f"{label}\n(n={per_type[label]['support']})" for label in labels])
    ax.set_xlabel("entity type (n = gold entities)")
    ax.set_ylabel("F1 (%)")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
