"""A small POSIX-like shell for the simulated device's ``shell:`` service.

Enough of ``sh`` for what ADB clients send: quoting (single, double, backslash),
``;``, ``&&``, ``||``, pipes, ``>``, ``>>``, ``2>``, ``2>&1`` and ``$?`` (adbutils'
``shell2`` appends ``; echo X4EXIT:$?``; its ``dump_hierarchy`` sends
``rm -f F; uiautomator dump F && echo success``). Commands live in
:mod:`.commands`; an unknown one fails with status 127, as in ``sh``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from steadyhand.environments.android.simulator.phone import Phone
from steadyhand.environments.android.simulator.state import DeviceState, normalize_path

_STATUS = "\x00?"  # stands for an unquoted or double-quoted $? until the command runs
OPERATORS = ("2>&1", "&&", "||", ">>", "2>", ";", "|", ">", "&")


@dataclass(frozen=True)
class Token:
    text: str
    op: bool = False


class ShellSyntaxError(ValueError):
    """The command line cannot be parsed (an unterminated quote, a dangling operator)."""


def tokenize(line: str) -> list[Token]:
    """Split a command line into words and operators, removing quotes as ``sh`` does."""
    tokens: list[Token] = []
    word: list[str] = []
    in_word = False
    i = 0

    def end_word() -> None:
        nonlocal in_word
        if in_word:
            tokens.append(Token("".join(word)))
            word.clear()
            in_word = False

    while i < len(line):
        ch = line[i]
        if ch == "'":
            close = line.find("'", i + 1)
            if close < 0:
                raise ShellSyntaxError("unterminated single quote")
            word.append(line[i + 1:close])
            in_word, i = True, close + 1
        elif ch == '"':
            i += 1
            while i < len(line) and line[i] != '"':
                if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in '"\\$`\n':
                    word.append(line[i + 1])
                    i += 2
                elif line.startswith("$?", i):
                    word.append(_STATUS)
                    i += 2
                else:
                    word.append(line[i])
                    i += 1
            if i >= len(line):
                raise ShellSyntaxError("unterminated double quote")
            in_word, i = True, i + 1
        elif ch == "\\":
            if i + 1 < len(line) and line[i + 1] != "\n":
                word.append(line[i + 1])
                in_word = True
            i += 2
        elif ch in " \t":
            end_word()
            i += 1
        elif ch == "\n":
            end_word()
            tokens.append(Token(";", op=True))
            i += 1
        elif line.startswith("$?", i):
            word.append(_STATUS)
            in_word, i = True, i + 2
        else:
            op = next((o for o in OPERATORS if line.startswith(o, i)), None)
            if op is not None and not (op.startswith("2") and in_word):
                end_word()
                tokens.append(Token(op, op=True))
                i += len(op)
            else:
                word.append(ch)
                in_word, i = True, i + 1
    end_word()
    return tokens


@dataclass
class Command:
    argv: list[str] = field(default_factory=list)
    stdout_to: tuple[str, bool] | None = None  # (path, append)
    stderr_to: str | None = None
    stderr_to_stdout: bool = False


@dataclass
class Pipeline:
    commands: list[Command]
    joiner: str = ";"  # how it joins the previous one: ; && ||


def parse(tokens: list[Token]) -> list[Pipeline]:
    """Group tokens into pipelines of commands with their redirections.

    Raises:
        ShellSyntaxError: an operator with nothing before or after it.
    """
    pipelines: list[Pipeline] = []
    current = Pipeline([Command()])
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        cmd = current.commands[-1]
        if not tok.op:
            cmd.argv.append(tok.text)
        elif tok.text in (">", ">>", "2>"):
            if i + 1 >= len(tokens) or tokens[i + 1].op:
                raise ShellSyntaxError(f"syntax error: nothing after {tok.text!r}")
            target = tokens[i + 1].text
            if tok.text == "2>":
                cmd.stderr_to = target
            else:
                cmd.stdout_to = (target, tok.text == ">>")
            i += 1
        elif tok.text == "2>&1":
            cmd.stderr_to_stdout = True
        elif tok.text == "|":
            if not cmd.argv:
                raise ShellSyntaxError("syntax error: unexpected '|'")
            current.commands.append(Command())
        else:  # ; && || &
            if not cmd.argv:
                if tok.text in (";", "&") and len(current.commands) == 1:
                    i += 1
                    continue
                raise ShellSyntaxError(f"syntax error: unexpected {tok.text!r}")
            pipelines.append(current)
            current = Pipeline([Command()], joiner=";" if tok.text == "&" else tok.text)
        i += 1
    if current.commands[-1].argv:
        pipelines.append(current)
    elif len(current.commands) > 1 or current.joiner in ("&&", "||"):
        raise ShellSyntaxError("syntax error: unexpected end of line")
    return pipelines


@dataclass
class Result:
    """What one command produced."""

    stdout: bytes = b""
    stderr: bytes = b""
    status: int = 0


@dataclass
class Shell:
    """Runs command lines against one device's state and UI."""

    state: DeviceState
    phone: Phone
    commands: dict[str, Callable[[Shell, list[str], bytes], Result]]
    last_status: int = 0

    def run(self, line: str) -> Result:
        """Run a whole command line; stdout and stderr are kept apart (shell v2 needs them apart).

        A syntax error is reported on stderr with status 2, as ``sh`` does.
        """
        try:
            pipelines = parse(tokenize(line))
        except ShellSyntaxError as exc:
            return Result(stderr=f"/system/bin/sh: {exc}\n".encode(), status=2)
        out, err = bytearray(), bytearray()
        for pipeline in pipelines:
            if pipeline.joiner == "&&" and self.last_status != 0:
                continue
            if pipeline.joiner == "||" and self.last_status == 0:
                continue
            result = self._pipeline(pipeline)
            out += result.stdout
            err += result.stderr
            self.last_status = result.status
        return Result(bytes(out), bytes(err), self.last_status)

    def _pipeline(self, pipeline: Pipeline) -> Result:
        data = b""
        err = bytearray()
        result = Result()
        for cmd in pipeline.commands:
            argv = [arg.replace(_STATUS, str(self.last_status)) for arg in cmd.argv]
            result = self.call(argv, data)
            if cmd.stderr_to_stdout:
                result = Result(result.stdout + result.stderr, b"", result.status)
            if cmd.stderr_to is not None:
                self._redirect(cmd.stderr_to, result.stderr, append=False)
                result = Result(result.stdout, b"", result.status)
            if cmd.stdout_to is not None:
                problem = self._redirect(cmd.stdout_to[0], result.stdout, append=cmd.stdout_to[1])
                result = Result(b"", result.stderr + problem, 1 if problem else result.status)
            err += result.stderr
            data = result.stdout
        return Result(data, bytes(err), result.status)

    def _redirect(self, path: str, data: bytes, *, append: bool) -> bytes:
        if path == "/dev/null":
            return b""
        if path in ("/dev/stdout", "/dev/tty"):
            return b""  # not kept apart here; rare
        try:
            self.state.write_file(normalize_path(path), data, append=append)
        except (FileNotFoundError, IsADirectoryError) as exc:
            return f"/system/bin/sh: can't create {path}: {type(exc).__name__}\n".encode()
        return b""

    def call(self, argv: list[str], stdin: bytes = b"") -> Result:
        """Run one command (no shell syntax)."""
        if not argv:
            return Result()
        name = argv[0].rsplit("/", 1)[-1] if argv[0].startswith("/system/bin/") else argv[0]
        handler = self.commands.get(name)
        if handler is None:
            return Result(stderr=f"/system/bin/sh: {argv[0]}: inaccessible or not found\n".encode(), status=127)
        try:
            return handler(self, argv[1:], stdin)
        except Exception as exc:  # a simulator bug: report it like Android reports a crashed command
            trace = "".join(traceback.format_exception(exc))
            return Result(stderr=f"Exception occurred while executing '{name}':\n{trace}".encode(), status=255)
