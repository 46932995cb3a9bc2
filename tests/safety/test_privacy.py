"""Redaction of text and steps, and blurring of screenshots with real tesseract OCR."""

from __future__ import annotations

import io
import shutil

import pytest

from steadyhand.agents.base import StepRecord
from steadyhand.safety import luhn_ok, redact_step, redact_text, redactor


def test_redacts_each_kind() -> None:
    text = ("mail bob.smith@example.com, call +1 415-555-0132, card 4111 1111 1111 1111, "
            "key sk-abcdefghijklmnopqrstu, password: hunter2, order 1234567890123")
    out = redact_text(text)
    for kind in ("email", "phone", "card", "key", "password"):
        assert f"[REDACTED:{kind}]" in out, kind
    for secret in ("bob.smith", "415-555", "4111", "sk-abc", "hunter2"):
        assert secret not in out
    assert "1234567890123" in out  # not a valid card number (Luhn), not a phone format
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


def test_redact_step_covers_every_text_field() -> None:
    step = StepRecord(index=0, action={"kind": "desktop.typing", "text": "alice@example.org"},
                      rationale="typing alice@example.org", observation={"text": "token=abc123"},
                      guard_verdicts=[{"reason": "saw alice@example.org"}])
    out = redact_step(step)
    assert "alice" not in out.model_dump_json() and "abc123" not in out.model_dump_json()
    assert redactor("off")(step) is step
    with pytest.raises(ValueError, match="off, text or all"):
        redactor("some")


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs Debian's tesseract-ocr")
def test_blur_hides_sensitive_words_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract
    from PIL import Image, ImageDraw, ImageFont

    from steadyhand.safety import blur_screenshot

    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    image = Image.new("RGB", (900, 200), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    draw.text((20, 20), "Contact bob@example.com", fill="black", font=font)
    draw.text((20, 110), "Garden tools", fill="black", font=font)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    before = pytesseract.image_to_string(image)
    assert "example.com" in before
    after = pytesseract.image_to_string(Image.open(io.BytesIO(blur_screenshot(buf.getvalue()))))
    assert "example.com" not in after and "Garden" in after
