from pathlib import Path

import pytest
import yaml
from langchain_core.messages import HumanMessage, SystemMessage

from steadyhand.core import ConfigurationError, ModelOutputError
from steadyhand.models import load, parse_spec, usage


def test_parse_spec() -> None:
    assert parse_spec("openai:gpt-4o@http://127.0.0.1:8000/v1") == ("openai", "gpt-4o@http://127.0.0.1:8000/v1", {})
    assert parse_spec("local:smollm2?max_new_tokens=64") == ("local", "smollm2", {"max_new_tokens": "64"})
    for bad in ("smollm2", "local:", "gpt:4"):
        with pytest.raises(ConfigurationError):
            parse_spec(bad)


def _script(tmp_path: Path, data: object, suffix: str = ".yaml") -> str:
    path = tmp_path / f"script{suffix}"
    path.write_text(yaml.safe_dump(data))
    return f"scripted:{path}"


def test_scripted_rules_replies_and_default(tmp_path: Path) -> None:
    model = load(_script(tmp_path, {
        "rules": [{"when": "capital of France", "reply": "Paris"},
                  {"when": "count", "replies": ["one", "two"]},
                  {"when": "SYSTEM-ONLY", "in": "all", "reply": "saw system"}],
        "replies": ["first"],
        "default": "dunno",
    }))
    assert model.invoke("What is the capital of France?").content == "Paris"
    assert model.invoke("count").content == "one"
    assert model.invoke("count").content == "two"
    assert model.invoke("count").content == "two"  # the last reply of a rule repeats
    assert model.invoke([SystemMessage("SYSTEM-ONLY"), HumanMessage("hi")]).content == "saw system"
    assert model.invoke("anything").content == "first"
    assert model.invoke("anything").content == "dunno"
    tracker = usage(model)
    assert len(tracker.calls) == 7
    assert tracker.calls[0].input_tokens == 6 and tracker.calls[0].output_tokens == 1


def test_scripted_without_reply_raises(tmp_path: Path) -> None:
    model = load(_script(tmp_path, {"rules": [{"when": "x", "reply": "y"}]}))
    with pytest.raises(ModelOutputError, match="no reply"):
        model.invoke("unmatched")


def test_bad_script_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load(f"scripted:{tmp_path / 'missing.yaml'}")
    with pytest.raises(ConfigurationError, match="not a valid script"):
        load(_script(tmp_path, {"rules": [{"reply": "no pattern"}]}))


def test_hf_spec_checks_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such file"):
        load(f"hf:{tmp_path / 'nothing'}")


def test_openai_spec_builds_client_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("STEADYHAND_API_KEY", raising=False)
    model = load("openai:qwen2-vl@http://127.0.0.1:9/v1?temperature=0.2")
    assert model.model_name == "qwen2-vl"  # type: ignore[attr-defined]
    assert str(model.openai_api_base) == "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]
    assert usage(model).spec.startswith("openai:")


def test_scripted_delay_stands_in_for_latency(tmp_path: Path) -> None:
    model = load(_script(tmp_path, {"default": "ok"}) + "?delay_s=0.05")
    model.invoke("hi")
    assert usage(model).calls[0].latency_s >= 0.05
