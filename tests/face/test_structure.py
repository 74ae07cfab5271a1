"""Files whose shape alone would hold a worker for minutes are refused before decoding (3502);
photographs of every ordinary shape pass."""

from __future__ import annotations

import pytest
from PIL import Image

from idstore.face import ImageRefused
from idstore.face.images import decode_image
from idstore.face.structure import MAX_JPEG_SCANS, MAX_JPEG_SEGMENTS, check_structure
from tests.face.conftest import encoded, hopper_jpeg, opened

COMMENT = b"\xff\xfe\x00\x02"  # an empty COM segment


def refusal(image: bytes) -> str:
    with pytest.raises(ImageRefused) as refused:
        decode_image(image)
    assert refused.value.code == 3502
    return refused.value.message


def progressive(picture: Image.Image) -> bytes:
    return encoded(picture, "JPEG", progressive=True, quality=90)


def with_last_scan_repeated(jpeg: bytes, times: int) -> bytes:
    """The JPEG with its last scan (SOS segment and its data) repeated `times` more times."""
    last_scan, end = jpeg.rindex(b"\xff\xda"), jpeg.rindex(b"\xff\xd9")
    return jpeg[:end] + jpeg[last_scan:end] * times + jpeg[end:]


def with_comments(jpeg: bytes, count: int) -> bytes:
    return jpeg[:2] + COMMENT * count + jpeg[2:]


def test_a_progressive_photograph_decodes() -> None:
    picture = opened(hopper_jpeg()).convert("RGB")
    assert decode_image(progressive(picture)).shape == (picture.height, picture.width, 3)


def test_a_jpeg_repeating_one_scan_is_refused_before_decoding() -> None:
    image = with_last_scan_repeated(progressive(opened(hopper_jpeg())), MAX_JPEG_SCANS)
    assert "scans" in refusal(image)


def test_scans_up_to_the_bound_are_not_refused_by_the_walk() -> None:
    image = progressive(opened(hopper_jpeg()))
    scans = image.count(b"\xff\xda")
    check_structure(with_last_scan_repeated(image, MAX_JPEG_SCANS - scans))


def test_a_jpeg_of_many_tiny_segments_is_refused() -> None:
    assert "marker segments" in refusal(with_comments(hopper_jpeg(), MAX_JPEG_SEGMENTS))


def test_a_few_comment_segments_are_accepted() -> None:
    assert decode_image(with_comments(hopper_jpeg(), 50)).shape == (600, 512, 3)


def test_fill_bytes_and_stuffed_bytes_do_not_count_as_markers() -> None:
    # Fill bytes before a marker are legal; a run of them is walked in C, as one marker.
    image = hopper_jpeg()
    check_structure(image[:2] + b"\xff" * 100_000 + image[2:])
