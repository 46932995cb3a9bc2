"""The ``steadyhand`` command: a thin typer layer over the Python API.

Everything here is two imports away in a script: :mod:`steadyhand.evals` runs and
reads suites, :mod:`steadyhand.models` builds models.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from steadyhand.cli_options import add_grounding, err_console, fail, parse_options
from steadyhand.core.errors import SteadyhandError

app = typer.Typer(name="steadyhand", no_args_is_help=True, add_completion=False,
                  help="Build, run and score trustworthy computer-use agents.")
console = Console()

DbOption = Annotated[str | None, typer.Option("--db", help="Result store URL (SQLAlchemy). "
                                              "Default: $STEADYHAND_DB or ~/.local/share/steadyhand/results.db")]


def _fmt_time(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def print_summary(store: Any, run_id: str) -> None:
    """Print a run's metrics table (overall and by difficulty)."""
    from steadyhand.evals import summarize_run

    summary = summarize_run(store, run_id)
    r = summary.run
    table = Table(title=f"{r['suite']} · agent {r['agent']} · model {r['model']} · run {r['id']} ({r['status']})")
    table.add_column(summary.group_by, no_wrap=True)
    infra = summary.overall.infra_faults > 0  # a column only when infrastructure failed at all
    for column in ("tasks", "score", *(c.replace("_", " ") for c in summary.columns), "errors",
                   *(["infra faults (open)"] if infra else []), "tokens in", "tokens out", "time"):
        table.add_column(column, justify="right")
    groups = [*summary.groups, summary.overall]
    for i, g in enumerate(groups):
        extra = [f"{g.components[c]:.3g}" if c in g.components else "-" for c in summary.columns]
        table.add_row(g.name, f"{g.finished}/{g.episodes}", f"{100 * g.score:.1f}%", *extra, str(g.errors),
                      *([f"{g.infra_faults} ({g.infra_errors})"] if infra else []),
                      str(g.input_tokens), str(g.output_tokens), _fmt_time(g.duration_s),
                      end_section=i == len(groups) - 2)
    console.print(table)


