"""The example plugin package, pip-installed, found through the entry point and used by the router."""

from __future__ import annotations

import importlib
import importlib.util
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from steadyhand.core.observation import Observation
from steadyhand.core.registry import grounding
from steadyhand.tools.grounding import GroundingRequest, Router

PLUGIN = Path(__file__).resolve().parents[3] / "examples" / "grounding-plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The plugin installed (not editable) into a temporary target put on sys.path, removed afterwards."""
    target = tmp_path_factory.mktemp("plugin-site")
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *isolation,
                           "--target", str(target), str(PLUGIN)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        sys.modules.pop("steadyhand_colour_expert", None)
        grounding._items.pop("colour", None)
        grounding._entry_points_loaded.discard("colour")


def screenshot(scale: float) -> bytes:
    image = Image.new("RGB", (int(1280 * scale), int(720 * scale)), (245, 245, 245))
    ImageDraw.Draw(image).rectangle([int(900 * scale), int(600 * scale), int(1019 * scale), int(639 * scale)],
                                    fill=(220, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_plugin_is_not_there_before_install() -> None:
    if "colour" in grounding.names():
        pytest.skip("the example plugin is installed in this environment already")
    assert "colour" not in grounding


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_router_uses_the_plugin_by_name(installed: Path, scale: float) -> None:
    assert "colour" in grounding.names()
    router = Router.from_specs({"colour": "?tolerance=40", "accessibility": ""},
                               order={"click": ["accessibility", "colour"]})
    obs = Observation(screenshot=screenshot(scale), info={"screen_size": [1280, 720]})
    routed = router.ground(GroundingRequest(action="click", description="the red Delete button"), obs)
    assert [d["outcome"] for d in routed.decisions] == ["failed", "accepted"]
    target = routed.require().target
    assert target.kind == "box" and routed.require().expert == "colour"
    assert abs(target.left - 900) <= 2 and abs(target.top - 600) <= 2 and abs(target.width - 120) <= 3
