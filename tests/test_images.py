"""Lead image uploads: only whole JPEG/PNG/WebP/GIF images within the byte and pixel limits get
in; renditions honour EXIF orientation and carry no metadata."""

import io
import random

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from news.images import LeadImageField, inspect_image
from tests.factories import DraftFactory, png_claiming


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 30, 30), **save):
    buffer = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" else "RGB"
    Image.new(mode, size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


def upload(content: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("fmt", "name", "expected"),
    [
        ("JPEG", "a.jpg", "JPEG"),
        ("PNG", "a.png", "PNG"),
        ("WEBP", "a.webp", "WEBP"),
        ("GIF", "a.gif", "GIF"),
    ],
)
def test_allowed_formats_are_accepted(fmt, name, expected):
    info = inspect_image(upload(image_bytes(fmt), name))
    assert (info.format, info.width, info.height) == (expected, 64, 48)


def test_a_php_script_renamed_jpg_is_refused():
    script = b"<?php system($_GET['cmd']); ?>\n" * 20
    with pytest.raises(ValidationError) as error:
        inspect_image(upload(script, "shell.php.jpg"))
    assert error.value.code == "invalid_image"


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError) as error:
        inspect_image(upload(b"", "empty.jpg"))
    assert error.value.code == "empty"


def test_an_image_over_the_byte_limit_is_refused(settings):
    settings.IMAGE_MAX_BYTES = 2_000
    noise = Image.frombytes("RGB", (60, 60), random.Random(1).randbytes(60 * 60 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    big = buffer.getvalue()
    assert len(big) > 2_000
    with pytest.raises(ValidationError) as error:
        inspect_image(upload(big, "big.png"))
    assert error.value.code == "too_large"
    settings.IMAGE_MAX_BYTES = len(big)
    assert inspect_image(upload(big, "big.png")).format == "PNG"


def test_a_decompression_bomb_is_refused_before_decoding():
    bomb = png_claiming(50_000, 50_000)  # 2.5 gigapixels in a few hundred bytes
    assert len(bomb) < 10_000
    with pytest.raises(ValidationError) as error:
        inspect_image(upload(bomb, "bomb.png"))
    assert error.value.code == "too_many_pixels"


def test_the_pixel_limit_counts_every_frame_of_an_animation(settings):
    frames = [Image.new("RGB", (100, 100), (50 * n, 0, 0)) for n in range(5)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    settings.IMAGE_MAX_PIXELS = 4 * 100 * 100
    with pytest.raises(ValidationError) as error:
        inspect_image(upload(buffer.getvalue(), "anim.gif"))
    assert error.value.code == "too_many_pixels"
    settings.IMAGE_MAX_PIXELS = 5 * 100 * 100
    assert inspect_image(upload(buffer.getvalue(), "anim.gif")).frames == 5


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_truncated_image_is_refused(fmt):
    whole = image_bytes(fmt, size=(300, 300), color=(10, 120, 200))
    with pytest.raises(ValidationError) as error:
        inspect_image(upload(whole[: len(whole) // 2], f"cut.{fmt.lower()}"))
    assert error.value.code in {"truncated", "invalid_image"}


def test_a_format_outside_the_allow_list_is_refused():
    with pytest.raises(ValidationError) as error:
        inspect_image(upload(image_bytes("BMP"), "old.bmp"))
    assert error.value.code == "invalid_image"


def test_the_form_field_names_the_file_after_its_real_format():
    field = LeadImageField(required=False)
    cleaned = field.clean(upload(image_bytes("PNG"), "holiday.jpg"))
    assert cleaned.name == "holiday.png"
    assert cleaned.content_type == "image/png"
    with pytest.raises(ValidationError):
        field.clean(upload(b"GIF89a but not really", "x.gif"))


def exif_jpeg(orientation: int) -> bytes:
    """A 400x200 JPEG, left half red and right half blue, with an EXIF orientation tag and
    metadata a newsroom would not want to publish (camera, owner, GPS)."""
    image = Image.new("RGB", (400, 200), (220, 20, 20))
    image.paste((20, 20, 220), (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "SecretCam"  # Make
    exif[0x013B] = "Jane Photographer"  # Artist
    exif[0x8825] = {1: "N", 2: (53.0, 54.0, 0.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    return buffer.getvalue()


@pytest.mark.django_db
def test_renditions_honour_orientation_and_strip_metadata():
    original = exif_jpeg(orientation=6)  # stored landscape, shown rotated 90° clockwise
    assert Image.open(io.BytesIO(original)).getexif()[0x010F] == "SecretCam"
    release = DraftFactory(image=SimpleUploadedFile("exif.jpg", original, "image/jpeg"))

    with Image.open(release.image_detail.file) as detail:
        assert detail.format == "WEBP"
        assert detail.size == (200, 400)  # portrait: the orientation was applied
        top, bottom = (
            detail.convert("RGB").getpixel((100, 20)),
            detail.convert("RGB").getpixel((100, 380)),
        )
        assert top[0] > 150 > top[2]  # red on top: rotated clockwise, not counter-clockwise
        assert bottom[2] > 150 > bottom[0]
        assert not detail.getexif()
        assert "exif" not in detail.info and "xmp" not in detail.info

    with Image.open(release.image_social.file) as social:
        assert (social.format, social.size) == ("WEBP", (1200, 630))
        assert not social.getexif()
        assert "exif" not in social.info

    with Image.open(release.image_list.file) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (320, 200))
        assert not thumb.getexif()

    # The original is kept as uploaded.
    release.image.open("rb")
    assert release.image.read() == original
