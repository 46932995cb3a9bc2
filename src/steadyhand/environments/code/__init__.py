"""The CodeARC arena: a hidden function, I/O queries, and a differential-testing oracle.

Importing this package registers the environment ``code`` (:class:`CodeEnvironment`)
and the suite ``codearc-mini``; the ``steadyhand.environments`` / ``steadyhand.suites``
entry points point here too.

* :mod:`.environment` - the episode protocol and its budgets;
* :mod:`.oracle` - differential testing (:class:`Oracle`, :class:`Verdict`);
* :mod:`.inputs` - where the oracle's inputs come from;
* :mod:`.execution` / :mod:`.driver` - calling functions inside a sandbox;
* :mod:`.invocations` - CodeARC's ``print('Result i: ' + str(f(args)))`` lines;
* :mod:`.problems` / :mod:`.suites` - problem sources and suites.
"""

from steadyhand.environments.code.environment import CodeEnvironment
from steadyhand.environments.code.execution import BatchResult, Call, CallResult, FunctionRunner
from steadyhand.environments.code.invocations import Invocation, InvocationError, parse_invocation, parse_invocations
from steadyhand.environments.code.oracle import Counterexample, Oracle, Verdict, model_proposer, same
from steadyhand.environments.code.problems import (
    Example,
    Problem,
    load_codearc,
    load_jsonl,
    rename_function,
    target_name,
)
from steadyhand.environments.code.suites import codearc_mini, codearc_suite, jsonl_suite, load_mini, mini_tasks

__all__ = [
    "BatchResult",
    "Call",
    "CallResult",
    "CodeEnvironment",
    "Counterexample",
    "Example",
    "FunctionRunner",
    "Invocation",
    "InvocationError",
    "Oracle",
    "Problem",
    "Verdict",
    "codearc_mini",
    "codearc_suite",
    "jsonl_suite",
    "load_codearc",
    "load_jsonl",
    "load_mini",
    "mini_tasks",
    "model_proposer",
    "parse_invocation",
    "parse_invocations",
    "rename_function",
    "same",
    "target_name",
]
