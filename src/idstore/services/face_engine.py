"""The face model as services use it: the worker pool behind a small protocol, and its errors
turned into the contract's (3501, 3502, 20120, 20121).

The pool runs the model in other processes, so awaiting it never blocks the event loop; callers
await it outside any database transaction, so that no row lock is held while a face is embedded.
"""

from __future__ import annotations

import logging
from typing import Protocol

from idstore.face import FaceCountRefused, FaceError, FaceTemplate, FaceWorkersBusy, ImageRefused
from idstore.services.errors import IdstoreError, TooManyRequests
from idstore.services.face_errors import (
    FaceCountWrong,
    ImageUnreadable,
    MatchFault,
    TemplateFault,
)

log = logging.getLogger(__name__)


class FaceModel(Protocol):
    """What the services need of the model (idstore.face.FaceWorkers is one)."""

    async def template_of(self, image: bytes) -> FaceTemplate: ...

    async def score_against(self, image: bytes, enrolled: FaceTemplate) -> float: ...


async def template_of(model: FaceModel, image: bytes) -> FaceTemplate:
    """The template of the one face in the image. Raises 3501, 3502, 9005 (the workers' queue
    is full) or 20120 (500)."""
    try:
        return await model.template_of(image)
    except FaceError as error:
        raise _refusal(error, fault=TemplateFault) from None


async def score_against(model: FaceModel, image: bytes, enrolled: FaceTemplate) -> float:
    """How alike the image's one face is to the enrolled template (0-1, higher is more alike).

    Raises 3501, 3502, 9005 (the workers' queue is full) or 20121 (500).
    """
    try:
        return await model.score_against(image, enrolled)
    except FaceError as error:
        raise _refusal(error, fault=MatchFault) from None


def _refusal(error: FaceError, *, fault: type[IdstoreError]) -> IdstoreError:
    # The model's messages name the reason (format, size, face count), never image bytes.
    if isinstance(error, ImageRefused):
        return ImageUnreadable(str(error))
    if isinstance(error, FaceCountRefused):
        return FaceCountWrong(str(error))
    if isinstance(error, FaceWorkersBusy):
        # Every worker busy and the queue full: the client may retry in a moment.
        return TooManyRequests("the face workers are busy; retry later", retry_after_seconds=1)
    log.error("face.model_fault", extra={"error_code": fault.code, "fault": type(error).__name__})
    return fault()
