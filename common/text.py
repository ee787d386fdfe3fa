"""People's own words, kept whole: the one cleaning every free-text field goes through.

Pure functions over `str`, standard library only (no Django, no app imports), so any layer
can call them: web forms, the API, the CLI's requests, the admin and the models' saves.
"""

import re
import unicodedata

# Characters that reorder what is shown around them, so text reads as something it isn't
# ("Trojan Source", CVE-2021-42574; Unicode UAX #9, table 4 "Directional formatting
# characters"): the embeddings, overrides and isolates and their terminators. The bidi
# *marks* (LRM U+200E, RLM U+200F, ALM U+061C) are kept: they are strong characters that
# reorder nothing beyond themselves, and right-to-left writers use them for punctuation.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)

# Unicode's line breaks other than "\n" (UAX #14 classes BK, CR, NL): one "\n" each.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")

# An emoji tag sequence (UTS #51, ED-14a: tag_base tag_spec+ tag_end), as in the flags of
# England, Scotland and Wales: U+1F3F4 (waving black flag), tag letters/digits
# (U+E0020..U+E007E), CANCEL TAG (U+E007F). Tag characters anywhere else draw nothing and
# can carry hidden ASCII ("ASCII smuggling"), so they are dropped.
_TAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")
_TAG = re.compile("[\U000e0000-\U000e007f]")

# At the ends only: invisible spacing a paste brings along (ZWSP, WORD JOINER, BOM).
_INVISIBLE_EDGES = "\u200b\u2060\ufeff"


def _removed(ch: str) -> bool:
    code = ord(ch)
    return (
        (code < 0x20 and ch not in "\n\t")  # C0 controls but line feed and tab
        or 0x7F <= code <= 0x9F  # DEL and the C1 controls
        or ch in BIDI_CONTROLS
        or 0xD800 <= code <= 0xDFFF  # lone surrogates: not text, and no database stores them
    )


def _keep_tag_sequences(text: str) -> str:
    if not _TAG.search(text):
        return text
    pieces: list[str] = []
    end = 0
    for sequence in _TAG_SEQUENCE.finditer(text):
        pieces += [_TAG.sub("", text[end : sequence.start()]), sequence.group()]
        end = sequence.end()
    pieces.append(_TAG.sub("", text[end:]))
    return "".join(pieces)


def clean_text(value: str, *, multiline: bool = False) -> str:
    """What a person typed, without what disguises it, in Unicode's composed form.

    `value` is any `str` (a form field, an API body, an admin edit). The result:

    - removes the bidi embedding, override and isolate controls (`BIDI_CONTROLS`), the C0
      and C1 control characters and DEL, lone surrogates, and tag characters outside an
      emoji tag sequence;
    - keeps everything else a person writes with: ZERO WIDTH JOINER and NON-JOINER (emoji
      families, Persian and Indic spelling), variation selectors (U+FE00..U+FE0F,
      U+E0100..U+E01EF), skin-tone modifiers, keycaps, flags and tag sequences, the bidi
      marks LRM/RLM/ALM, private-use characters;
    - `multiline=False` (names, titles): every run of whitespace, line breaks and tabs
      included, becomes one space. `multiline=True` (notes, reactions): line breaks become
      "\\n" (CRLF, CR, VT, FF, NEL, U+2028, U+2029), tabs stay;
    - is normalised to NFC (Unicode UAX #15; the form the W3C Character Model asks Web
      content to be in), with whitespace and invisible spacing (ZWSP, WORD JOINER, BOM)
      trimmed from both ends.

    Never raises; cleaning its own result changes nothing. The length can change either
    way (NFC composes "e" + U+0301 into one character, and splits U+0958 into two), so
    callers check limits on the result.
    """
    value = _LINE_BREAKS.sub("\n", value)
    value = _keep_tag_sequences(value)
    value = "".join(ch for ch in value if not _removed(ch))
    value = unicodedata.normalize("NFC", value)
    if not multiline:
        value = " ".join(value.split())
    return value.strip().strip(_INVISIBLE_EDGES).strip()
