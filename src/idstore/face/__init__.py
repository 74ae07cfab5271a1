"""Faces: decode a photograph, find its one face, embed it, and score it against an enrolled one.

The model runs in worker processes (`FaceWorkers`); `images`, `model`, `scoring` and `templates`
are usable on their own. Imports nothing of idstore outside this package (DESIGN.md).
"""

from idstore.face.errors import FaceCountRefused, FaceError, ImageRefused, ModelFault
from idstore.face.images import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, decode_image
from idstore.face.scoring import DEFAULT_MATCH_THRESHOLD, MODEL_NAME, MODEL_VERSION, score_of
from idstore.face.templates import FaceTemplate, MalformedTemplate
from idstore.face.workers import FaceWorkers

__all__ = [
    "DEFAULT_MATCH_THRESHOLD",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MODEL_NAME",
    "MODEL_VERSION",
    "FaceCountRefused",
    "FaceError",
    "FaceTemplate",
    "FaceWorkers",
    "ImageRefused",
    "MalformedTemplate",
    "ModelFault",
    "decode_image",
    "score_of",
]
