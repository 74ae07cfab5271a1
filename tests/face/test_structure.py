"""Files whose shape alone would hold a worker for minutes are refused before decoding (3502);
photographs of every ordinary shape pass."""

from __future__ import annotations

import pytest
from PIL import Image

from idstore.face import ImageRefused
from idstore.face.images import decode_image
from idstore.face.structure import MAX_JPEG_SCANS, MAX_JPEG_SEGMENTS, check_structure
from tests.face.conftest import astronaut_png, encoded, hopper_jpeg, opened

COMMENT = b"\xff\xfe\x00\x02"  # an empty COM segment
IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


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


ZIP = b"PK\x05\x06" + b"\x00" * 18  # an empty ZIP archive: its end-of-directory record alone


def test_a_png_cut_before_its_iend_chunk_is_refused() -> None:
    image = astronaut_png()
    assert image.endswith(IEND)

    assert refusal(image[: -len(IEND)]) == "the image is truncated or corrupt"


@pytest.mark.parametrize("trailer", [ZIP, b"\x00"])
def test_bytes_after_a_jpeg_or_png_are_refused(trailer: bytes) -> None:
    assert "followed by other data" in refusal(hopper_jpeg() + trailer)
    assert "followed by other data" in refusal(astronaut_png() + trailer)


def test_a_jpeg_cut_before_its_end_marker_is_refused() -> None:
    assert refusal(hopper_jpeg()[:-2]) == "the image is truncated or corrupt"


def test_a_second_picture_after_the_first_as_phones_write_them_passes_the_walk() -> None:
    check_structure(hopper_jpeg() + hopper_jpeg())
