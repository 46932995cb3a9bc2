"""CodeARC problems: a hidden function, its name as the agent sees it, and initial examples.

Sources of problems:

* the official CodeARC layout (:func:`load_codearc`): ``dataset/{annotated,anonymous}/<i>.py``
  plus the invocations file
  ``prompt_invocations/<variant>/num_invocations=10/llm/invocations.json``
  (``{i: {j: {"input": "print('Result 1: ' + str(f(...)))", "output": ..., "errored": ...}}}``);
* JSON Lines (:func:`load_jsonl`), one problem per line::

      {"id": "7", "source": "def f(x): ...", "variant": "annotated",
       "examples": [{"invocation": "print('Result 1: ' + str(f(2)))", "output": "Result 1: 4"}]}

  ``name`` defaults to the target function; ``examples`` may instead be
  ``"invocations": [...]`` with or without ``"outputs": [...]`` (missing outputs are
  computed in the sandbox when the episode starts);
* the built-in ``codearc-mini`` suite (:mod:`steadyhand.environments.code.suites`).

The target is CodeARC's: the last top-level ``def``, or the one not named ``main``.
Problems travel inside :class:`~steadyhand.core.Task` objects (:meth:`Problem.to_task`).
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from steadyhand.core.errors import DatasetError
from steadyhand.core.task import Task

Variant = Literal["annotated", "anonymous"]
VARIANTS: tuple[Variant, ...] = ("annotated", "anonymous")
ANONYMOUS_NAME = "solution"
INVOCATIONS_TEMPLATE = "prompt_invocations/{variant}/num_invocations=10/llm/invocations.json"


class Example(BaseModel):
    """One initial example: the invocation line and what it printed (None: compute it).

    ``output`` is shown to the agent as it is; ``errored`` records that the call raised.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    invocation: str
    output: str | None = None
    errored: bool = False


class Problem(BaseModel):
    """One CodeARC problem.

    Attributes:
        id: unique within its source (``"17-anonymous"``).
        name: the hidden function's name as the agent sees and calls it.
        source: the hidden source; runs only in a sandbox, never shown to the agent.
        variant: ``annotated`` (meaningful name) or ``anonymous`` (renamed to ``solution``).
        examples: the initial invocations and outputs shown to the agent.
        metadata: anything else (origin, difficulty, topic).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    source: str
    variant: Variant = "annotated"
    examples: list[Example] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def to_task(self, task_id: str) -> Task:
        """The :class:`Task` of this problem for the ``code`` environment."""
        instruction = (f"Implement the hidden Python function `{self.name}` from its input/output behaviour: "
                       f"query it on inputs of your choice, then write an implementation that agrees with it "
                       f"on all inputs.")
        metadata = {**self.metadata, "variant": self.variant, "function_name": self.name, "problem_id": self.id,
                    "examples": [e.model_dump() for e in self.examples]}
        return Task(id=task_id, instruction=instruction, environment="code",
                    evaluator={"source": self.source, "name": self.name}, metadata=metadata)

    @classmethod
    def from_task(cls, task: Task) -> Problem:
        """The problem a ``code`` task carries.

        Raises:
            DatasetError: the task lacks the hidden source or its examples are malformed.
        """
        source, name = task.evaluator.get("source"), task.evaluator.get("name")
        if not isinstance(source, str) or not source.strip():
            raise DatasetError("a code task needs the hidden source", item=task.id, field="evaluator.source")
        meta = dict(task.metadata)
        try:
            return cls(id=str(meta.pop("problem_id", task.id)), name=str(name or target_name(source)), source=source,
                       variant=meta.pop("variant", "annotated"), examples=meta.pop("examples", []),
                       metadata={k: v for k, v in meta.items() if k != "function_name"})
        except ValidationError as exc:
            raise DatasetError(str(exc).splitlines()[0], item=task.id, field="metadata.examples") from exc


def target_name(source: str) -> str:
    """CodeARC's target: the last top-level ``def``, or the last one not named ``main``.

    Raises:
        DatasetError: the source does not parse or defines no top-level function.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise DatasetError(f"the source does not parse: {exc.msg} (line {exc.lineno})") from exc
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not names:
        raise DatasetError("the source defines no top-level function")
    others = [n for n in names if n != "main"]
    return others[-1] if others else names[-1]


def rename_function(source: str, old: str, new: str = ANONYMOUS_NAME) -> str:
    """``source`` with every identifier token ``old`` renamed to ``new`` (strings and comments untouched)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    out = [tok._replace(string=new) if tok.type == tokenize.NAME and tok.string == old else tok for tok in tokens]
    return tokenize.untokenize(out)


def error_summary(output: str) -> str:
    """The last line of a traceback (``ValueError: bad``): the message without the hidden source."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "error"


_PRINT_PREFIX = re.compile(r"""^\s*print\(\s*(['"])(.*?)\1""")


def errored_output(invocation: str, index: int, raw: str) -> str:
    """An official example's error output (a traceback) as ``Result i: raised <last line>``.

    The traceback would show the hidden source's lines; only its last line is kept.
    """
    match = _PRINT_PREFIX.match(invocation)
    prefix = match.group(2) if match else f"Result {index}: "
    return f"{prefix}raised {error_summary(raw)}"


