"""Real faces, from packages of the dev extra and read offline: no download.

- Grace Hopper's portrait, Matplotlib's sample data (`grace_hopper.jpg`, 512 x 600, one face);
- the astronaut Eileen Collins, scikit-image's `astronaut.png` (512 x 512, colour);
- the camera man, scikit-image's `camera.png` (512 x 512, greyscale, his face turned to the camera).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import skimage.data
from matplotlib import cbook
from PIL import Image

from idstore.face.images import decode_image
from idstore.face.model import FaceModel, loaded_model
from idstore.face.templates import FaceTemplate


def hopper_jpeg() -> bytes:
    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()


def scikit_image_png(name: str) -> bytes:
    return (Path(skimage.data.__file__).parent / name).read_bytes()


def astronaut_png() -> bytes:
    return scikit_image_png("astronaut.png")


def camera_png() -> bytes:
    return scikit_image_png("camera.png")


def opened(image: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(image))
    picture.load()
    return picture


def encoded(picture: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, **options)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def model() -> FaceModel:
    """The model, loaded once for the test process as a worker loads it."""
    return loaded_model()


@pytest.fixture(scope="session")
def hopper_template(model: FaceModel) -> FaceTemplate:
    """The portrait enrolled as it ships."""
    return model.template_of(decode_image(hopper_jpeg()))
