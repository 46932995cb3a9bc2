"""``steadyhand sea``: run a SEA study against its random baseline, and report on it.

Mounted by the main CLI as ``app.add_typer(sea_app, name="sea")``; runnable alone
with ``python -m steadyhand.evals.sea.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from steadyhand.core.errors import ConfigurationError, SteadyhandError

__all__ = ["sea_app"]

sea_app = typer.Typer(help="SEA: find where a model's knowledge fails, against random sampling at equal budget.",
                      no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
DbOption = Annotated[str | None, typer.Option(help="Result store URL (default: $STEADYHAND_DB or the local file).")]


def _fail(exc: Exception) -> None:
    err_console.print(f"[red]error[/]: {exc}")
    raise typer.Exit(2)


@sea_app.command("run")
def run_command(
    kb: Annotated[str, typer.Option(help="Knowledge base: JSONL path, 'debian', 'python', 'debian:N' or "
                                         "'python:N'.")] = "debian",
    testee: Annotated[str, typer.Option(help="Model spec of the model under test.")] = "local:smollm2",
    generator: Annotated[str, typer.Option(help="'cloze' (deterministic) or a model spec.")] = "cloze",
    budget: Annotated[int, typer.Option(min=1, help="Testee calls per method.")] = 1000,
    token_budget: Annotated[int | None, typer.Option(min=1, help="Also stop at this many testee tokens.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Paragraphs per step.")] = 40,
    top_k_pages: Annotated[int, typer.Option(min=1, help="Pages retrieved per source error.")] = 50,
    paragraphs_per_source: Annotated[int, typer.Option(min=1)] = 10,
    questions: Annotated[int, typer.Option(min=1, help="Questions per paragraph.")] = 2,
    rephrasings: Annotated[int, typer.Option(min=0, max=3, help="Extra forms per question.")] = 2,
    xi: Annotated[float, typer.Option(help="Error rate above which a paragraph is a source error.")] = 0.5,
    gamma: Annotated[float, typer.Option(help="Cumulative accuracy above which a source is pruned.")] = 0.5,
    max_sources: Annotated[int | None, typer.Option(min=1, help="Expand at most N sources per step.")] = None,
    selection: Annotated[str, typer.Option(help="How a step draws its batch from the candidates: 'uniform' (the "
                                                "paper), 'nearest' (to their source) or 'predicted' (by the error "
                                                "rate of the nearest tested paragraphs).")] = "uniform",
    carry_candidates: Annotated[bool, typer.Option(help="Keep undrawn candidates for later steps (the paper drops "
                                                        "them).")] = False,
    retrieval: Annotated[str, typer.Option(help="How a source finds candidates: 'pages' (its nearest pages' most "
                                                "similar paragraphs, the paper) or 'paragraphs' (every paragraph "
                                                "at least --min-similarity from it).")] = "pages",
    min_similarity: Annotated[float, typer.Option(help="Cosine similarity from which paragraphs are near-duplicates "
                                                       "(--retrieval paragraphs, --fill dense).")] = 0.85,
    fill: Annotated[str, typer.Option(help="How SEA draws when it has too few candidates, first step included: "
                                           "'uniform' (the paper) or 'dense' (weighted by untested "
                                           "near-duplicates, away from tested paragraphs).")] = "uniform",
    seed: Annotated[int, typer.Option(help="Seed of the sampling.")] = 0,
    embedder: Annotated[str, typer.Option(help="'minilm' or 'hashing[:DIM]'.")] = "minilm",
    answer: Annotated[str, typer.Option(help="How the testee answers: 'box' (writes \\box{X}) or 'likelihood' "
                                             "(in-process models: the most likely option).")] = "box",
    baseline: Annotated[bool, typer.Option(help="Also run the random baseline.")] = True,
    resume: Annotated[str | None, typer.Option(help="Resume this study id (same settings).")] = None,
    db: DbOption = None,
    report_dir: Annotated[Path | None, typer.Option(help="Write the report here when done.")] = None,
) -> None:
    """Run SEA (and the random baseline) until each has spent the budget; prints the study id."""
    from steadyhand.evals.sea.search import SearchConfig
    from steadyhand.evals.sea.store import SeaStore
    from steadyhand.evals.sea.study import StudySpec, open_context, run_study

    try:
        spec = StudySpec(kb=kb, testee=testee, generator=generator, embedder=embedder, rephrasings=rephrasings,
                         answer=answer)
        config = SearchConfig(budget=budget, token_budget=token_budget, batch_size=batch_size,
                              top_k_pages=top_k_pages, paragraphs_per_source=paragraphs_per_source,
                              questions_per_paragraph=questions, xi=xi, gamma=gamma, max_sources=max_sources,
                              selection=selection, carry_candidates=carry_candidates, retrieval=retrieval,
                              min_similarity=min_similarity, fill=fill, seed=seed)
        store = SeaStore(db)
    except (SteadyhandError, ValueError) as exc:
        _fail(exc)
        return
    study = resume or store.new_study_id()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("calls  {task.fields[errors]} errors"), TimeElapsedColumn(),
                        console=err_console, disable=not sys.stderr.isatty())
    tasks: dict[str, TaskID] = {}

    def on_progress(run_id: str, calls: int, total: int, errors: int) -> None:
        if run_id not in tasks:
            tasks[run_id] = progress.add_task(run_id.rpartition(":")[2], total=total, errors=0)
        progress.update(tasks[run_id], completed=calls, errors=errors)

    def on_vectors(done: int, total: int) -> None:
        if "vectors" not in tasks:
            tasks["vectors"] = progress.add_task("page vectors", total=total, errors="-")
        progress.update(tasks["vectors"], completed=done)

    try:
        with progress:
            ctx = open_context(spec, config, store, on_vectors=on_vectors)
            result = run_study(spec, config, study=study, methods=("sea", "random") if baseline else ("sea",),
                               progress=on_progress, context=ctx)
    except KeyboardInterrupt:
        err_console.print(f"[yellow]interrupted[/]: resume with `steadyhand sea run --resume {study}` "
                          "and the same options")
        raise typer.Exit(130) from None
    except SteadyhandError as exc:
        _fail(exc)
        return
    table = Table(title=f"SEA study {result.study}")
    for column in ("method", "calls", "tokens", "steps", "errors", "errors / 1k calls", "s / step"):
        table.add_column(column)
    for summary in result.runs.values():
        table.add_row(summary.method, str(summary.calls), str(summary.tokens), str(summary.steps),
                      str(summary.errors), f"{summary.errors_per_1k:.1f}", f"{summary.seconds_per_step:.1f}")
    console.print(table)
    if report_dir is not None:
        _report(store, result.study, report_dir, embedder)
    console.print(f"study [bold]{result.study}[/]; report: `steadyhand sea report {result.study}`")
    store.close()


def _report(store: object, study: str, out: Path, embedder: str | None) -> None:
    from steadyhand.evals.sea.embed import make_embedder
    from steadyhand.evals.sea.report import build_report, write_report
    from steadyhand.evals.sea.store import SeaStore

    assert isinstance(store, SeaStore)
    report = build_report(store, study, embedder=make_embedder(embedder) if embedder else None)
    paths = write_report(report, out)
    table = Table(title=f"SEA study {report.study}: testee {report.config.get('testee')} "
                        f"(answers: {report.config.get('answer', 'box')})")
    for column in ("method", "calls", "tokens", "steps", "errors", "errors / 1k calls", "calls / error",
                   "tokens / error", "s / step"):
        table.add_column(column)
    for m in report.methods:
        table.add_row(m.method, str(m.calls), str(m.tokens), str(m.steps), str(m.errors), f"{m.errors_per_1k:.1f}",
                      f"{m.calls_per_error:.2f}" if m.calls_per_error else "-",
                      f"{m.tokens_per_error:.0f}" if m.tokens_per_error else "-", f"{m.seconds_per_step:.1f}")
    console.print(table)
    clusters = Table(title="error clusters")
    for column in ("#", "errors", "top terms", "by method", "example"):
        clusters.add_column(column)
    for i, c in enumerate(report.clusters, start=1):
        clusters.add_row(str(i), str(c.size), ", ".join(c.top_terms),
                         ", ".join(f"{k} {v}" for k, v in sorted(c.by_method.items())),
                         c.examples[0]["question"][:90] if c.examples else "")
    console.print(clusters)
    console.print(f"curve: {paths['png']}\nreport: {paths['markdown']}")


@sea_app.command("build-kb")
def build_kb_command(
    source: Annotated[str, typer.Argument(help="'debian' (package records) or 'python' (standard library docs).")]
    = "debian",
    out: Annotated[Path | None, typer.Option(help="Write the JSONL here (default: the cache; printed).")] = None,
    max_pages: Annotated[int | None, typer.Option(min=1, help="An evenly spaced slice of N pages.")] = None,
) -> None:
    """Build a knowledge base from Debian's package records or Python's docs (cached; deterministic)."""
    from steadyhand.evals.sea.kb import MIN_PAGES, load_kb
    from steadyhand.evals.sea.study import KB_BUILDERS

    try:
        if source not in KB_BUILDERS:
            raise ConfigurationError(f"no knowledge base builder {source!r}: use one of {', '.join(KB_BUILDERS)}")
        path = KB_BUILDERS[source](out, max_pages=max_pages, min_pages=None if max_pages else MIN_PAGES)
        kb = load_kb(path)
    except SteadyhandError as exc:
        _fail(exc)
        return
    console.print(f"{len(kb)} pages, {sum(1 for _ in kb.iter_paragraphs())} paragraphs: {path}")


@sea_app.command("report")
def report_command(
    run_id: Annotated[str, typer.Argument(help="Study id printed by `sea run` (a unique prefix is enough).")],
    out: Annotated[Path | None, typer.Option(help="Folder for curve.png, report.md, report.json.")] = None,
    embedder: Annotated[str | None, typer.Option(help="Embedder for clustering ('minilm', 'hashing'); "
                                                 "default: the study's.")] = None,
    db: DbOption = None,
) -> None:
    """Figures of a study: the cumulative-errors curve, errors per 1,000 calls, cost per error, error clusters."""
    from steadyhand.evals.sea.store import SeaStore

    try:
        store = SeaStore(db)
        runs = store.runs(run_id)
        if embedder is None:
            name = str(runs[0].config.get("embedder", ""))
            embedder = "minilm" if "MiniLM" in name else "hashing"
        _report(store, runs[0].study, out or Path("sea-reports") / runs[0].study, embedder)
    except SteadyhandError as exc:
        _fail(exc)
        return
    store.close()


if __name__ == "__main__":
    sea_app()
