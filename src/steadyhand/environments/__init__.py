"""Environments agents act in: each subpackage implements :class:`steadyhand.core.Environment`."""
