"""Privacy: redaction of personal data and secrets in stored steps, reports and screenshots.

:func:`redact_text` replaces e-mail addresses, phone numbers, card numbers (those that
pass the Luhn check), API keys and passwords with ``[REDACTED:<kind>]``;
:func:`redact_step` applies it to every text field of a
:class:`~steadyhand.agents.base.StepRecord` (the runner does so before storing) and,
when asked, blurs the screenshot's OCR boxes whose words match (:func:`blur_screenshot`).
:func:`redact_model_inputs` makes a chat model see only redacted text (the runner's
``redact_inputs`` switch).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from steadyhand.agents.base import StepRecord

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_PHONE = re.compile(r"(?<![\w.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}(?![\w.])")
_KEY = re.compile(r"\b(?:(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|"
                  r"xox[abpr]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{5,})")
_PASSWORD = re.compile(r"(?i)\b(password|passwd|pwd|passcode|secret|token|api[_-]?key)(\s*[:=]\s*|\s+is\s+)(\S+)")


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` (digits only) passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return len(digits) >= 13 and total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[REDACTED:card]" if luhn_ok(digits) else match.group(0)


def redact_text(text: str) -> str:
    """``text`` with personal data and secrets replaced by ``[REDACTED:<kind>]``."""
    text = _PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}[REDACTED:password]", text)
    text = _KEY.sub("[REDACTED:key]", text)
    text = _EMAIL.sub("[REDACTED:email]", text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub("[REDACTED:phone]", text)


def sensitive(text: str) -> bool:
    """True when :func:`redact_text` would change ``text``."""
    return redact_text(text) != text


def redact_value(value: Any, redact: Callable[[str], str] = redact_text) -> Any:
    """``value`` with every string inside it (dicts, lists, keys kept) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, redact) for v in value]
    return value


def redact_step(step: StepRecord, *, text: bool = True, screenshots: bool = False) -> StepRecord:
    """A copy of ``step`` with its text fields redacted and, with ``screenshots``, its screenshot blurred."""
    update: dict[str, Any] = {}
    if text:
        for name in ("action", "observation", "guard_verdicts", "grounding"):
            update[name] = redact_value(getattr(step, name))
        update["rationale"] = redact_text(step.rationale)
    if screenshots and step.screenshot:
        update["screenshot"] = blur_screenshot(step.screenshot)
    return step.model_copy(update=update)


def redactor(mode: str | bool | None) -> Callable[[StepRecord], StepRecord]:
    """The step filter for a redaction mode: ``off`` (or False), ``text`` (or True; the default), ``all``.

    Raises:
        ValueError: an unknown mode.
    """
    mode = {True: "text", False: "off", None: "text"}.get(mode, mode) if isinstance(mode, bool | None) else mode
    if mode == "off":
        return lambda step: step
    if mode == "text":
        return redact_step
    if mode == "all":
        return lambda step: redact_step(step, screenshots=True)
    raise ValueError(f"redaction mode must be off, text or all, not {mode!r}")


def blur_screenshot(png: bytes, *, radius: int = 12) -> bytes:
    """``png`` with the OCR boxes of sensitive words blurred (tesseract, one thread).

    Words are joined per OCR line so a card number split over several boxes is still found;
    every box that overlaps a sensitive span is blurred.
    """
    import pytesseract
    from PIL import Image, ImageFilter

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    data = pytesseract.image_to_data(image, config="--psm 11", output_type=pytesseract.Output.DICT)
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i, word in enumerate(data["text"]):
        if str(word).strip():
            lines.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
    boxes = []
    for indexes in lines.values():
        line, spans = "", []
        for i in indexes:
            start = len(line) + (1 if line else 0)
            line = f"{line} {data['text'][i]}" if line else str(data["text"][i])
            spans.append((i, start, len(line)))
        hits = _sensitive_spans(line)
        boxes += [i for i, s, e in spans if any(s < he and hs < e for hs, he in hits)]
    for i in boxes:
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        box = (max(0, x - 2), max(0, y - 2), x + w + 2, y + h + 2)
        image.paste(image.crop(box).filter(ImageFilter.GaussianBlur(radius)), box[:2])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _sensitive_spans(line: str) -> list[tuple[int, int]]:
    spans = [m.span() for rx in (_EMAIL, _KEY, _PHONE) for m in rx.finditer(line)]
    spans += [m.span() for m in _CARD.finditer(line) if luhn_ok(re.sub(r"\D", "", m.group(0)))]
    spans += [m.span(3) for m in _PASSWORD.finditer(line)]
    return spans


def redact_message(message: BaseMessage) -> BaseMessage:
    """A copy of ``message`` with every text part passed through :func:`redact_text`; images untouched."""
    content = message.content
    if isinstance(content, str):
        new: Any = redact_text(content)
    else:
        new = [{**part, "text": redact_text(part["text"])}
               if isinstance(part, dict) and part.get("type", "text") == "text" and isinstance(part.get("text"), str)
               else redact_text(part) if isinstance(part, str) else part
               for part in content]
    return message.model_copy(update={"content": new})


_REDACTING: dict[type[BaseChatModel], type[BaseChatModel]] = {}


def _redacting_class(cls: type[BaseChatModel]) -> type[BaseChatModel]:
    """``cls`` with its input conversion and ``generate``/``agenerate`` redacting every message first."""
    if cls in _REDACTING:
        return _REDACTING[cls]
    if cls in _REDACTING.values():  # already redacting
        return cls
    from langchain_core.prompt_values import ChatPromptValue, PromptValue, StringPromptValue

    base: Any = cls

    class Redacting(base):
        def _convert_input(self, model_input: Any) -> PromptValue:
            value = super()._convert_input(model_input)
            if isinstance(value, StringPromptValue):
                return StringPromptValue(text=redact_text(value.text))
            return ChatPromptValue(messages=[redact_message(m) for m in value.to_messages()])

        def generate(self, messages: list[list[BaseMessage]], *args: Any, **kwargs: Any) -> Any:
            return super().generate([[redact_message(m) for m in batch] for batch in messages], *args, **kwargs)

        async def agenerate(self, messages: list[list[BaseMessage]], *args: Any, **kwargs: Any) -> Any:
            return await super().agenerate([[redact_message(m) for m in batch] for batch in messages], *args,
                                           **kwargs)

    Redacting.__name__ = Redacting.__qualname__ = f"Redacting{cls.__name__}"
    Redacting.__doc__ = f"{cls.__name__} that sees only redacted text (see :func:`redact_model_inputs`)."
    _REDACTING[cls] = Redacting
    return Redacting


def redact_model_inputs(model: BaseChatModel) -> BaseChatModel:
    """A copy of ``model`` that passes every text part of every message through :func:`redact_text`.

    Images are sent unchanged (blurring them needs OCR; see :func:`blur_screenshot`). The copy
    is an instance of a subclass of the model's own class, so its fields (``max_new_tokens``,
    ``max_tokens``), tool binding, and callbacks, the :class:`~steadyhand.models.UsageTracker`
    included, stay as they were; redaction happens before callbacks fire, so they see what the
    model sees. Wrapping twice is harmless (redacted text redacts to itself).
    """
    import copy

    clone = copy.copy(model)
    object.__setattr__(clone, "__class__", _redacting_class(type(model)))
    return clone
