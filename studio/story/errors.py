"""What can go wrong in a story change, independent of HTTP (the API maps these to 404/409/422)."""

from __future__ import annotations


class StoryError(Exception):
    """Base of the refusals below; the message is one line meant for the creator."""


class NotFound(StoryError):
    pass


class Conflict(StoryError):
    """The change would clash with what is stored (a taken slug, a scene still in an episode)."""


class InvalidField(StoryError):
    """The request is well-formed but one field names something that does not fit (another
    project's character, a style the project lacks). `loc` is the field's path in the request body."""

    def __init__(self, loc: tuple[str | int, ...], message: str):
        self.loc = loc
        super().__init__(message)
