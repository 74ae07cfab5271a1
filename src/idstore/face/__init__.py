"""Faces: decode a photograph, find its one face, embed it, and score it against an enrolled one.

The model runs in worker processes (`FaceWorkers`, which run `jobs`); `images` and `model` are
usable on their own. Importing this package loads neither dlib nor numpy nor Pillow: only the
workers do. Imports nothing of idstore outside this package (DESIGN.md).
"""

from idstore.face.bounds import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS
from idstore.face.errors import (
    FaceCountRefused,
    FaceError,
    FaceWorkersBusy,
    ImageRefused,
    ModelFault,
)
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
    "FaceWorkersBusy",
    "ImageRefused",
    "MalformedTemplate",
    "ModelFault",
    "score_of",
]