@app.command("eval")
def eval_command(
    suite: Annotated[str | None, typer.Argument(help="Suite name (see `steadyhand suites`).")] = None,
    agent: Annotated[str | None, typer.Option(help="Agent name; default: the suite's.")] = None,
    model: Annotated[str, typer.Option(help="Model spec: openai:M@URL, local:smollm2, hf:PATH, "
                                       "scripted:FILE, vllm:M.")] = "local:smollm2",
    limit: Annotated[int | None, typer.Option(help="Run only the first N tasks.")] = None,
    task: Annotated[list[str] | None, typer.Option("--task", help="Run only this task (repeatable).")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Worker processes (Ray: episodes in flight).")] = 1,
    executor: Annotated[str, typer.Option(help="Where episodes run: local (processes here) or ray.")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster HOST:PORT for --executor ray; "
                                                    "default: start a local one.")] = None,
    db: DbOption = None,
    resume: Annotated[str | None, typer.Option(help="Resume this run id: finished episodes are kept.")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="Agent option KEY=VALUE.")] = None,
    env_option: Annotated[list[str] | None, typer.Option("--env-option", "-e",
                                                         help="Environment option KEY=VALUE.")] = None,
    grounding: Annotated[list[str] | None, typer.Option(
        "--grounding", help="Grounding expert NAME=SPEC for agents that ground (repeatable), "
                            "e.g. textual=tesseract, visual=openai:ui-tars@http://127.0.0.1:8000/v1.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed passed to the environment.")] = None,
    approve: Annotated[str | None, typer.Option(help="How guarded agents settle actions the safety policy wants "
                                                "confirmed: ask, deny or allow (agent option approve).")] = None,
    infra_retries: Annotated[int, typer.Option(min=0, help="Reruns of an episode after an infrastructure fault "
                                               "(dead sandbox or desktop, model server timeout).")] = 1,
    redact_inputs: Annotated[bool, typer.Option(help="Redact e-mails, phone and card numbers, keys and passwords "
                                                "in the text the model sees, not only in stored steps.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Run every task of a suite with an agent and a model; store and summarise the results."""
    from steadyhand.evals import ResultStore, RunConfig, default_url, run_suite

    if not suite and not resume:
        fail(SteadyhandError("give a suite name, or --resume RUN_ID"))
    agent_options = parse_options(option, "--option")
    if approve is not None:
        if approve not in ("ask", "deny", "allow"):
            fail(SteadyhandError(f"--approve must be ask, deny or allow, not {approve!r}"))
        agent_options["approve"] = approve
    agent_options = add_grounding(agent_options, grounding)
    url = db or default_url()
    try:
        config = RunConfig(suite=suite or "", agent=agent, model=model, limit=limit, task_ids=task,
                           concurrency=concurrency, agent_options=agent_options,
                           environment_options=parse_options(env_option, "--env-option"), seed=seed,
                           executor=executor, ray_address=ray_address,
                           redact_inputs=redact_inputs, max_infra_retries=infra_retries)
        result = run_suite(config, store_url=url, resume=resume, progress=not quiet and sys.stderr.isatty())
    except KeyboardInterrupt as exc:
        run_id = exc.args[0] if exc.args else "RUN_ID"
        err_console.print(f"[yellow]interrupted[/]: resume with `steadyhand eval --resume {run_id}"
                          f"{' --db ' + url if db else ''}`")
        raise typer.Exit(130) from None
    except SteadyhandError as exc:
        fail(exc)
        return
    store = ResultStore(url)
    try:
        print_summary(store, result.run_id)
    finally:
        store.close()
    console.print(f"run [bold]{result.run_id}[/] stored in {url}")


@app.command("runs")
def runs_command(db: DbOption = None,
                 limit: Annotated[int, typer.Option(help="Show at most N runs.")] = 30) -> None:
    """List recent runs, newest first."""
    from steadyhand.evals import ResultStore

    try:
        store = ResultStore(db)
    except SteadyhandError as exc:
        fail(exc)
        return
    table = Table(title=f"runs in {store.url}")
    for column in ("run", "suite", "agent", "model", "status", "done", "errors", "mean score", "created"):
        table.add_column(column, no_wrap=column in ("run", "suite"))
    for r in store.list_runs(limit):
        table.add_row(r["id"], r["suite"], r["agent"], r["model"], r["status"], f"{r['done']}/{r['total']}",
                      str(r["errors"]) + (f" +{r['infra_errors']} infra" if r["infra_errors"] else ""),
                      f"{r['mean_score']:.3f}" if r["mean_score"] is not None else "-",
                      f"{r['created_at']:%Y-%m-%d %H:%M}")
    console.print(table)
    store.close()


@app.command("show")
def show_command(run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
                 db: DbOption = None,
                 task: Annotated[str | None, typer.Option(help="Print this episode's steps.")] = None) -> None:
    """Print one run: its metrics and every episode (or one episode's steps)."""
    from steadyhand.evals import ResultStore

    try:
        store = ResultStore(db)
        run = store.get_run(run_id)
    except SteadyhandError as exc:
        fail(exc)
        return
    episodes = store.episodes(run.id)
    if task:
        matches = [e for e in episodes if e["task_id"] == task]
        if not matches:
            fail(SteadyhandError(f"run {run.id} has no task {task!r}"))
        ep = matches[0]
        console.print(f"[bold]{ep['task_id']}[/] {ep['status']} score={ep['scores'].get('score', '-')}"
                      f" attempt={ep['attempt']}" + (f" error={ep['error']}" if ep["error"] else ""))
        for step in store.steps(ep["id"]):
            console.rule(f"step {step.index}")
            console.print("[dim]rationale:[/]", step.rationale.strip()[:1000])
            console.print("[dim]action:[/]", step.action)
            console.print("[dim]observation:[/]", step.observation)
        store.close()
        return
    print_summary(store, run.id)
    table = Table(title="episodes")
    for column in ("task", "group", "status", "score", "partial", "steps", "tokens", "time", "error"):
        table.add_column(column, no_wrap=column == "task")
    for e in episodes:
        s = e["scores"]
        table.add_row(e["task_id"], e["group"], e["status"],
                      f"{s['score']:.2f}" if "score" in s else "-",
                      f"{s['partial_reward']:.2f}" if "partial_reward" in s else "-", str(e["steps"]),
                      str(e["input_tokens"] + e["output_tokens"]), _fmt_time(e["duration_s"]),
                      (e["error"] or "")[:60])
    console.print(table)
    store.close()


OutOption = Annotated[str, typer.Option("--out", help="Folder to write the HTML report into (created).")]


@app.command("report")
def report_command(run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
                   out: OutOption, db: DbOption = None) -> None:
    """Write a static HTML report of one run: metrics, and every episode's trajectory."""
    from steadyhand.evals import ResultStore
    from steadyhand.evals.report import write_report

    try:
        store = ResultStore(db)
        try:
            index = write_report(store, run_id, out)
        finally:
            store.close()
    except SteadyhandError as exc:
        fail(exc)
        return
    console.print(f"report written: {index.resolve().as_uri()}")


@app.command("compare")
def compare_command(run_ids: Annotated[list[str], typer.Argument(help="Run ids to compare.")],
                    out: OutOption, db: DbOption = None) -> None:
    """Write a static HTML comparison of several runs (tables and plots), with each run's report."""
    from steadyhand.evals import ResultStore
    from steadyhand.evals.report import write_comparison

    try:
        store = ResultStore(db)
        try:
            index = write_comparison(store, run_ids, out)
        finally:
            store.close()
    except SteadyhandError as exc:
        fail(exc)
        return
    console.print(f"comparison written: {index.resolve().as_uri()}")


@app.command("suites")
def suites_command() -> None:
    """List the suites installed here, with task counts and requirements."""
    from steadyhand.core.registry import suites
    from steadyhand.evals import resolve_suite

    table = Table(title="suites")
    for column in ("suite", "tasks", "environment", "default agent", "requires", "description"):
        table.add_column(column)
    for name in suites.names():
        try:
            suite = resolve_suite(name)
            count = str(len(suite.load()))
        except SteadyhandError as exc:
            table.add_row(name, "?", "", "", "", f"[red]{exc}[/]")
            continue
        table.add_row(name, count, suite.environment, suite.default_agent or "-",
                      ", ".join(suite.requirements) or "-", suite.description)
    console.print(table)


def _mount_sub_apps() -> None:
    """Mount the sub-commands whose packages need optional extras, when installed."""
    from importlib.util import find_spec

    from steadyhand.safety.cli import safety_app

    app.add_typer(safety_app, name="safety", help="Safety suite: attack success and guards, measured.")
    if find_spec("docker") is not None:
        from steadyhand.sandboxes.cli import images_app, sandbox_app

        app.add_typer(sandbox_app, name="sandbox", help="Sandboxes: clean up leftovers.")
        app.add_typer(images_app, name="images", help="Build the offline Docker images.")
    if find_spec("openpyxl") is not None and find_spec("rapidfuzz") is not None:
        from steadyhand.environments.desktop.osworld.cli import osworld_app

        app.add_typer(osworld_app, name="osworld", help="OSWorld task files: check what runs here.")
    if find_spec("networkx") is not None and find_spec("numpy") is not None:
        from steadyhand.evals.sea.cli import sea_app

        app.add_typer(sea_app, name="sea", help="SEA: search a model's knowledge gaps under a budget.")


_mount_sub_apps()

if __name__ == "__main__":
    app()