def _examples(record: dict[str, Any], where: str) -> list[Example]:
    if "examples" in record:
        try:
            return [Example.model_validate(e) for e in record["examples"]]
        except ValidationError as exc:
            raise DatasetError(str(exc).splitlines()[0], item=where, field="examples") from exc
    invocations = record.get("invocations", [])
    outputs = record.get("outputs")
    if not isinstance(invocations, list) or not all(isinstance(i, str) for i in invocations):
        raise DatasetError("must be a list of invocation lines", item=where, field="invocations")
    if outputs is not None and (not isinstance(outputs, list) or len(outputs) != len(invocations)):
        raise DatasetError("must be a list as long as 'invocations'", item=where, field="outputs")
    return [Example(invocation=inv, output=None if outputs is None else str(outputs[k]))
            for k, inv in enumerate(invocations)]


def problem_from_record(record: dict[str, Any], *, where: str) -> Problem:
    """A :class:`Problem` from one JSON record (see the module docstring).

    Raises:
        DatasetError: a field is missing or malformed; the message names it.
    """
    if not isinstance(record, dict):
        raise DatasetError("each problem must be a JSON object", item=where)
    source = record.get("source")
    if not isinstance(source, str) or not source.strip():
        raise DatasetError("missing or empty", item=where, field="source")
    try:
        name = str(record.get("name") or target_name(source))
    except DatasetError as exc:
        raise DatasetError(str(exc), item=where, field="source") from exc
    variant = record.get("variant", "annotated")
    if variant not in VARIANTS:
        raise DatasetError(f"must be one of {', '.join(VARIANTS)}, not {variant!r}", item=where, field="variant")
    known = {"id", "source", "name", "variant", "examples", "invocations", "outputs", "metadata"}
    metadata = {**dict(record.get("metadata") or {}), **{k: v for k, v in record.items() if k not in known}}
    return Problem(id=str(record.get("id", where)), name=name, source=source, variant=variant,
                   examples=_examples(record, where), metadata=metadata)


def load_jsonl(path: str | Path) -> list[Problem]:
    """Problems from a JSON Lines file (blank lines skipped).

    Raises:
        DatasetError: the file is missing, a line is not JSON, or a record is malformed
            (the message names the file and line).
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read: {exc}", path=str(path)) from exc
    problems = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise DatasetError(f"not JSON: {exc}", path=str(path), item=f"line {number}") from exc
        try:
            problems.append(problem_from_record(record, where=f"line {number}"))
        except DatasetError as exc:
            raise DatasetError(str(exc), path=str(path)) from exc
    return problems


def _numbered(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for file in folder.glob("*.py"):
        if re.fullmatch(r"\d+", file.stem):
            found.append((int(file.stem), file))
    return sorted(found)


def load_codearc(root: str | Path, variants: tuple[Variant, ...] = VARIANTS, *,
                 invocations: str | None = None, limit: int | None = None) -> list[Problem]:
    """Problems from the official CodeARC layout under ``root``.

    Args:
        root: the repository folder (holding ``dataset/``) or the ``dataset`` folder itself.
        variants: which of ``annotated`` / ``anonymous`` to load.
        invocations: the invocations file, with ``{variant}`` for the variant; relative
            paths are under ``root``. Default :data:`INVOCATIONS_TEMPLATE`.
        limit: only the first N problems of each variant.

    Errored example outputs keep only their last line, so a traceback never shows
    the hidden source to the agent.

    Raises:
        DatasetError: a folder or file is missing or malformed.
    """
    root = Path(root)
    repo, dataset = (root, root / "dataset") if (root / "dataset").is_dir() else (root.parent, root)
    problems: list[Problem] = []
    for variant in variants:
        folder = dataset / variant
        if not folder.is_dir():
            raise DatasetError(f"no {variant}/ folder of problems", path=str(dataset))
        template = invocations or INVOCATIONS_TEMPLATE
        inv_path = Path(template.format(variant=variant))
        if not inv_path.is_absolute():
            inv_path = repo / inv_path
        try:
            table = json.loads(inv_path.read_text())
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot read the invocations: {exc}", path=str(inv_path)) from exc
        files = _numbered(folder)[:limit] if limit is not None else _numbered(folder)
        for index, file in files:
            source = file.read_text()
            entry = table.get(str(index))
            if not isinstance(entry, dict):
                raise DatasetError("no invocations for this problem", path=str(inv_path), item=str(index))
            examples: list[Example] = []
            for _, item in sorted(entry.items(), key=lambda kv: int(kv[0])):
                try:
                    errored = bool(item.get("errored", False))
                    output = str(item["output"])
                    invocation = str(item["input"])
                    examples.append(Example(invocation=invocation, errored=errored,
                                            output=errored_output(invocation, len(examples) + 1, output)
                                            if errored else output))
                except (KeyError, TypeError, AttributeError) as exc:
                    raise DatasetError(f"malformed invocation entry: {exc}", path=str(inv_path),
                                       item=str(index)) from exc
            try:
                name = target_name(source)
            except DatasetError as exc:
                raise DatasetError(str(exc), path=str(file)) from exc
            problems.append(Problem(id=f"{index}-{variant}", name=name, source=source, variant=variant,
                                    examples=examples, metadata={"origin": str(file)}))
    return problems
