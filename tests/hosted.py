"""A hosted build written into storage by the test itself (not through the upload path), for
the serving tests: each file with its gzip and brotli beside it when `compress` says so."""

import gzip
import hashlib

import brotli
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from sessions.models import HostedBuild

TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "mjs": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "wasm": "application/wasm",
    "webmanifest": "application/manifest+json",
    "mp4": "video/mp4",
    "png": "image/png",
}
TEXT = ("html", "js", "mjs", "css", "webmanifest")


def write_build(builder, files: dict[str, bytes]) -> HostedBuild:
    """A saved HostedBuild of `files` ({path: bytes}) in storages["previews"], with a manifest
    like the upload path's: text files get .br and .gz beside them."""
    build = HostedBuild(builder=builder)
    storage = storages["previews"]
    manifest = {}
    for path, data in files.items():
        ext = path.rsplit(".", 1)[-1]
        storage.save(f"{build.key}/{path}", ContentFile(data))
        encodings = []
        if ext in TEXT:
            storage.save(f"{build.key}/{path}.br", ContentFile(brotli.compress(data)))
            storage.save(f"{build.key}/{path}.gz", ContentFile(gzip.compress(data, mtime=0)))
            encodings = ["br", "gzip"]
        manifest[path] = {
            "size": len(data),
            "etag": hashlib.sha256(data).hexdigest()[:16],
            "type": TYPES.get(ext, "application/octet-stream"),
            "encodings": encodings,
        }
    build.manifest = manifest
    build.files = len(files)
    build.size = sum(len(d) for d in files.values())
    build.save()
    return build
