"""Run a suite: every task, one episode each, stored step by step and resumable.

The runner is the Python API behind ``steadyhand eval``::

    from steadyhand.evals import RunConfig, run_suite
    summary = run_suite(RunConfig(suite="sql-mini", agent="sql", model="local:smollm2"))

Episodes run in this process (``concurrency=1``) or in a pool of worker processes.
Each worker builds its own environment, model and agent once and writes its
episodes straight to the store, so a killed runner loses at most the episodes
in flight; ``resume`` reruns exactly those (see :mod:`steadyhand.evals.store`).

Failures are sorted by whose they are: an :class:`~steadyhand.core.errors.InfrastructureFault`
(a dead sandbox or desktop, a model server that times out or refuses) or a dead worker
process is infrastructure: each one is recorded on the episode (``infra_faults`` in
:meth:`~steadyhand.evals.store.ResultStore.episodes`), the episode is rerun up to
``max_infra_retries`` times, and if the retries are spent it is stored as
``infra_error``, left out of the scores and rerun on resume. Anything else an agent
does wrong ends its own episode as ``error`` and the run goes on.

Ctrl-C (SIGINT) stops a run: the episodes in flight are left unfinished (rerun on
resume) and the run is marked ``interrupted``. Python raises the KeyboardInterrupt
wherever the main thread is, and some places swallow it (sqlite3 clears an exception
raised in an authorizer or progress handler and just fails the query; one raised in
``__del__`` or a weakref callback is only printed), so while a run is in progress SIGINT
is also recorded (:func:`_interrupts_recorded`) and the runner checks that record at
every step, before it stores an episode's end and between episodes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.util
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from types import FrameType
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from steadyhand.agents.base import Agent, AgentOutcome, EpisodeContext, StepRecord
from steadyhand.core.environment import Environment
from steadyhand.core.errors import ConfigurationError, InfrastructureFault
from steadyhand.core.registry import agents, environments
from steadyhand.core.score import Score
from steadyhand.core.task import Suite, Task
from steadyhand.evals.store import ResultStore, default_url
from steadyhand.evals.suites import resolve_suite
from steadyhand.memory.checkpoints import open_checkpointer


@dataclass
class RunConfig:
    """Everything that defines a run; stored with it so ``resume`` needs only the id.

    Attributes:
        suite: registered suite name.
        agent: registered agent name (the suite's default when None).
        model: model spec (see :func:`steadyhand.models.load`).
        agent_options: keyword arguments for the agent factory.
        environment_options: keyword arguments for the environment, over the suite's.
        limit: run only the first N tasks.
        task_ids: run only these tasks (after ``limit``).
        concurrency: worker processes; 1 runs in this process.
        max_infra_retries: reruns of an episode after an infrastructure fault.
        seed: passed to ``Environment.reset``.
        redact: what is redacted before a step is stored (:func:`steadyhand.safety.redactor`):
            ``text`` (default: e-mails, phone and card numbers, keys, passwords), ``all`` (and
            screenshots blurred), ``off``.
        redact_inputs: also redact the text of every model input
            (:func:`steadyhand.safety.privacy.redact_model_inputs`); images are sent as they are.
        executor: ``local`` (this process or a process pool) or ``ray`` (Ray actors,
            see :mod:`steadyhand.evals.executors`; ``concurrency`` episodes in flight).
        ray_address: the Ray cluster to join (``HOST:PORT``); None starts a local one.
    """

    suite: str
    model: str
    agent: str | None = None
    agent_options: dict[str, Any] = field(default_factory=dict)
    environment_options: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    task_ids: list[str] | None = None
    concurrency: int = 1
    max_infra_retries: int = 1
    seed: int | None = None
    redact: str = "text"
    redact_inputs: bool = False
    executor: str = "local"
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if self.executor not in ("local", "ray"):
            raise ConfigurationError(f"unknown executor {self.executor!r}: use local or ray")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class EpisodeResult:
    """What a worker reports to the runner after one attempt."""

    task_id: str
    status: str  # done | error | infra_error
    score: float | None
    error: str | None = None
    duration_s: float = 0.0
    stored: bool = True  # False when the worker died before it could store the attempt's end


def select_tasks(suite: Suite, config: RunConfig) -> list[Task]:
    tasks = list(suite.load())
    if config.task_ids:
        wanted = set(config.task_ids)
        unknown = wanted - {t.id for t in tasks}
        if unknown:
            raise ConfigurationError(f"suite {suite.name} has no task(s): {', '.join(sorted(unknown))}")
        tasks = [t for t in tasks if t.id in wanted]
    if config.limit is not None:
        tasks = tasks[: config.limit]
    return tasks


# --- Ctrl-C ----------------------------------------------------------------------------

_INTERRUPTED = threading.Event()  # set by _on_sigint; survives a KeyboardInterrupt that something swallowed


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _INTERRUPTED.set()
    raise KeyboardInterrupt


def _raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if SIGINT arrived, even when the KeyboardInterrupt it raised got lost."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


def _record_sigint() -> bool:
    """Route SIGINT through :func:`_on_sigint`; False (nothing done) off the main thread or
    when SIGINT has a handler other than Python's default (ignored, or the application's own)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return False
    signal.signal(signal.SIGINT, _on_sigint)
    return True


