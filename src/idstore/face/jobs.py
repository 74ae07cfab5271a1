"""What a face worker process runs: decode, detect, embed, compare. Imported in the workers only
(through `FaceWorkers`), so the serving process never loads dlib, numpy or Pillow.

Refusals (FaceError) pass through as raised; anything else that fails becomes a ModelFault whose
message names the exception's type only, since the original message may quote the input.
"""

from __future__ import annotations

import logging
import os

from idstore.face.errors import FaceError, ModelFault
from idstore.face.images import decode_image
from idstore.face.model import loaded_model
from idstore.face.scoring import score_of
from idstore.face.templates import FaceTemplate

log = logging.getLogger(__name__)


def prepare(niceness: int) -> None:
    """Once in each worker: lower its priority, then load the model."""
    if niceness:
        os.nice(niceness)
    loaded_model()


def template_of(image: bytes) -> FaceTemplate:
    """The template of the one face in the image; raises ImageRefused (3502),
    FaceCountRefused (3501) or ModelFault (20120)."""
    try:
        return loaded_model().template_of(decode_image(image))
    except FaceError:
        raise
    except Exception as exc:
        raise _fault(exc, during_match=False) from None


def score_against(image: bytes, enrolled: FaceTemplate) -> float:
    """The 0-1 likeness of the image's one face to `enrolled`; raises ImageRefused (3502),
    FaceCountRefused (3501) or ModelFault (20121)."""
    try:
        presented = loaded_model().template_of(decode_image(image))
        return score_of(presented.distance_to(enrolled))
    except FaceError:
        raise
    except Exception as exc:
        raise _fault(exc, during_match=True) from None


def _fault(exc: Exception, *, during_match: bool) -> ModelFault:
    log.error("face.model_fault", extra={"error_type": type(exc).__name__})
    return ModelFault(f"the face model failed ({type(exc).__name__})", during_match=during_match)
