"""The refusals of the face package, each carrying the contract's numeric code (API.md §11).

The package imports nothing of idstore outside `face`, so these are not `IdstoreError`s: services
turn each into the contract error of the same code. They cross the worker pool's process
boundary by pickling, hence the explicit `__reduce__`: the default one calls the class with
`args` alone and would lose the keyword fields. Messages name the reason, never bytes of an image
or a template.
"""

from __future__ import annotations

from typing import Any

IMAGE_UNREADABLE = 3502
WRONG_FACE_COUNT = 3501
TOO_MANY_REQUESTS = 9005
TEMPLATE_FAULT = 20120
MATCH_FAULT = 20121


class FaceError(Exception):
    """Base of every face refusal; `code` is the contract's number for it."""

    # Not a ClassVar: ModelFault sets it per instance, from the operation that failed.
    code: int = TEMPLATE_FAULT

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,))


class ImageRefused(FaceError):
    """The bytes are not a JPEG or PNG image that can be read whole within the bounds (3502)."""

    code = IMAGE_UNREADABLE


class FaceCountRefused(FaceError):
    """The image does not show exactly one face (3501); `faces` is how many were found."""

    code = WRONG_FACE_COUNT

    def __init__(self, message: str, *, faces: int) -> None:
        super().__init__(message)
        self.faces = faces

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_face_count, (self.message, self.faces))


class FaceWorkersBusy(FaceError):
    """So many face requests already wait for a worker that this one is refused (9005, 429)."""

    code = TOO_MANY_REQUESTS


class ModelFault(FaceError):
    """Something unexpected failed inside the model: 20120 while making a template, 20121 while
    matching. Not the client's fault: the API answers 500 and logs it."""

    def __init__(self, message: str, *, during_match: bool) -> None:
        super().__init__(message)
        self.during_match = during_match
        self.code = MATCH_FAULT if during_match else TEMPLATE_FAULT

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_model_fault, (self.message, self.during_match))


def _rebuild_face_count(message: str, faces: int) -> FaceCountRefused:
    return FaceCountRefused(message, faces=faces)


def _rebuild_model_fault(message: str, during_match: bool) -> ModelFault:
    return ModelFault(message, during_match=during_match)
