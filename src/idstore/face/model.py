"""The face model: dlib's HOG frontal face detector, its 5-point landmarks and its ResNet embedding.

The weights ship inside the `face_recognition_models` package and are read from its folder; nothing
is downloaded. That package's `__init__` imports `pkg_resources`, which current setuptools no longer
ships, so the files are found through the import system's spec without running it.
Loading takes about a second and some 100 MB, so it happens once per process (`loaded_model`).
"""

from __future__ import annotations

import functools
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import dlib
import numpy as np
from PIL import Image

from idstore.face.errors import FaceCountRefused, ModelFault
from idstore.face.images import RgbPixels
from idstore.face.templates import FaceTemplate

WEIGHTS_PACKAGE: Final = "face_recognition_models"
_LANDMARKS_FILE: Final = "shape_predictor_5_face_landmarks.dat"
_EMBEDDING_FILE: Final = "dlib_face_recognition_resnet_model_v1.dat"

# Detection runs on a copy no wider or taller than WORKING_SIDE: HOG's cost grows with the pixels,
# and a phone's 12-megapixel photo holds no more face than its 1024-pixel copy needs (the embedding
# reads a 150-pixel chip). HOG finds faces of 80 pixels and more; a small image (up to SMALL_SIDE)
# is searched once more at twice its size, for faces down to 40 pixels, which costs about what
# one pass over a 1280-pixel image does. dlib's CNN detector, also in the weights package, took
# 10.6 s for the 512 x 600 portrait on this 2-core machine against 0.14 s for HOG: not usable.
WORKING_SIDE: Final = 1024
SMALL_SIDE: Final = 640
# The embedding's chip is 150 pixels square; a face smaller than that is enlarged, and blurred.
CHIP_SIDE: Final = 150
# HOG's score is a margin, unbounded: ~0 at the edge of detection, 1.5 and more for a clear face.
CLEAR_FACE_SCORE: Final = 1.5


@dataclass(frozen=True)
class FoundFace:
    """One face the detector found: its box in the working image's pixels and its HOG score."""

    box: dlib.rectangle
    detector_score: float

    @property
    def side(self) -> float:
        return math.sqrt(max(self.box.width(), 1) * max(self.box.height(), 1))


class FaceModel:
    """The three dlib models of one process. Use `loaded_model()`, which loads them once."""

    def __init__(self, weights_folder: Path) -> None:
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(weights_folder / _LANDMARKS_FILE))
        self._embedding = dlib.face_recognition_model_v1(str(weights_folder / _EMBEDDING_FILE))

    def faces_in(self, rgb: RgbPixels) -> list[FoundFace]:
        """Every frontal face the detector finds in an (height, width, 3) 8-bit RGB image, with
        boxes in the pixels of its `working_copy`."""
        return self._detect(working_copy(rgb))

    def _detect(self, working: RgbPixels) -> list[FoundFace]:
        upsampling = 1 if max(working.shape[:2]) <= SMALL_SIDE else 0
        # 0.0 is dlib's own decision threshold on the HOG margin.
        boxes, scores, _ = self._detector.run(working, upsampling, 0.0)
        return [FoundFace(box, float(score)) for box, score in zip(boxes, scores, strict=True)]

    def template_of(self, rgb: RgbPixels) -> FaceTemplate:
        """The template of the one face in the image.

        Raises FaceCountRefused (3501) when the image shows no face or several.
        """
        working = working_copy(rgb)
        faces = self._detect(working)
        if len(faces) != 1:
            raise FaceCountRefused(f"the image shows {len(faces)} faces, not one", faces=len(faces))

        face = faces[0]
        shape = self._landmarks(working, face.box)
        embedding = self._embedding.compute_face_descriptor(working, shape)
        return FaceTemplate.of(list(embedding), quality=quality_of(face))


def quality_of(face: FoundFace) -> float:
    """How much the template can be trusted, 0-1: the lesser of the face's size and its clarity.

    Size is the face's side over the embedding's 150-pixel chip (a smaller face is enlarged);
    clarity is the HOG score over 1.5, the score of a sharp frontal face. Both are capped at 1.
    """
    size = min(face.side / CHIP_SIDE, 1.0)
    clarity = min(max(face.detector_score, 0.0) / CLEAR_FACE_SCORE, 1.0)
    return round(min(size, clarity), 3)


def working_copy(rgb: RgbPixels) -> RgbPixels:
    """The image shrunk to fit WORKING_SIDE (never enlarged), contiguous as dlib needs it."""
    height, width = rgb.shape[:2]
    factor = WORKING_SIDE / max(height, width)
    if factor >= 1.0:
        return np.ascontiguousarray(rgb)
    size = (max(round(width * factor), 1), max(round(height * factor), 1))
    shrunk = Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(shrunk, dtype=np.uint8))


def weights_folder() -> Path:
    """The folder of the model files inside the installed `face_recognition_models` package.

    Raises ModelFault (20120) when the package or a file is missing: an installation fault.
    """
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFault(f"the package {WEIGHTS_PACKAGE} is not installed", during_match=False)
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in (_LANDMARKS_FILE, _EMBEDDING_FILE):
        if not (folder / name).is_file():
            raise ModelFault(f"the model file {name} is missing", during_match=False)
    return folder


@functools.cache
def loaded_model() -> FaceModel:
    """This process's model, loaded at the first call. Raises ModelFault (20120) if it cannot be."""
    return FaceModel(weights_folder())
