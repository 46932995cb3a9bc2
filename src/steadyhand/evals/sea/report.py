"""Reports of SEA studies: the cumulative-errors curve, cost per error, and error clusters.

:func:`build_report` reads a study (a SEA run and its random baseline) from the
store and computes, per method, errors per 1,000 testee calls and the calls and
tokens paid per error; it clusters the erroneous questions by embedding (k-means,
seeded) and names each cluster by its most distinctive terms, with example
questions and the testee's replies. :func:`write_report` draws the curve (PNG,
matplotlib's Agg backend) and writes ``report.md`` and ``report.json``.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from steadyhand.evals.sea.embed import Embedder
from steadyhand.evals.sea.questions import LETTERS
from steadyhand.evals.sea.store import SeaStore

__all__ = ["Cluster", "MethodReport", "StudyReport", "build_report", "kmeans", "plot_curves", "write_report"]

_TERM = re.compile(r"[a-z][a-z0-9+-]{2,}")
_STOP = frozenset(word for line in (
    "the and for with from this that which what about according entry knowledge base page fill blank",
    "statement option correctly completes text section following complete fact belongs its it's are was",
    "has have debian package described built source version",
) for word in line.split())


@dataclass
class MethodReport:
    """One method's figures in a study."""

    method: str
    run_id: str
    status: str
    calls: int
    tokens: int
    steps: int
    paragraphs: int
    questions: int
    errors: int
    source_errors: int
    seconds_per_step: float
    curve: list[tuple[int, int, int]]  # (step, calls so far, errors so far)

    @property
    def errors_per_1k(self) -> float:
        return 1000.0 * self.errors / self.calls if self.calls else 0.0

    @property
    def calls_per_error(self) -> float | None:
        return self.calls / self.errors if self.errors else None

    @property
    def tokens_per_error(self) -> float | None:
        return self.tokens / self.errors if self.errors else None


@dataclass
class Cluster:
    """Erroneous questions that sit close together in embedding space."""

    size: int
    top_terms: list[str]
    by_method: dict[str, int]
    examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StudyReport:
    study: str
    config: dict[str, Any]
    methods: list[MethodReport]
    clusters: list[Cluster]

    def to_json(self) -> dict[str, Any]:
        methods = [{**asdict(m), "errors_per_1k": m.errors_per_1k, "calls_per_error": m.calls_per_error,
                    "tokens_per_error": m.tokens_per_error} for m in self.methods]
        return {"study": self.study, "config": self.config, "methods": methods,
                "clusters": [asdict(c) for c in self.clusters]}


def kmeans(vectors: np.ndarray, k: int, *, seed: int = 0, iterations: int = 50) -> np.ndarray:
    """Cluster labels from k-means with k-means++ seeding (cosine on unit vectors)."""
    n = len(vectors)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centres = [vectors[int(rng.integers(n))]]
    for _ in range(1, k):
        dist = np.min(np.stack([((vectors - c) ** 2).sum(1) for c in centres]), axis=0)
        total = float(dist.sum())
        centres.append(vectors[int(rng.choice(n, p=dist / total))] if total > 0 else vectors[int(rng.integers(n))])
    centre_matrix = np.stack(centres)
    labels = np.zeros(n, dtype=int)
    for _ in range(iterations):
        new = np.argmax(vectors @ centre_matrix.T, axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        for j in range(k):
            members = vectors[labels == j]
            if len(members):
                mean = members.mean(0)
                centre_matrix[j] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return labels


def _top_terms(docs: list[str], members: list[int], n: int = 6) -> list[str]:
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(_TERM.findall(doc.lower())) - _STOP)
    tf: Counter[str] = Counter()
    for i in members:
        tf.update(t for t in _TERM.findall(docs[i].lower()) if t not in _STOP)
    scored = sorted(tf, key=lambda t: (-tf[t] * math.log(1 + len(docs) / df[t]), t))
    return scored[:n]


def _method_report(store: SeaStore, run: Any) -> MethodReport:
    steps = [s for s in store.steps(run.id) if s.status == "done"]
    results = store.paragraph_results(run.id)
    curve: list[tuple[int, int, int]] = []
    calls = errors = 0
    for s in steps:
        calls += s.calls
        errors += s.errors
        curve.append((s.step, calls, errors))
    return MethodReport(
        method=run.method, run_id=run.id, status=run.status, calls=run.calls,
        tokens=run.input_tokens + run.output_tokens, steps=len(steps), paragraphs=len(results),
        questions=sum(r.questions for r in results), errors=sum(r.error_questions for r in results),
        source_errors=sum(r.is_source for r in results),
        seconds_per_step=sum(s.seconds for s in steps) / len(steps) if steps else 0.0, curve=curve)


