"""The CodeARC arena: :class:`CodeEnvironment`, registered as environment ``code``.

One episode, as in CodeARC: the agent sees 10 initial invocations of a hidden
function and their outputs, then may

* query the function (:class:`~steadyhand.core.actions.QueryFunction`), within
  ``io_budget`` invocations *including* the initial ones (30);
* check an implementation (:class:`~steadyhand.core.actions.CheckCandidate`) against
  the differential-testing oracle, within ``oracle_budget`` checks (2): a pass ends
  the episode solved; a failure shows one counterexample; the last check is final;
* submit a final implementation (:class:`~steadyhand.core.actions.SubmitCandidate`),
  which is judged and ends the episode.

When the invocations are spent only implementations are accepted, and when one
check is left the observation says the next implementation is final. An invalid
action (an invocation that is not a call of the function, more invocations than
are left, code that does not parse or lacks the function) changes nothing and is
reported; after ``max_format_retries`` consecutive invalid actions the episode ends
unsolved.

The hidden function and every candidate run only in sandboxes (one for the hidden
function, one for everything model-written), never on the host.
"""

from __future__ import annotations

import ast
import contextlib
from dataclasses import dataclass, field
from typing import Any, Literal

from steadyhand.core.actions import ActionBase, CheckCandidate, Done, Fail, QueryFunction, SubmitCandidate
from steadyhand.core.errors import ConfigurationError, DatasetError
from steadyhand.core.observation import Observation, StepResult
from steadyhand.core.registry import environments
from steadyhand.core.score import Score
from steadyhand.core.task import Task
from steadyhand.environments.code.execution import Call, CallResult, FunctionRunner
from steadyhand.environments.code.invocations import (
    InvocationError,
    output_text,
    parse_invocation,
    parse_invocations,
    resolve,
)
from steadyhand.environments.code.oracle import Oracle, Verdict, model_proposer
from steadyhand.environments.code.problems import Problem
from steadyhand.sandboxes import Sandbox, open_sandbox


@dataclass
class Episode:
    """The state of the current episode (plain data)."""

    problem: Problem
    known: list[Call]
    example_lines: list[str]
    io_used: int
    oracle_used: int = 0
    invalid_in_a_row: int = 0
    solved: bool = False
    finished: bool = False
    end_reason: str = ""
    final_code: str | None = None
    last_counterexample: dict[str, str] | None = None
    queries: list[dict[str, str]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)


