"""Lead image uploads: a file is accepted only when Pillow really decodes it as an allowed
format within the byte and pixel limits. What reaches storage is a whole, plain image."""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

# Pillow format name -> the file extension the stored file gets.
ALLOWED_FORMATS: dict[str, str] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    frames: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]

    @property
    def content_type(self) -> str:
        return Image.MIME[self.format]


def _size_of(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        position = upload.tell()
        upload.seek(0, os.SEEK_END)
        size = upload.tell()
        upload.seek(position)
    return size


def inspect_image(upload) -> ImageInfo:
    """Open `upload` with Pillow and decode every frame; raise ValidationError unless it is a
    non-empty JPEG, PNG, WebP or GIF within IMAGE_MAX_BYTES and IMAGE_MAX_PIXELS, whole and
    untruncated. The pixel limit is checked from the header, before anything is decoded."""
    max_bytes = settings.IMAGE_MAX_BYTES
    max_pixels = settings.IMAGE_MAX_PIXELS
    size = _size_of(upload)
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > max_bytes:
        raise ValidationError(
            _("The image is too large (%(size)s); the limit is %(limit)s."),
            code="too_large",
            params={"size": filesizeformat(size), "limit": filesizeformat(max_bytes)},
        )
    not_an_image = ValidationError(
        _("This file is not an image in an allowed format (JPEG, PNG, WebP or GIF)."),
        code="invalid_image",
    )
    with warnings.catch_warnings():
        # Pillow's own bomb warning would only duplicate the check below.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            upload.seek(0)
            with Image.open(upload, formats=list(ALLOWED_FORMATS)) as image:
                width, height = image.size
                # An animated GIF or WebP is decoded frame by frame: its frames are counted up
                # to IMAGE_MAX_FRAMES only (a GIF of 400,000 1x1 frames is refused at once),
                # and all of them together share the pixel budget.
                frames = count_frames(image, settings.IMAGE_MAX_FRAMES)
                if width * height * frames > max_pixels:
                    raise ValidationError(
                        _(
                            "The image has too many pixels (%(width)s × %(height)s, %(frames)s "
                            "frame(s)); the limit is %(limit)s million pixels."
                        ),
                        code="too_many_pixels",
                        params={
                            "width": width,
                            "height": height,
                            "frames": frames,
                            "limit": f"{max_pixels / 1_000_000:g}",
                        },
                    )
                image_format = image.format
                for frame in range(frames):
                    image.seek(frame)
                    image.load()
        except ValidationError:
            raise
        except Image.DecompressionBombError as error:
            raise ValidationError(
                _("The image has too many pixels to be processed safely."),
                code="too_many_pixels",
            ) from error
        except UnidentifiedImageError as error:
            raise not_an_image from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise ValidationError(
                _("The image file is damaged or incomplete; please export it again."),
                code="truncated",
            ) from error
        finally:
            upload.seek(0)
    if image_format not in ALLOWED_FORMATS:
        raise not_an_image
    return ImageInfo(image_format, width, height, frames)


def count_frames(image: Image.Image, limit: int) -> int:
    """The number of frames of `image`, reading at most `limit` + 1 of them; ValidationError
    when there are more than `limit`."""
    if not getattr(image, "is_animated", False):
        return 1
    try:
        image.seek(limit)
    except EOFError:
        image.seek(0)
        return image.n_frames
    raise ValidationError(
        _("The animation has too many frames; the limit is %(limit)s."),
        code="too_many_frames",
        params={"limit": limit},
    )


def clean_copy(upload, info: ImageInfo) -> bytes:
    """The image re-encoded in its own format with nothing but its pixels (and colour
    profile): no EXIF (GPS position, camera), no comments or text chunks, no bytes after the
    image's end. An EXIF orientation is applied to the pixels first, so the picture keeps its
    way up."""
    upload.seek(0)
    with Image.open(upload, formats=[info.format]) as image:
        options = {"icc_profile": image.info.get("icc_profile")}
        if info.frames > 1:
            frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
            for frame in frames:
                frame.info = {}
            options.update(
                save_all=True,
                append_images=frames[1:],
                duration=image.info.get("duration", 100),
                loop=image.info.get("loop", 0),
            )
            picture = frames[0]
        else:
            picture = ImageOps.exif_transpose(image)
            if info.format == "JPEG" and picture.mode not in ("RGB", "L", "CMYK"):
                picture = picture.convert("RGB")
        # What Pillow would carry over by itself (a JPEG's comment, EXIF, XMP) goes.
        picture.info = {}
        if info.format in ("JPEG", "WEBP"):
            options["quality"] = 90
        output = io.BytesIO()
        picture.save(output, format=info.format, **options)
    upload.seek(0)
    return output.getvalue()


class LeadImageField(forms.ImageField):
    """The admin's upload field for lead images: `inspect_image` decides; what is stored is
    `clean_copy` of it, named with the extension of its real format (a PNG named .jpg is
    stored as .png)."""

    default_validators = []

    def to_python(self, data):
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        info = inspect_image(upload)
        stem = os.path.splitext(os.path.basename(upload.name))[0] or "image"
        try:
            data = clean_copy(upload, info)
        except (OSError, ValueError) as error:
            raise ValidationError(
                _("The image file is damaged or incomplete; please export it again."),
                code="truncated",
            ) from error
        clean = SimpleUploadedFile(f"{stem}.{info.extension}", data, info.content_type)
        clean.image_info = info
        return clean
