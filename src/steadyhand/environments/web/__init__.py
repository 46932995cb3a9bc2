"""Web pages in headless Chromium through Playwright (environment ``web``)."""

from steadyhand.environments.web.environment import WebEnvironment, attack_outcome
from steadyhand.environments.web.server import SiteServer

__all__ = ["SiteServer", "WebEnvironment", "attack_outcome"]