@environments.register("code")
class CodeEnvironment:
    """The CodeARC arena (see the module docstring).

    Args:
        sandbox: sandbox provider (``local``: bubblewrap; ``docker``).
        sandbox_options: keyword arguments for :func:`steadyhand.sandboxes.open_sandbox`.
        io_budget: invocations per episode, the initial examples included.
        oracle_budget: implementation checks per episode, the final judgement included.
        max_format_retries: consecutive invalid actions tolerated; one more ends the episode.
        query_timeout_s: wall-clock limit of each query of the hidden function.
        memory_mb: address-space limit of each sandboxed process.
        seed: default oracle seed (``reset(seed=...)`` overrides it).
        oracle_inputs: inputs the oracle draws from inferred strategies.
        oracle_mutations: mutants of each initial input the oracle adds.
        oracle_call_timeout_s: the longest one oracle call may take.
        oracle_isolation: ``worker`` (fast; assumes results do not depend on earlier
            calls) or ``call`` (fresh state per call); see :class:`Oracle`.
        propose_model: a model spec whose proposed inputs the oracle adds (optional).
        recompute_examples: recompute the initial outputs in the sandbox even when the
            problem gives them (missing ones are always computed).

    Raises:
        ConfigurationError: a budget or limit is out of range.
    """

    def __init__(self, *, sandbox: str = "local", sandbox_options: dict[str, Any] | None = None,
                 io_budget: int = 30, oracle_budget: int = 2, max_format_retries: int = 2,
                 query_timeout_s: float = 5.0, memory_mb: int = 512, seed: int = 0, oracle_inputs: int = 150,
                 oracle_mutations: int = 4, oracle_call_timeout_s: float = 1.0,
                 oracle_isolation: Literal["call", "worker"] = "worker", propose_model: str | None = None,
                 recompute_examples: bool = False) -> None:
        if io_budget < 0 or oracle_budget < 1 or max_format_retries < 0 or query_timeout_s <= 0 or memory_mb < 64:
            raise ConfigurationError(
                "code environment: need io_budget >= 0, oracle_budget >= 1, max_format_retries >= 0, "
                f"query_timeout_s > 0, memory_mb >= 64 (got {io_budget}, {oracle_budget}, {max_format_retries}, "
                f"{query_timeout_s}, {memory_mb})")
        self.sandbox_provider = sandbox
        self.sandbox_options = dict(sandbox_options or {})
        self.io_budget, self.oracle_budget, self.max_format_retries = io_budget, oracle_budget, max_format_retries
        self.query_timeout_s, self.memory_mb, self.seed = query_timeout_s, memory_mb, seed
        self.oracle_options: dict[str, Any] = {"generated": oracle_inputs, "mutations_per_input": oracle_mutations,
                                               "per_call_timeout": oracle_call_timeout_s,
                                               "isolation": oracle_isolation}
        self.propose_model = propose_model
        self.recompute_examples = recompute_examples
        self._sandboxes: dict[str, Sandbox] = {}
        self._oracles: dict[int, Oracle] = {}
        self._seed = seed
        self.episode: Episode | None = None

    # -- plumbing -------------------------------------------------------------------------

    def _runner(self, role: str) -> FunctionRunner:
        if role not in self._sandboxes:
            self._sandboxes[role] = open_sandbox(self.sandbox_provider, **self.sandbox_options)
        return FunctionRunner(self._sandboxes[role], memory_mb=self.memory_mb)

    def oracle(self, seed: int) -> Oracle:
        """The oracle for ``seed`` (its inputs and target results are cached per problem)."""
        if seed not in self._oracles:
            proposer = None
            if self.propose_model:
                from steadyhand.models import load

                proposer = model_proposer(load(self.propose_model))
            self._oracles[seed] = Oracle(self._runner("target"), self._runner("candidate"), seed=seed,
                                         proposer=proposer, **self.oracle_options)
        return self._oracles[seed]

    def _budget(self) -> dict[str, Any]:
        ep = self.episode
        io_used = ep.io_used if ep else 0
        oracle_used = ep.oracle_used if ep else 0
        io_left, oracle_left = max(0, self.io_budget - io_used), max(0, self.oracle_budget - oracle_used)
        return {"io_budget": self.io_budget, "io_used": io_used, "io_left": io_left,
                "oracle_budget": self.oracle_budget, "oracle_used": oracle_used, "oracle_left": oracle_left,
                "final_required": oracle_left == 1 and io_left == 0}

    def budget_text(self) -> str:
        """The budgets left, in words, for observations."""
        b = self._budget()
        text = (f"You have {b['io_left']} invocation{'s' if b['io_left'] != 1 else ''} and "
                f"{b['oracle_left']} implementation check{'s' if b['oracle_left'] != 1 else ''} left.")
        if b["oracle_left"] == 1:
            text += " Your next implementation is final."
        elif b["io_left"] == 0:
            text += " No invocations are left: reply with an implementation."
        return text

    # -- the Environment contract ---------------------------------------------------------------

    def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        """Start an episode on ``task`` (a ``code`` task; see :meth:`Problem.to_task`).

        Raises:
            DatasetError: the task is malformed or its initial invocations do not parse.
            SandboxFault: a sandbox could not be used.
        """
        problem = Problem.from_task(task)
        self._seed = self.seed if seed is None else seed
        target = self._runner("target")
        invocations = []
        for k, example in enumerate(problem.examples, 1):
            try:
                invocations.append(parse_invocation(example.invocation, problem.name))
            except InvocationError as exc:
                raise DatasetError(str(exc), item=task.id, field=f"examples[{k}]") from exc
        resolved = resolve(invocations, self._runner("candidate"))
        known = [c for c in resolved if isinstance(c, Call)]
        if self.recompute_examples or any(e.output is None for e in problem.examples):
            results = self._run_calls(target, problem, resolved)
            outputs = [output_text(inv.prefix, k, r) for k, (inv, r) in enumerate(zip(invocations, results,
                                                                                       strict=True), 1)]
        else:
            outputs = [str(e.output) for e in problem.examples]
        lines = [e.invocation for e in problem.examples]
        self.episode = Episode(problem=problem, known=known, io_used=len(lines),
                               example_lines=[f"{a}  # -> {b}" for a, b in zip(lines, outputs, strict=True)])
        text = "\n".join([f"Hidden function: {problem.name}", "Function invocations:", *lines, "",
                          "Corresponding outputs:", *outputs, "", self.budget_text()])
        return Observation(text=text, info={"function_name": problem.name, "variant": problem.variant,
                                            "invocations": lines, "outputs": outputs, **self._budget()})

    def _run_calls(self, runner: FunctionRunner, problem: Problem, resolved: list[Call | CallResult]
                   ) -> list[CallResult]:
        calls = [c for c in resolved if isinstance(c, Call)]
        batch = runner.run(problem.source, problem.name, calls, timeout=self.query_timeout_s,
                           max_timeouts=len(calls) + 1)
        if batch.load_error is not None:
            raise DatasetError(f"the hidden function does not load: {batch.load_error[0]}: {batch.load_error[1]}",
                               item=problem.id, field="source")
        results = iter(batch.results)
        return [next(results) if isinstance(c, Call) else c for c in resolved]

    def step(self, action: ActionBase) -> StepResult:
        """Apply one action; invalid ones are reported in ``observation.error``."""
        ep = self.episode
        if ep is None:
            raise ConfigurationError("call reset(task) before step()")
        if ep.finished:
            return StepResult(observation=Observation(error=f"the episode is over ({ep.end_reason})",
                                                      info=self._budget()), terminated=True)
        if isinstance(action, QueryFunction):
            return self._query(ep, action)
        if isinstance(action, CheckCandidate | SubmitCandidate):
            return self._check(ep, action.code, final=isinstance(action, SubmitCandidate))
        if isinstance(action, Done | Fail):
            self._finish(ep, f"the agent stopped with {action.kind}")
            return StepResult(observation=Observation(text="Episode ended without an implementation.",
                                                      info=self._budget()), terminated=True)
        return self._invalid(ep, f"the code environment does not accept {action.kind!r} actions; use "
                                 "query_function, check_implementation or submit_implementation")

    def _invalid(self, ep: Episode, message: str) -> StepResult:
        ep.invalid_in_a_row += 1
        if ep.invalid_in_a_row > self.max_format_retries:
            self._finish(ep, f"{ep.invalid_in_a_row} invalid actions in a row")
            return StepResult(observation=Observation(error=f"{message}. Too many invalid actions: the episode is "
                                                            "over.", info=self._budget()), terminated=True)
        return StepResult(observation=Observation(error=message, info={**self._budget(),
                                                                      "invalid_in_a_row": ep.invalid_in_a_row}))

    def _finish(self, ep: Episode, reason: str) -> None:
        ep.finished, ep.end_reason = True, reason

    def _query(self, ep: Episode, action: QueryFunction) -> StepResult:
        left = self._budget()["io_left"]
        if left == 0:
            return self._invalid(ep, "no invocations are left: submit an implementation instead")
        try:
            invocations = parse_invocations(action.calls, ep.problem.name)
        except InvocationError as exc:
            return self._invalid(ep, str(exc))
        if len(invocations) > left:
            return self._invalid(ep, f"{len(invocations)} invocations asked for but only {left} are left")
        ep.invalid_in_a_row = 0
        resolved = resolve(invocations, self._runner("candidate"))
        results = self._run_calls(self._runner("target"), ep.problem, resolved)
        first = ep.io_used + 1
        ep.io_used += len(invocations)
        lines = [output_text(inv.prefix, first + k, r) for k, (inv, r) in enumerate(zip(invocations, results,
                                                                                         strict=True))]
        for inv, line in zip(invocations, lines, strict=True):
            ep.queries.append({"invocation": inv.line, "output": line})
        info = {"results": [{"invocation": inv.line, "output": line, "status": r.status}
                            for inv, line, r in zip(invocations, lines, results, strict=True)], **self._budget()}
        return StepResult(observation=Observation(text="\n".join([*lines, "", self.budget_text()]), info=info))

    def _check(self, ep: Episode, code: str, *, final: bool) -> StepResult:
        name = ep.problem.name
        problem = _code_problem(code, name)
        if problem:
            return self._invalid(ep, problem)
        ep.invalid_in_a_row = 0
        verdict = self.oracle(self._seed).check(ep.problem.id, ep.problem.source, name, code, ep.known,
                                                examples=ep.example_lines)
        ep.oracle_used += 1
        ep.final_code = code
        ep.last_counterexample = verdict.counterexample.as_dict() if verdict.counterexample else None
        ep.checks.append(_check_record(verdict, final))
        info: dict[str, Any] = {"passed": verdict.passed, "counterexample": ep.last_counterexample,
                                "oracle_seconds": verdict.seconds}
        if verdict.passed:
            ep.solved = True
            self._finish(ep, "solved")
            return StepResult(observation=Observation(text=verdict.message(), info={**info, **self._budget()}),
                              reward=1.0, terminated=True)
        if final or ep.oracle_used >= self.oracle_budget:
            self._finish(ep, "the final implementation is incorrect")
            return StepResult(observation=Observation(text=verdict.message() + "\nNo checks are left: the episode "
                                                      "is over.", info={**info, **self._budget()}), terminated=True)
        return StepResult(observation=Observation(text=f"{verdict.message()}\n\n{self.budget_text()}",
                                                  info={**info, **self._budget()}))

    def evaluate(self) -> Score:
        """Success (1 or 0) with CodeARC's #I/O and #oracle (failures count as the budgets)."""
        ep = self.episode
        if ep is None:
            return Score(value=0.0, error="no episode was started")
        io = ep.io_used if ep.solved else self.io_budget
        oracle = ep.oracle_used if ep.solved else self.oracle_budget
        return Score(value=1.0 if ep.solved else 0.0,
                     components={"io_calls": float(io), "oracle_calls": float(oracle),
                                 "io_calls_used": float(ep.io_used), "oracle_calls_used": float(ep.oracle_used)},
                     details={"function": ep.problem.name, "variant": ep.problem.variant,
                              "end": ep.end_reason or "the agent stopped without a final implementation",
                              "final_code": ep.final_code, "counterexample": ep.last_counterexample,
                              "checks": ep.checks, "queries": len(ep.queries)})

    def close(self) -> None:
        """Close the sandboxes; the environment can be reset again afterwards."""
        for sandbox in self._sandboxes.values():
            with contextlib.suppress(Exception):  # closing must not raise
                sandbox.close()
        self._sandboxes.clear()
        self._oracles.clear()


def _code_problem(code: str, name: str) -> str:
    """Why ``code`` cannot be checked (empty when it can): it must parse and define ``name``."""
    if not code.strip():
        return "the implementation is empty"
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return f"the implementation does not parse: {exc.msg} (line {exc.lineno})"
    if not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in tree.body):
        return f"the implementation must define a top-level function named {name}"
    return ""


def _check_record(verdict: Verdict, final: bool) -> dict[str, Any]:
    return {"passed": verdict.passed, "final": final, "reason": verdict.reason, "compared": verdict.compared,
            "inconclusive": verdict.inconclusive, "seconds": round(verdict.seconds, 3),
            "counterexample": verdict.counterexample.as_dict() if verdict.counterexample else None}

