"""What a file is, judged from its bytes (never from its name or the client's Content-Type), and what
an image's dimensions and thumbnail are (Pillow, with decompression-bomb limits).

Both are blocking and CPU-bound: the event loop calls them in a worker thread, under a deadline."""

import io
import warnings

from PIL import Image, ImageOps

from domain.errors import InvalidInput

OCTET_STREAM = "application/octet-stream"
# The four image types the contract shows inline (served without `Content-Disposition: attachment`).
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PILLOW_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
THUMBNAIL_SIDE = 320
MAX_IMAGE_PIXELS = 40_000_000  # 40 megapixels: a 7000 x 5700 photo passes, a decompression bomb does not
MAX_FRAMES = 1000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # Pillow's own check at open: warns above, refuses above twice

_SIGNATURES: list[tuple[bytes, int, str]] = [  # (magic bytes, offset, type)
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"\x1f\x8b", 0, "application/gzip"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"ftyp", 4, "video/mp4"),
]


def sniff(head: bytes) -> str:
    """The content type of a file from its first bytes. Text that is valid UTF-8 is `text/plain`, HTML
    and SVG included (they are never served as a page or an image: only the four image types are
    inline, and every download is `nosniff`); anything unknown is `application/octet-stream`."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for magic, offset, content_type in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 3:  # not merely a character cut at the end of the head
                return OCTET_STREAM
        return "text/plain; charset=utf-8"
    return OCTET_STREAM


class ImageInfo:
    def __init__(self, width: int, height: int, thumbnail: bytes) -> None:
        self.width = width
        self.height = height
        self.thumbnail = thumbnail


def inspect_image(data: bytes, content_type: str) -> ImageInfo:
    """Dimensions and a PNG thumbnail at most 320 px on its longest side. An image Pillow cannot read
    (truncated, corrupt, another format than its magic bytes say) or larger than MAX_IMAGE_PIXELS (a
    decompression bomb: a small file that would decode to gigabytes) is refused, before decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(PILLOW_FORMATS)) as image:
                if PILLOW_FORMATS.get(image.format or "") != content_type:
                    raise InvalidInput("The image's contents do not match its type.")
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS or getattr(image, "n_frames", 1) > MAX_FRAMES:
                    raise InvalidInput(f"The image is too large to process ({width} x {height} pixels).")
                image.seek(0)
                image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))  # JPEG: decode at a reduced size
                frame = ImageOps.exif_transpose(image) or image
                frame.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
                if frame.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                    frame = frame.convert("RGBA")
                out = io.BytesIO()
                frame.save(out, format="PNG", optimize=False)
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput("The image is too large to process (a decompression bomb?).") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:  # Pillow's ways of saying "not readable"
        raise InvalidInput(f"The image cannot be read: {error}.") from None
    return ImageInfo(width, height, out.getvalue())