@contextlib.contextmanager
def _interrupts_recorded() -> Iterator[None]:
    """While the block runs, SIGINT is recorded before it is raised as KeyboardInterrupt."""
    _INTERRUPTED.clear()  # before the handler is installed, so a Ctrl-C right after it is kept
    if not _record_sigint():
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _INTERRUPTED.clear()


class EpisodeWorker:
    """Runs episodes one after another with one environment, model and agent.

    One per process; build it inside the process that uses it.
    """

    def __init__(self, config: RunConfig, store_url: str, run_id: str) -> None:
        from steadyhand.models import load

        self.config = config
        self.run_id = run_id
        self.store = ResultStore(store_url)
        suite = resolve_suite(config.suite)
        self.suite = suite
        env_options = {**suite.environment_options, **config.environment_options}
        self._make_env: Callable[[], Environment] = lambda: environments.get(suite.environment)(**env_options)  # type: ignore[assignment,return-value]
        self.env: Environment | None = None
        self.model = load(config.model)
        if config.redact_inputs:
            from steadyhand.safety.privacy import redact_model_inputs

            self.model = redact_model_inputs(self.model)
        self.agent: Agent = agents.get(config.agent or suite.default_agent or "")(**config.agent_options)  # type: ignore[assignment]
        self._checkpointer_cm = open_checkpointer(store_url)
        self.checkpointer = self._checkpointer_cm.__enter__()

    def close(self) -> None:
        self._discard_env()
        self._checkpointer_cm.__exit__(None, None, None)
        self.store.close()

    def run_episode(self, task: Task) -> EpisodeResult:
        from steadyhand.models import usage

        episode_id, attempt = self.store.start_episode(self.run_id, task.id)
        started = time.perf_counter()
        try:
            tracker = usage(self.model)
            mark = tracker.mark()
        except LookupError:
            tracker, mark = None, 0
        steps = 0
        from steadyhand.safety.privacy import redactor

        redact = redactor(self.config.redact)

        def record(step: StepRecord) -> None:
            nonlocal steps
            _raise_if_interrupted()  # a Ctrl-C that was swallowed mid-step: stop at the next one
            steps += 1
            self.store.add_step(episode_id, redact(step))

        outcome: AgentOutcome | None = None
        score: Score | None = None
        status, error = "done", None
        try:
            if self.env is None:
                self.env = self._make_env()
            first = self.env.reset(task, seed=self.config.seed)
            ctx = EpisodeContext(task=task, env=self.env, model=self.model, checkpointer=self.checkpointer,
                                 thread_id=f"{self.run_id}/{task.id}/{attempt}", record_step=record,
                                 options=self.config.agent_options, store_url=self.store.url, scored=True)
            try:
                outcome = self.agent.run(ctx, first)
            except InfrastructureFault:
                raise
            except Exception as exc:  # the agent broke: its episode ends, the run goes on
                outcome = AgentOutcome(status="error", steps=steps, error=f"{type(exc).__name__}: {exc}")
            score = self.env.evaluate()
            for callback in ctx.after_scoring:
                callback(score)
            if outcome.status == "error":
                error = outcome.error
        except InfrastructureFault as exc:
            status, error = "infra_error", f"{type(exc).__name__}: {exc}"
            self._discard_env()
        except Exception as exc:
            status, error = "error", "".join(traceback.format_exception_only(exc)).strip()
            self._discard_env()
        # A Ctrl-C during the episode may have been swallowed after it broke something (a query
        # failed, a step was cut short): leave the episode unfinished, to be rerun on resume.
        _raise_if_interrupted()
        duration = time.perf_counter() - started
        tokens_in, tokens_out, latency = tracker.since(mark) if tracker else (0, 0, 0.0)
        self.store.finish_episode(
            episode_id, status=status, score=score, outcome=outcome.status if outcome else None, error=error,
            steps=steps, input_tokens=tokens_in, output_tokens=tokens_out, model_latency_s=latency,
            duration_s=duration)
        return EpisodeResult(task.id, status, score.value if score else None, error, duration)

    def _discard_env(self) -> None:
        if self.env is not None:
            with contextlib.suppress(Exception):  # it is being thrown away
                self.env.close()
        self.env = None


