"""The differential-testing oracle: does a candidate behave like the hidden function?

As in CodeARC, two calls agree when both return values that are ``==`` or both
raise (any exception; a crash of the call counts as raising); a timeout on either
side is not a difference. :meth:`Oracle.check` runs the target and the candidate,
each in its own sandbox, on the same inputs and returns a :class:`Verdict` with one
counterexample (input, expected, actual) when they differ.

Inputs, in this order and without repeats (see :mod:`.inputs`): the initial
examples' arguments, mutations of them, calls drawn from hypothesis strategies
inferred from them and, when a model is configured, calls the model proposes. They
depend only on the problem and the seed - never on what the agent did - so a
verdict is reproducible, and the target's results are computed once per problem.

Two choices beyond CodeARC's text, both documented in the verdict's ``reason``:
NaN equals NaN (a value always agrees with itself), and a candidate that times out
on more than ``1 - min_completion`` of the inputs the target answered fails (else a
program that loops forever would pass, since timeouts are not differences).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from steadyhand.environments.code.execution import Call, CallResult, FunctionRunner
from steadyhand.environments.code.inputs import generated_calls, mutated_calls, unique

#: Proposes extra inputs: ``(function name, example lines) -> invocation lines``.
InputProposer = Callable[[str, list[str]], list[str]]


def same(a: Any, b: Any) -> bool:
    """CodeARC's equality, ``a == b``, except that NaN equals NaN at any depth."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is type(b) and isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is type(b) and isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # an exotic __eq__ cannot crash the oracle
        return False


def agree(target: CallResult, candidate: CallResult) -> bool:
    """Whether two conclusive results agree (both raise, or both return equal values)."""
    if target.raised or candidate.raised:
        return target.raised and candidate.raised
    return same(target.value, candidate.value)


def shown(result: CallResult) -> str:
    """A result for a counterexample: the value's repr, or what went wrong."""
    return result.repr if result.status == "ok" else result.describe()


