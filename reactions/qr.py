"""QR codes as inline SVG (qrcode's path image: no Pillow, a few KB)."""

import re

import qrcode
import qrcode.image.svg
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_FIXED_SIZE = re.compile(r' (width|height)="[^"]*"')


def qr_svg(data: str, *, label: str) -> SafeString:
    image = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
    )
    svg = image.to_string(encoding="unicode")
    # Scale with its box instead of fixed millimetres, and say what it is to screen readers.
    opening, rest = svg.split(">", 1)
    opening = _FIXED_SIZE.sub("", opening).replace("<svg", '<svg role="img" class="qr"', 1)
    return mark_safe(f"{opening}><title>{escape(label)}</title>{rest}")  # noqa: S308 - escaped