# --- process pool plumbing -------------------------------------------------------------

_WORKER: EpisodeWorker | None = None


def _init_worker(config: dict[str, Any], store_url: str, run_id: str) -> None:
    global _WORKER
    # In-process models would each use every core: share the cores out instead.
    os.environ.setdefault("STEADYHAND_TORCH_THREADS",
                          str(max(1, (os.cpu_count() or 1) // max(1, int(config.get("concurrency", 1))))))
    _record_sigint()  # Ctrl-C reaches the workers too: record it as the runner does
    _WORKER = EpisodeWorker(RunConfig.from_dict(config), store_url, run_id)
    # Pool workers end through multiprocessing's exit path, which skips atexit handlers
    # but runs these: close sandboxes, desktops and connections in an orderly way.
    multiprocessing.util.Finalize(None, _WORKER.close, exitpriority=10)


def _run_in_worker(task_json: str) -> EpisodeResult:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.run_episode(Task.model_validate_json(task_json))


@dataclass
class RunResult:
    """What :func:`run_suite` returns: the run id and its per-episode outcomes."""

    run_id: str
    store_url: str
    results: list[EpisodeResult]
    interrupted: bool = False


@_interrupts_recorded()
def run_suite(config: RunConfig, *, store_url: str | None = None, resume: str | None = None,
              progress: bool = True) -> RunResult:
    """Run (or resume) a suite and return its results.

    Args:
        config: what to run. Ignored when resuming: the stored configuration is used,
            except ``concurrency``, ``executor`` and ``ray_address``, which may change
            between attempts.
        store_url: SQLAlchemy URL of the result store (default: :func:`default_url`).
        resume: a run id; its finished episodes are kept and the rest rerun.
        progress: show a progress bar on the terminal.

    Raises:
        ConfigurationError: unknown suite/agent/model, or an unknown run id.
        KeyboardInterrupt: after marking the run ``interrupted`` (it can be resumed).
    """
    store_url = store_url or default_url()
    store = ResultStore(store_url)
    try:
        if resume:
            run = store.get_run(resume)
            run_id = run.id
            stored = RunConfig.from_dict(run.config)
            stored.concurrency = config.concurrency
            stored.executor, stored.ray_address = config.executor, config.ray_address
            config = stored
            suite = resolve_suite(config.suite)
            pending = set(store.pending_tasks(run_id))
            tasks = [t for t in select_tasks(suite, config) if t.id in pending]
            store.set_run_status(run_id, "running")
        else:
            suite = resolve_suite(config.suite)
            config.agent = config.agent or suite.default_agent
            if not config.agent:
                raise ConfigurationError(f"suite {suite.name} has no default agent: pass one")
            agents.get(config.agent)  # fail before creating the run
            tasks = select_tasks(suite, config)
            run_id = store.create_run(suite=suite.name, agent=config.agent, model=config.model,
                                      config=asdict(config), task_ids=[t.id for t in tasks],
                                      difficulties=[t.difficulty for t in tasks],
                                      groups=[suite.group_of(t) for t in tasks])
        results, interrupted = _execute(config, store_url, run_id, tasks, progress)
        store.set_run_status(run_id, "interrupted" if interrupted else "finished")
        if interrupted:
            raise KeyboardInterrupt(run_id)
        return RunResult(run_id, store_url, results)
    finally:
        store.close()


def _progress_bar(enabled: bool, total: int) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("ok {task.fields[ok]}  err {task.fields[err]}"), TimeElapsedColumn(),
                    disable=not enabled, transient=False)


def _execute(config: RunConfig, store_url: str, run_id: str, tasks: list[Task],
             progress: bool) -> tuple[list[EpisodeResult], bool]:
    results: list[EpisodeResult] = []
    retries: dict[str, int] = {}
    ok = err = 0
    store = ResultStore(store_url)
    with _progress_bar(progress, len(tasks)) as bar, contextlib.closing(store):
        bar_task = bar.add_task(f"{config.suite} · {config.agent}", total=len(tasks), ok=0, err=0)

        def account(task: Task, result: EpisodeResult) -> bool:
            """Record a result; True when the task must be queued again."""
            nonlocal ok, err
            _raise_if_interrupted()
            if not result.stored:
                store.record_infra_fault(run_id, task.id, result.error or "worker died")
            if result.status == "infra_error" and retries.get(task.id, 0) < config.max_infra_retries:
                retries[task.id] = retries.get(task.id, 0) + 1
                return True
            results.append(result)
            ok += result.status == "done"
            err += result.status != "done"
            bar.update(bar_task, advance=1, ok=ok, err=err)
            return False

        try:
            _raise_if_interrupted()  # Ctrl-C while the run was being set up
            if config.executor == "ray":
                from steadyhand.evals.executors import execute_ray

                execute_ray(config, store_url, run_id, tasks, account)
            elif config.concurrency <= 1:
                worker = EpisodeWorker(config, store_url, run_id)
                try:
                    queue = list(tasks)
                    while queue:
                        task = queue.pop(0)
                        if account(task, worker.run_episode(task)):
                            queue.append(task)
                finally:
                    worker.close()
            else:
                _execute_pool(config, store_url, run_id, tasks, account)
        except KeyboardInterrupt:
            return results, True
    return results, False


def _execute_pool(config: RunConfig, store_url: str, run_id: str, tasks: list[Task],
                  account: Callable[[Task, EpisodeResult], bool]) -> None:
    context = multiprocessing.get_context("spawn")  # no inherited model or database handles
    with open_checkpointer(store_url):  # create the checkpoint file once, before the workers race to
        pass
    queue = list(tasks)
    while queue:  # a worker that dies breaks its whole pool: the next round starts a fresh one
        _pool_round(config, store_url, run_id, queue, account, context)


def _pool_round(config: RunConfig, store_url: str, run_id: str, queue: list[Task],
                account: Callable[[Task, EpisodeResult], bool], context: Any) -> None:
    """Run ``queue`` (consumed; retried tasks re-enter it) until it is empty or the pool breaks."""
    with ProcessPoolExecutor(max_workers=config.concurrency, mp_context=context, initializer=_init_worker,
                             initargs=(asdict(config), store_url, run_id)) as pool:
        in_flight: dict[Future[EpisodeResult], Task] = {}
        broken = False
        try:
            while (queue and not broken) or in_flight:
                while queue and not broken and len(in_flight) < config.concurrency * 2:
                    task = queue.pop(0)
                    in_flight[pool.submit(_run_in_worker, task.model_dump_json())] = task
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    task = in_flight.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool as exc:  # a worker died (OOM, segfault, kill): infrastructure
                        broken = True
                        result = EpisodeResult(task.id, "infra_error", None, f"worker died: {exc}", stored=False)
                    except Exception as exc:  # run_episode itself raised (a bug): the episode stays pending
                        result = EpisodeResult(task.id, "error", None, f"{type(exc).__name__}: {exc}")
                    if account(task, result):
                        queue.append(task)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