@dataclass(frozen=True)
class Counterexample:
    """One input on which the candidate and the hidden function differ."""

    call: str
    expected: str
    actual: str

    def as_dict(self) -> dict[str, str]:
        return {"input": self.call, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class Verdict:
    """The oracle's answer.

    Attributes:
        passed: no difference found (and the candidate loaded and mostly finished).
        counterexample: the first differing input, when it failed on one.
        reason: why it failed, in words; empty when it passed.
        compared: inputs on which both sides finished.
        inconclusive: inputs on which either side timed out or was not run.
        seconds: wall-clock time of the check.
    """

    passed: bool
    counterexample: Counterexample | None = None
    reason: str = ""
    compared: int = 0
    inconclusive: int = 0
    seconds: float = 0.0

    def message(self) -> str:
        """What the agent is told (CodeARC shows one failing input)."""
        if self.passed:
            return ("The implementation is correct: it agrees with the hidden function on all "
                    f"{self.compared} inputs tested.")
        lines = [f"The implementation is incorrect: {self.reason}."]
        if self.counterexample is not None:
            c = self.counterexample
            lines += [f"Failed input: {c.call}", f"Expected (hidden function): {c.expected}",
                      f"Actual (your implementation): {c.actual}"]
        return "\n".join(lines)


@dataclass
class _Prepared:
    inputs: list[Call]
    target: list[CallResult]


class Oracle:
    """Differential testing of candidates against one hidden function at a time.

    Args:
        target_runner: runs the hidden function (its own sandbox).
        candidate_runner: runs candidates and model-written argument expressions.
        seed: makes the inputs, hence every verdict, reproducible.
        generated: calls drawn from the inferred strategies.
        mutations_per_input: mutants of each known call.
        per_call_timeout: the longest any one call may take, in seconds.
        min_completion: the share of the target's answered inputs the candidate must
            finish (see the module docstring).
        target_budget_s: time for computing the target's results, once per problem.
        proposer: optional source of model-proposed inputs.
        first_chunk: inputs run in the candidate's first process; the rest run only
            when these show no difference (most wrong candidates fail early).
        isolation: how calls are isolated (:meth:`FunctionRunner.run`): ``worker``
            (default) runs them in turn in one process, assuming - as CodeARC's problems
            are - that a result does not depend on earlier calls; ``call`` gives every
            call fresh state, for stateful functions, at a few milliseconds per call.
    """

    def __init__(self, target_runner: FunctionRunner, candidate_runner: FunctionRunner, *, seed: int = 0,
                 generated: int = 150, mutations_per_input: int = 4, per_call_timeout: float = 1.0,
                 min_completion: float = 0.5, target_budget_s: float = 30.0, proposer: InputProposer | None = None,
                 first_chunk: int = 48, isolation: Literal["call", "worker"] = "worker") -> None:
        self.target_runner = target_runner
        self.candidate_runner = candidate_runner
        self.seed = seed
        self.generated = generated
        self.mutations_per_input = mutations_per_input
        self.per_call_timeout = per_call_timeout
        self.min_completion = min_completion
        self.target_budget_s = target_budget_s
        self.proposer = proposer
        self.first_chunk = first_chunk
        self.isolation: Literal["call", "worker"] = isolation
        self._prepared: dict[tuple[str, str, int], _Prepared] = {}

    def inputs(self, name: str, known: Sequence[Call], *, examples: Sequence[str] = ()) -> list[Call]:
        """The oracle's inputs for a function called ``name`` with ``known`` calls (see the module docstring)."""
        calls = [*known, *mutated_calls(known, self.mutations_per_input, self.seed),
                 *generated_calls(known, self.generated, self.seed)]
        if self.proposer is not None:
            calls += self._proposed(name, list(examples))
        return unique(calls)

    def _proposed(self, name: str, examples: list[str]) -> list[Call]:
        from steadyhand.environments.code.invocations import InvocationError, parse_invocation, resolve

        assert self.proposer is not None
        parsed = []
        for line in self.proposer(name, examples):
            try:
                parsed.append(parse_invocation(line, name))
            except InvocationError:
                continue  # a model's malformed line is skipped, not fatal
        return [c for c in resolve(parsed, self.candidate_runner) if isinstance(c, Call)]

    def prepare(self, key: str, source: str, name: str, known: Sequence[Call], *,
                examples: Sequence[str] = ()) -> tuple[list[Call], list[CallResult]]:
        """Inputs and the hidden function's results on them, computed once per ``key`` (a problem id)."""
        cache_key = (key, name, self.seed)
        if cache_key not in self._prepared:
            inputs = self.inputs(name, known, examples=examples)
            batch = self.target_runner.run(source, name, inputs, timeout=self.per_call_timeout, max_timeouts=10,
                                           budget_s=self.target_budget_s, isolation=self.isolation)
            if batch.load_error is not None:
                kind, message = batch.load_error
                raise ValueError(f"the hidden function does not load: {kind}: {message}")
            self._prepared[cache_key] = _Prepared(inputs, batch.results)
        prepared = self._prepared[cache_key]
        return prepared.inputs, prepared.target

    def check(self, key: str, source: str, name: str, candidate: str, known: Sequence[Call], *,
              examples: Sequence[str] = ()) -> Verdict:
        """Compare ``candidate`` (source defining ``name``) with the hidden ``source``.

        Raises:
            ValueError: the hidden function itself does not load (a broken problem).
            SandboxFault: a sandbox broke.
        """
        started = time.perf_counter()
        inputs, target = self.prepare(key, source, name, known, examples=examples)
        usable = [i for i, r in enumerate(target) if r.conclusive]
        if not usable:
            return Verdict(False, reason="the hidden function finished on none of the inputs, so nothing could be "
                           "compared", inconclusive=len(inputs), seconds=time.perf_counter() - started)
        results: dict[int, CallResult] = {}
        for chunk in (usable[: self.first_chunk], usable[self.first_chunk:]):
            if not chunk:
                continue
            timeouts = [min(self.per_call_timeout, max(0.5, 20 * target[i].seconds)) for i in chunk]
            batch = self.candidate_runner.run(candidate, name, [inputs[i] for i in chunk], timeout=timeouts,
                                              max_timeouts=3, isolation=self.isolation)
            if batch.load_error is not None:
                kind, message = batch.load_error
                first = usable[0]
                return Verdict(False, Counterexample(inputs[first].render(name), shown(target[first]),
                                                     f"the code did not load: {kind}: {message}"),
                               reason=f"it does not load ({kind}: {message})", inconclusive=len(inputs),
                               seconds=time.perf_counter() - started)
            results.update(zip(chunk, batch.results, strict=True))
            for i in chunk:
                got = results[i]
                if got.conclusive and not agree(target[i], got):
                    compared = sum(1 for j in results if results[j].conclusive)
                    return Verdict(False, Counterexample(inputs[i].render(name), shown(target[i]), shown(got)),
                                   reason="it differs from the hidden function on an input", compared=compared,
                                   inconclusive=len(inputs) - compared, seconds=time.perf_counter() - started)
        finished = [i for i in usable if i in results and results[i].conclusive]
        compared = len(finished)
        if compared < self.min_completion * len(usable):
            stuck = next(i for i in usable if i not in finished)
            got = results.get(stuck, CallResult("timeout"))
            return Verdict(False, Counterexample(inputs[stuck].render(name), shown(target[stuck]), shown(got)),
                           reason=f"it finished on only {compared} of the {len(usable)} inputs the hidden function "
                           "answered (it timed out on the others)", compared=compared,
                           inconclusive=len(inputs) - compared, seconds=time.perf_counter() - started)
        return Verdict(True, compared=compared, inconclusive=len(inputs) - compared,
                       seconds=time.perf_counter() - started)


def model_proposer(model: Any, *, count: int = 10) -> InputProposer:
    """An :data:`InputProposer` asking a chat model for edge-case invocations.

    The model sees the function's name and the example lines and replies with
    invocation lines; unparsable lines are dropped by the oracle.
    """

    def propose(name: str, examples: list[str]) -> list[str]:
        prompt = (f"A hidden Python function `{name}` behaves like this:\n" + "\n".join(examples) +
                  f"\n\nWrite {count} more calls that test edge cases (empty inputs, negative numbers, "
                  f"boundaries, unusual characters), one per line, exactly in the form\n"
                  f"print('Result i: ' + str({name}(args)))\nReply with the lines only.")
        reply = model.invoke(prompt)
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        return [line for line in text.splitlines() if f"{name}(" in line]

    return propose
