"""Evaluation: suites, the runner, the result store and summaries.

Two imports run a suite from a script::

    from steadyhand.evals import RunConfig, run_suite
    result = run_suite(RunConfig(suite="sql-mini", agent="sql", model="local:smollm2", limit=5))
"""

from steadyhand.evals.runner import EpisodeResult, RunConfig, RunResult, run_suite
from steadyhand.evals.store import ResultStore, default_url
from steadyhand.evals.suites import resolve_suite
from steadyhand.evals.summary import RunSummary, summarize_run

__all__ = ["EpisodeResult", "ResultStore", "RunConfig", "RunResult", "RunSummary", "default_url",
           "resolve_suite", "run_suite", "summarize_run"]
