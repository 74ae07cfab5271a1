"""Decoding a client's photograph into the 8-bit RGB pixels the model reads, or refusing it (3502).

Photos come from phones and scanners in many forms; the same face must be found whatever the
file's form, so the EXIF orientation is applied and every mode is brought to 8-bit RGB. The bounds
hold before any pixel is decoded: Pillow reads the dimensions from the header, and a file that
declares more than MAX_IMAGE_PIXELS is refused there, so a decompression bomb costs no memory.
"""

from __future__ import annotations

import io
import warnings
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from idstore.face.bounds import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS
from idstore.face.errors import ImageRefused
from idstore.face.structure import check_structure

ACCEPTED_FORMATS: Final = ("JPEG", "PNG")

# Pillow reads these process-wide settings. Set explicitly, not left to the library's defaults: a
# partial file is refused, never padded with grey, and the bomb limit is ours.
ImageFile.LOAD_TRUNCATED_IMAGES = False
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

# A JPEG that carries several pictures (phones write MPO files) opens as MPO: still a JPEG.
_DECODED_FORMATS: Final = frozenset({"JPEG", "MPO", "PNG"})
_ALPHA_MODES: Final = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
_OPAQUE_MODES: Final = frozenset({"1", "L", "P", "RGB", "CMYK", "YCbCr", "LAB", "HSV"})
_WIDE_MODES: Final = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_WHITE: Final = (255, 255, 255)

RgbPixels = npt.NDArray[np.uint8]


def decode_image(image: bytes) -> RgbPixels:
    """The image's pixels as an (height, width, 3) array of 8-bit RGB, upright per its EXIF tag.

    Raises ImageRefused (3502) for more than MAX_IMAGE_BYTES, a format other than JPEG or PNG,
    more than MAX_IMAGE_PIXELS, a truncated or corrupt file, a shape that would make the
    decoder work for minutes (structure.py), or a mode that has no RGB meaning.
    """
    if len(image) > MAX_IMAGE_BYTES:
        raise ImageRefused(f"the image is larger than {MAX_IMAGE_BYTES} bytes")
    if not image:
        raise ImageRefused("the image is empty")
    # Before Pillow reads the header: its parser walks every marker segment before the frame.
    check_structure(image)

    picture = _open_whole(image)
    return np.asarray(to_rgb(picture), dtype=np.uint8)


def _open_whole(image: bytes) -> Image.Image:
    """Open, check the bounds from the header, then decode every pixel and turn it upright."""
    with warnings.catch_warnings():
        # Pillow only warns between one and two times its limit; a warning is a refusal here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            picture = Image.open(io.BytesIO(image), formats=ACCEPTED_FORMATS)
        except UnidentifiedImageError as exc:
            raise ImageRefused("the data is not a JPEG or PNG image") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels() from exc
        except Exception as exc:  # Pillow's header parsers raise many types on corrupt files.
            raise ImageRefused("the image header is corrupt") from exc

        _check_bounds(picture)
        try:
            picture.load()
            upright = ImageOps.exif_transpose(picture)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels() from exc
        except Exception as exc:  # truncated data, a bad checksum, a broken EXIF block
            raise ImageRefused("the image is truncated or corrupt") from exc
    return upright


def _check_bounds(picture: Image.Image) -> None:
    if picture.format not in _DECODED_FORMATS:
        raise ImageRefused("the data is not a JPEG or PNG image")
    width, height = picture.size
    if width < 1 or height < 1:
        raise ImageRefused("the image has no pixels")
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_many_pixels()


def _too_many_pixels() -> ImageRefused:
    return ImageRefused(f"the image has more than {MAX_IMAGE_PIXELS} pixels")


def to_rgb(picture: Image.Image) -> Image.Image:
    """Bring any mode the decoders produce to 8-bit RGB; transparency is laid on white."""
    mode = picture.mode
    # A palette, greyscale or RGB PNG may name one transparent colour (its tRNS chunk).
    if mode in _ALPHA_MODES or (mode in _OPAQUE_MODES and "transparency" in picture.info):
        return _on_white(picture.convert("RGBA"))
    if mode in _OPAQUE_MODES:
        return picture.convert("RGB")
    if mode in _WIDE_MODES:
        return _wide_to_rgb(picture)
    raise ImageRefused(f"the image mode {mode} is not supported")


def _on_white(rgba: Image.Image) -> Image.Image:
    background = Image.new("RGB", rgba.size, _WHITE)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _wide_to_rgb(picture: Image.Image) -> Image.Image:
    """16-bit, 32-bit and float greyscale down to 8 bits by scaling, not clipping.

    Pillow's own conversion clips at 255, which turns a 16-bit photograph white. The declared
    depth gives the scale where it is known (I;16 is 0-65535); for I and F the values decide:
    up to 255 is already 8-bit, up to 65535 is 16-bit, beyond is stretched from min to max.
    """
    values = np.asarray(picture, dtype=np.float32)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ImageRefused("the image holds values that are not numbers")
    low, high = _value_range(picture.mode, values)
    span = max(high - low, 1.0)
    grey = np.clip((values - low) * (255.0 / span), 0.0, 255.0).round().astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _value_range(mode: str, values: npt.NDArray[np.float32]) -> tuple[float, float]:
    if mode.startswith("I;16"):
        return 0.0, 65535.0
    low, high = float(values.min()), float(values.max())
    if low >= 0.0 and high <= 255.0:
        return 0.0, 255.0
    if low >= 0.0 and high <= 65535.0:
        return 0.0, 65535.0
    return low, high
