"""``steadyhand sandbox ...`` and ``steadyhand images ...``: thin typer layers over the Python API.

The main CLI mounts them::

    app.add_typer(sandbox_app, name="sandbox")
    app.add_typer(images_app, name="images")
"""

from __future__ import annotations

from typing import Annotated

import typer

from steadyhand.sandboxes.base import SandboxUnavailableError

sandbox_app = typer.Typer(help="Manage sandboxes (local bubblewrap and Docker).", no_args_is_help=True)
images_app = typer.Typer(help="Build the Docker images the sandboxes run, offline.", no_args_is_help=True)


@sandbox_app.callback()
def _sandbox_group() -> None:
    """Manage sandboxes (local bubblewrap and Docker)."""


@sandbox_app.command("cleanup")
def cleanup(
    everything: Annotated[bool, typer.Option("--all", help="Remove every sandbox, not only orphans.")] = False,
    provider: Annotated[str, typer.Option(help="local, docker or all.")] = "all",
) -> None:
    """Remove sandboxes left by crashed runs: local state, mounts and cgroups; labelled containers."""
    if provider not in ("local", "docker", "all"):
        raise typer.BadParameter("provider must be local, docker or all", param_hint="--provider")
    if provider in ("local", "all"):
        from steadyhand.sandboxes.local import cleanup_local

        removed = cleanup_local(everything=everything)
        typer.echo(f"local: removed {len(removed)} sandbox(es){': ' + ', '.join(removed) if removed else ''}")
    if provider in ("docker", "all"):
        try:
            from steadyhand.sandboxes.container import cleanup_docker

            removed = cleanup_docker(everything=everything)
        except (SandboxUnavailableError, ImportError) as exc:
            if provider == "docker":
                typer.echo(f"docker: {exc}", err=True)
                raise typer.Exit(1) from exc
            typer.echo(f"docker: skipped ({exc})")
            return
        typer.echo(f"docker: removed {len(removed)} container(s){': ' + ', '.join(removed) if removed else ''}")


@images_app.command("build")
def build(
    names: Annotated[list[str] | None, typer.Argument(help="python, desktop, postgres (default: python).")] = None,
) -> None:
    """Build images from docker/ on a debootstrap base; an unchanged image is reused, not rebuilt."""
    from steadyhand.sandboxes.images import IMAGE_NAMES, build_image

    wanted = names or ["python"]
    unknown = [n for n in wanted if n not in IMAGE_NAMES]
    if unknown:
        raise typer.BadParameter(f"unknown image(s) {', '.join(unknown)}; known: {', '.join(IMAGE_NAMES)}")
    for name in wanted:
        try:
            tag = build_image(name)
        except SandboxUnavailableError as exc:
            typer.echo(f"images: {name}: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(tag)


@images_app.command("list")
def list_images() -> None:
    """Show the tag each definition builds to now, and whether it is built."""
    from steadyhand.sandboxes.images import IMAGE_NAMES, image_exists, image_tag

    for name in IMAGE_NAMES:
        tag = image_tag(name)
        try:
            state = "built" if image_exists(tag) else "not built"
        except SandboxUnavailableError:
            state = "unknown (no Docker daemon)"
        typer.echo(f"{name:10s} {tag}  {state}")
