"""The team's own images, beside the program (imported as the language host imports it)."""

from airlock import ImageRequest


def app_requests(namespace: str) -> list[ImageRequest]:
    """The images the team's pods pull, by logical name."""
    return [
        ImageRequest("team-c/api", "ghcr.io/example/team-c-api:2.3.1", namespace),
        ImageRequest("team-c/worker", "docker.io/library/python:3.12-slim", namespace),
    ]