def build_report(store: SeaStore, study: str, *, embedder: Embedder | None = None, clusters: int = 8,
                 examples: int = 3) -> StudyReport:
    """Figures and error clusters of a study (``embedder=None``: the hashing embedder).

    Raises:
        ConfigurationError: no such study in the store.
    """
    from steadyhand.evals.sea.embed import HashingEmbedder

    runs = store.runs(study)
    methods = [_method_report(store, run) for run in runs]
    config = dict(runs[0].config)
    # Erroneous questions of every run, once each.
    error_questions: dict[str, dict[str, Any]] = {}
    for run in runs:
        key = run.config.get("question_cache", "")
        by_question: dict[str, list[Any]] = {}
        for ask in store.asks(run.id):
            by_question.setdefault(ask.question_id, []).append(ask)
        results = {r.paragraph_id for r in store.paragraph_results(run.id)}
        wrong = {qid: asks for qid, asks in by_question.items()
                 if asks[0].paragraph_id in results and sum(not a.correct for a in asks) * 2 > len(asks)}
        cached = store.cached_questions(key, sorted({a[0].paragraph_id for a in wrong.values()}))
        for paragraph_questions in cached.values():
            for q in paragraph_questions:
                if q.id in wrong:
                    entry = error_questions.setdefault(q.id, {"question": q, "asks": wrong[q.id], "methods": set()})
                    entry["methods"].add(run.method)
    ids = sorted(error_questions)
    found: list[Cluster] = []
    if ids and clusters > 0:
        docs = [error_questions[i]["question"].question for i in ids]
        vectors = (embedder or HashingEmbedder()).embed(docs)
        labels = kmeans(vectors, min(clusters, max(1, len(ids) // 4)), seed=int(config.get("seed", 0)))
        for j in sorted(set(labels.tolist()), key=lambda j: -int((labels == j).sum())):
            members = [i for i in range(len(ids)) if labels[i] == j]
            by_method: Counter[str] = Counter()
            for i in members:
                by_method.update(error_questions[ids[i]]["methods"])
            centre = vectors[members].mean(0)
            nearest = sorted(members, key=lambda i: -float(vectors[i] @ centre))[:examples]
            shown = []
            for i in nearest:
                q = error_questions[ids[i]]["question"]
                asks = error_questions[ids[i]]["asks"]
                shown.append({"question": q.question, "options": q.options, "answer": LETTERS[q.answer],
                              "replies": [a.reply.strip()[:60] for a in asks]})
            found.append(Cluster(size=len(members), top_terms=_top_terms(docs, members), by_method=dict(by_method),
                                 examples=shown))
    return StudyReport(study=runs[0].study, config=config, methods=methods, clusters=found)


def plot_curves(curves: dict[str, list[list[tuple[int, int]]]], path: Path, *, title: str) -> Path:
    """Cumulative errors against testee calls: one line per run, one colour per label; a mean per label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    colours = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple"]
    for (label, runs), colour in zip(curves.items(), colours, strict=False):
        for k, points in enumerate(runs):
            xs = [0, *[p[0] for p in points]]
            ys = [0, *[p[1] for p in points]]
            ax.plot(xs, ys, marker="o", markersize=3, linewidth=2 if len(runs) == 1 else 1,
                    alpha=1.0 if len(runs) == 1 else 0.35, color=colour,
                    label=label if len(runs) == 1 else (f"{label} (each seed)" if k == 0 else None))
        if len(runs) > 1:
            grid = np.linspace(0, max(p[0] for r in runs for p in r), 50)
            mean = np.mean([np.interp(grid, [0, *[p[0] for p in r]], [0, *[p[1] for p in r]]) for r in runs], axis=0)
            ax.plot(grid, mean, color=colour, linewidth=2.5, label=f"{label} (mean of {len(runs)})")
    ax.set_xlabel("testee calls")
    ax.set_ylabel("cumulative errors (questions answered wrongly)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def write_report(report: StudyReport, out_dir: Path) -> dict[str, Path]:
    """Write ``curve.png``, ``report.md`` and ``report.json`` into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    curves = {m.method: [[(c[1], c[2]) for c in m.curve]] for m in report.methods}
    png = plot_curves(curves, out_dir / "curve.png",
                      title=f"{report.study}: testee {report.config.get('testee', '?')}, "
                            f"budget {report.config.get('budget', '?')} calls")
    lines = [f"# SEA study {report.study}", "",
             f"Testee `{report.config.get('testee')}` (answers: {report.config.get('answer', 'box')}), "
             f"generator `{report.config.get('generator')}`, "
             f"embedder `{report.config.get('embedder')}`, knowledge base `{report.config.get('kb')}`, "
             f"seed {report.config.get('seed')}.", "", "![cumulative errors](curve.png)", "",
             "| method | calls | tokens | steps | paragraphs | questions | errors | errors / 1k calls "
             "| calls / error | tokens / error | source errors | s / step |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in report.methods:
        lines.append(f"| {m.method} | {m.calls} | {m.tokens} | {m.steps} | {m.paragraphs} | {m.questions} "
                     f"| {m.errors} | {m.errors_per_1k:.1f} | {_fmt(m.calls_per_error, 2)} "
                     f"| {_fmt(m.tokens_per_error, 0)} | {m.source_errors} | {m.seconds_per_step:.1f} |")
    lines += ["", "## Error clusters", ""]
    for i, c in enumerate(report.clusters, start=1):
        methods = ", ".join(f"{k}: {v}" for k, v in sorted(c.by_method.items()))
        lines += [f"### {i}. {', '.join(c.top_terms)} ({c.size} errors; {methods})", ""]
        for ex in c.examples:
            options = "; ".join(f"{LETTERS[j]}. {o}" for j, o in enumerate(ex["options"]))
            lines.append(f"- {ex['question']} ({options}; right: {ex['answer']}; replies: "
                         f"{' / '.join(repr(r) for r in ex['replies'])})")
        lines.append("")
    md = out_dir / "report.md"
    md.write_text("\n".join(lines))
    js = out_dir / "report.json"
    js.write_text(json.dumps(report.to_json(), indent=2, default=str))
    return {"png": png, "markdown": md, "json": js}
