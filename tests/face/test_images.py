"""Decoding photographs: every accepted form comes out upright in 8-bit RGB; the rest is 3502."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from idstore.face import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, ImageRefused
from idstore.face.images import decode_image, to_rgb

RED = (200, 30, 40)


def encoded(picture: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def refusal(image: bytes) -> str:
    with pytest.raises(ImageRefused) as refused:
        decode_image(image)
    assert refused.value.code == 3502
    return refused.value.message


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG header and a tiny compressed stream that claims `width` x `height` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\x00" * 1024)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def test_an_rgb_png_decodes_to_its_exact_pixels() -> None:
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)

    decoded = decode_image(encoded(Image.fromarray(pixels), "PNG"))

    assert decoded.dtype == np.uint8
    assert np.array_equal(decoded, pixels)


def test_a_jpeg_decodes_to_rgb_of_its_size_and_colour() -> None:
    decoded = decode_image(encoded(Image.new("RGB", (40, 30), RED), "JPEG", quality=95))

    assert decoded.shape == (30, 40, 3)
    assert np.abs(decoded.astype(int) - RED).max() <= 3


@pytest.mark.parametrize(
    ("mode", "fill", "expected"),
    [
        ("1", 1, (255, 255, 255)),
        ("L", 90, (90, 90, 90)),
        ("P", 0, (0, 0, 0)),
        ("RGB", RED, RED),
        ("I;16", 257 * 100, (100, 100, 100)),
    ],
)
def test_each_opaque_png_mode_becomes_8_bit_rgb(
    mode: str, fill: object, expected: tuple[int, int, int]
) -> None:
    picture = Image.new(mode, (5, 5), fill)  # type: ignore[arg-type]  # fills differ by mode

    decoded = decode_image(encoded(picture, "PNG"))

    assert decoded.shape == (5, 5, 3)
    assert tuple(decoded[2, 2]) == expected


def test_a_16_bit_png_is_scaled_down_not_clipped_to_white() -> None:
    ramp = np.array([[0, 16384, 32768, 65535]], dtype=np.uint16)
    picture = Image.fromarray(ramp)

    decoded = decode_image(encoded(picture, "PNG"))

    assert picture.mode.startswith("I;16")
    assert decoded[0, :, 0].tolist() == [0, 64, 128, 255]


@pytest.mark.parametrize(("mode", "opaque"), [("LA", (90, 90, 90)), ("RGBA", RED)])
def test_transparent_pixels_are_laid_on_white_and_opaque_ones_kept(
    mode: str, opaque: tuple[int, int, int]
) -> None:
    picture = Image.new(mode, (4, 1), (*opaque, 255) if mode == "RGBA" else (90, 255))
    picture.putpixel((3, 0), (0, 0, 0, 0) if mode == "RGBA" else (0, 0))

    decoded = decode_image(encoded(picture, "PNG"))

    assert [tuple(pixel) for pixel in decoded[0]] == [opaque] * 3 + [(255, 255, 255)]


def test_a_palette_with_alpha_lays_its_transparent_pixels_on_white() -> None:
    picture = Image.new("RGBA", (2, 1), (*RED, 255))
    picture.putpixel((1, 0), (0, 0, 0, 0))

    rgb = to_rgb(picture.convert("PA"))

    assert [rgb.getpixel((0, 0)), rgb.getpixel((1, 0))] == [RED, (255, 255, 255)]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 100, 255], [0, 100, 255]),  # already 8-bit
        ([0, 25700, 65535], [0, 100, 255]),  # 16-bit
        ([-1000, 0, 99000], [0, 3, 255]),  # beyond: stretched from min to max
    ],
)
def test_32_bit_and_float_greyscale_are_scaled_to_8_bits(
    values: list[int], expected: list[int]
) -> None:
    for dtype in (np.int32, np.float32):
        picture = Image.fromarray(np.array([values], dtype=dtype))
        assert picture.mode in {"I", "F"}

        rgb = to_rgb(picture)

        assert [rgb.getpixel((x, 0)) for x in range(3)] == [(v, v, v) for v in expected]


def test_a_palette_png_with_a_transparent_colour_shows_white_there() -> None:
    picture = Image.new("P", (3, 1), 0)
    picture.putpalette([*RED, 0, 0, 0])
    picture.putpixel((1, 0), 1)

    decoded = decode_image(encoded(picture, "PNG", transparency=1))

    assert [tuple(pixel) for pixel in decoded[0]] == [RED, (255, 255, 255), RED]


def test_a_cmyk_jpeg_comes_out_in_its_rgb_colour() -> None:
    picture = Image.new("RGB", (16, 16), RED).convert("CMYK")

    decoded = decode_image(encoded(picture, "JPEG", quality=95))

    assert np.abs(decoded[8, 8].astype(int) - RED).max() <= 8


def test_the_exif_orientation_is_applied_before_anything_else() -> None:
    picture = Image.new("RGB", (4, 2), (0, 0, 0))
    picture.putpixel((0, 0), RED)  # top left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"

    decoded = decode_image(encoded(picture, "PNG", exif=exif))

    assert decoded.shape == (4, 2, 3)
    assert tuple(decoded[0, 1]) == RED  # the stored top left is now top right


def test_an_image_of_exactly_the_pixel_bound_is_accepted() -> None:
    side = int(MAX_IMAGE_PIXELS**0.5)
    assert side * side == MAX_IMAGE_PIXELS

    decoded = decode_image(encoded(Image.new("L", (side, side)), "PNG"))

    assert decoded.shape == (side, side, 3)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (5001, 5000),  # just past the bound: Pillow itself would only warn
        (60_000, 60_000),  # a decompression bomb: 3.6 gigapixels declared in a few hundred bytes
    ],
)
def test_a_file_declaring_too_many_pixels_is_refused_before_decoding(
    width: int, height: int
) -> None:
    bomb = png_declaring(width, height)
    assert len(bomb) < 200

    assert refusal(bomb) == f"the image has more than {MAX_IMAGE_PIXELS} pixels"


def test_refusing_a_bomb_costs_no_memory() -> None:
    # In a fresh interpreter, so that the peak RSS measured is this decoding's alone.
    probe = (
        "import resource\n"
        "from idstore.face.images import decode_image\n"
        "from idstore.face.errors import ImageRefused\n"
        "from tests.face.test_images import png_declaring\n"
        "bomb = png_declaring(60_000, 60_000)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    decode_image(bomb)\n"
        "except ImageRefused:\n"
        "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )

    repository = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=repository,
    )

    assert int(done.stdout) < 10 * 1024  # KiB: the 3.6 gigapixels would need 10.8 GB


def test_more_than_ten_mebibytes_is_refused_unread() -> None:
    assert refusal(b"\xff\xd8" + bytes(MAX_IMAGE_BYTES)) == (
        f"the image is larger than {MAX_IMAGE_BYTES} bytes"
    )


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF", "WEBP", "ICO", "PPM"])
def test_other_image_formats_are_refused(image_format: str) -> None:
    other = encoded(Image.new("RGB", (16, 16), RED), image_format)

    assert refusal(other) == "the data is not a JPEG or PNG image"


@pytest.mark.parametrize("not_an_image", [b"", b"hello", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"])
def test_bytes_that_are_no_image_are_refused(not_an_image: bytes) -> None:
    assert refusal(not_an_image) in {
        "the image is empty",
        "the data is not a JPEG or PNG image",
        "the image header is corrupt",
    }


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
@pytest.mark.parametrize("kept", [0.5, 0.9])
def test_a_truncated_file_is_refused_not_padded(image_format: str, kept: float) -> None:
    noise = np.random.default_rng(7).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    whole = encoded(Image.fromarray(noise), image_format)

    message = refusal(whole[: int(len(whole) * kept)])

    assert message in {"the image is truncated or corrupt", "the image header is corrupt"}


def test_a_png_whose_compressed_pixels_are_damaged_is_refused() -> None:
    noise = np.random.default_rng(7).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    whole = bytearray(encoded(Image.fromarray(noise), "PNG"))
    whole[whole.index(b"IDAT") + 300] ^= 0xFF

    assert refusal(bytes(whole)) == "the image is truncated or corrupt"
