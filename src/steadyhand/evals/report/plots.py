"""Comparison plots as inline SVG (matplotlib, Agg backend, no files, no fonts fetched)."""

from __future__ import annotations

import io
from collections.abc import Sequence


def grouped_bars(title: str, categories: Sequence[str], series: dict[str, Sequence[float | None]],
                 ylabel: str, percent: bool = False) -> str:
    """A grouped bar chart, one bar per series in each category, as an ``<svg>`` string.

    Missing values (None) leave a gap. ``percent`` scales values in [0, 1] to 0-100 %.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(3.6, 1.1 * len(categories) + 2.0), 2.6 + 0.22 * len(series)), dpi=96)
    try:
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (name, values) in enumerate(series.items()):
            xs = [c + (i - (n - 1) / 2) * width for c in range(len(categories))]
            ys = [(100 * v if percent else v) if v is not None else 0.0 for v in values]
            ax.bar(xs, ys, width=width, label=name)
        ax.set_xticks(range(len(categories)), list(categories))
        ax.set_ylabel(ylabel)
        if percent:
            ax.set_ylim(0, 100)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1, frameon=False)
        ax.grid(axis="y", alpha=0.3)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    finally:
        plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]
