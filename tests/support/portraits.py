"""Real faces for the face tests, from packages' sample data (no download): Grace Hopper's
portrait (Matplotlib), and the astronaut and the camera man (scikit-image), with altered copies
of the portrait as a phone or a scanner would hand them over."""

from __future__ import annotations

import io
from base64 import b64encode
from functools import cache
from pathlib import Path

import numpy as np
from matplotlib import cbook
from PIL import Image, ImageEnhance
from skimage import data as skimage_data


def encoded(image: Image.Image, image_format: str = "JPEG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def b64(image: bytes) -> str:
    return b64encode(image).decode("ascii")


@cache
def hopper_jpeg() -> bytes:
    """Grace Hopper's portrait as the package ships it (JPEG, 512 x 600)."""
    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()


def hopper() -> Image.Image:
    return Image.open(io.BytesIO(hopper_jpeg())).convert("RGB")


def hopper_variants() -> dict[str, bytes]:
    """The same face, altered: cropped, brightened, scaled down, turned 5 degrees, greyscale,
    re-compressed hard, and as a PNG."""
    portrait = hopper()
    width, height = portrait.size
    return {
        "cropped": encoded(portrait.crop((40, 40, width - 40, height - 60))),
        "brightened": encoded(
            ImageEnhance.Brightness(portrait.crop((30, 30, width - 30, height - 30))).enhance(1.4)
        ),
        "scaled": encoded(portrait.resize((width // 2, height // 2))),
        "rotated": encoded(portrait.rotate(5)),
        "greyscale": encoded(portrait.convert("L")),
        "recompressed": encoded(portrait, quality=40),
        "png": encoded(portrait, "PNG"),
    }


def _astronaut() -> Image.Image:
    # scikit-image's sample loaders are not annotated.
    return Image.fromarray(skimage_data.astronaut())  # type: ignore[no-untyped-call]


def astronaut_face() -> bytes:
    """Eileen Collins's face, cut out of the astronaut photograph (whole, a detector finds two
    faces in it)."""
    return encoded(_astronaut().crop((100, 0, 400, 300)), "PNG")


def astronaut_whole() -> bytes:
    return encoded(_astronaut(), "PNG")


def camera_man() -> bytes:
    """The camera man, in profile: no frontal face for the detector."""
    return encoded(Image.fromarray(skimage_data.camera()), "PNG")  # type: ignore[no-untyped-call]


def noise_png(side: int) -> bytes:
    """A PNG of random pixels: large (about 3 bytes a pixel) and faceless."""
    pixels = np.random.default_rng(9).integers(0, 256, (side, side, 3), dtype=np.uint8)
    return encoded(Image.fromarray(pixels), "PNG")
