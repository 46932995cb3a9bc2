"""steadyhand: build, run and score trustworthy computer-use and tool-using agents.

The top-level concepts are packages of their own: :mod:`steadyhand.core` (shared
types and registries), :mod:`steadyhand.models` (chat models from spec strings),
:mod:`steadyhand.environments`, :mod:`steadyhand.agents`, :mod:`steadyhand.tools`,
:mod:`steadyhand.memory`, :mod:`steadyhand.safety` and :mod:`steadyhand.evals`.
"""

__version__ = "0.1.0"
