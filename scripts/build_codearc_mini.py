"""Build ``codearc_mini.json`` from ``codearc_mini.yaml``: variants, invocations and outputs.

For every function in the YAML file this writes two problems - ``annotated`` (its
own name) and ``anonymous`` (renamed to ``solution``) - whose ten initial
invocations are CodeARC lines ``print('Result k: ' + str(f(args)))`` and whose
outputs come from running the function on those arguments in a sandbox (the
functions never run on the host)::

    python scripts/build_codearc_mini.py            # writes the packaged data file
    python scripts/build_codearc_mini.py --check    # exits 1 if the file is stale

Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from steadyhand.environments.code.execution import Call, FunctionRunner
from steadyhand.environments.code.invocations import output_text, parse_invocation
from steadyhand.environments.code.problems import ANONYMOUS_NAME, rename_function, target_name
from steadyhand.environments.code.suites import MINI_DATA, MINI_FORMAT, MINI_SOURCES
from steadyhand.sandboxes import open_sandbox


def build(runner: FunctionRunner, sources: list[dict[str, Any]]) -> dict[str, Any]:
    """The data file's content for the problems in ``sources`` (the parsed YAML)."""
    problems = []
    for index, spec in enumerate(sources):
        name, source = spec["name"], spec["source"]
        if target_name(source) != name:
            raise SystemExit(f"problem {index}: the source's target is {target_name(source)}, not {name}")
        if len(spec["inputs"]) != 10:
            raise SystemExit(f"problem {index} ({name}): needs 10 inputs, has {len(spec['inputs'])}")
        for variant, shown in (("annotated", name), ("anonymous", ANONYMOUS_NAME)):
            code = source if variant == "annotated" else rename_function(source, name)
            lines = [f"print('Result {k}: ' + str({shown}({args})))" for k, args in enumerate(spec["inputs"], 1)]
            invocations = [parse_invocation(line, shown) for line in lines]
            calls: list[Call] = []
            for line, inv in zip(lines, invocations, strict=True):
                call = inv.literal_call()
                if call is None:
                    raise SystemExit(f"problem {index} ({name}): arguments must be literals: {line}")
                calls.append(call)
            batch = runner.run(code, shown, calls, timeout=5.0, max_timeouts=len(calls) + 1)
            if batch.load_error is not None:
                raise SystemExit(f"problem {index} ({name}, {variant}) does not load: {batch.load_error}")
            if any(not r.conclusive for r in batch.results):
                raise SystemExit(f"problem {index} ({name}, {variant}): an initial invocation timed out")
            outputs = [output_text(inv.prefix, k, r)
                       for k, (inv, r) in enumerate(zip(invocations, batch.results, strict=True), 1)]
            problems.append({
                "id": f"{index}-{variant}", "name": shown, "variant": variant, "source": code,
                "examples": [{"invocation": line, "output": out, "errored": r.raised}
                             for line, out, r in zip(lines, outputs, batch.results, strict=True)],
                "metadata": {"function": name, "topic": spec.get("topic", ""),
                             "difficulty": spec.get("difficulty", "unknown"), "index": index},
            })
        print(f"built {index + 1}/{len(sources)}: {name}", file=sys.stderr)
    return {"format": MINI_FORMAT, "problems": problems}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=MINI_SOURCES)
    parser.add_argument("--output", type=Path, default=MINI_DATA)
    parser.add_argument("--check", action="store_true", help="compare with the existing file instead of writing")
    args = parser.parse_args()
    sources = yaml.safe_load(args.sources.read_text())
    with open_sandbox("local") as sandbox:
        data = build(FunctionRunner(sandbox), sources)
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: rebuild it", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date", file=sys.stderr)
        return 0
    args.output.write_text(text)
    print(f"wrote {len(data['problems'])} problems to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
