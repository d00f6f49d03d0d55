"""Where files are: the landing zone, local paths, ``s3://`` URIs, folders and globs.

Every file system is a ``pyarrow.fs`` one (local or S3), so local and S3 landing zones behave alike.
Listings go through ``FileSelector``, which follows S3's continuation tokens: every key is listed,
not the first 1,000.

A short (relative) path is looked up, in order:

* ``landing/<rest>``: the landing zone (``Settings.landing``) + ``<rest>``, then ``./landing/<rest>``;
* any other relative path: the working directory, then the landing zone;
* an absolute path, ``file://`` or ``s3://`` URI: only there.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from ..errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import pyarrow as pa
    from pyarrow import fs as pafs

    from ..config import Settings

LANDING_ALIAS = "landing"
_GLOB_CHARS = re.compile(r"[*?\[]")
# Files a folder listing never ingests: hidden files and Office lock files ("~$book.xlsx").
_IGNORED_NAME = re.compile(r"^(\.|~\$)")


@dataclass(frozen=True)
class Location:
    """A place in one file system.

    Attributes:
        fs: The pyarrow file system.
        path: The path in that file system (``bucket/key`` for S3, an absolute path locally).
        uri: How it is shown and passed back: ``s3://bucket/key`` or ``/abs/path``.
    """

    fs: pafs.FileSystem
    path: str
    uri: str

    def child(self, relative: str) -> Location:
        """The location ``relative`` below this one."""
        rel = relative.strip("/")
        if not rel:
            return self
        return Location(self.fs, f"{self.path.rstrip('/')}/{rel}", f"{self.uri.rstrip('/')}/{rel}")

    def child_within(self, relative: str) -> Location | None:
        """Like :meth:`child`, with ``.`` and ``..`` resolved; None when the path climbs out of this one."""
        parts: list[str] = []
        for part in relative.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            else:
                parts.append(part)
        return self.child("/".join(parts))

    @property
    def is_s3(self) -> bool:
        """True for S3."""
        return self.uri.startswith("s3://")


@dataclass(frozen=True)
class SourceFile:
    """One file to read.

    Attributes:
        location: Where it is.
        size: Its size in bytes.
        display: The name shown to the user (as they wrote it, or as listed).
    """

    location: Location
    size: int
    display: str

    @property
    def name(self) -> str:
        """The file name, without folders."""
        return self.location.path.rstrip("/").rsplit("/", 1)[-1]

    def open_stream(self) -> pa.NativeFile:
        """A sequential input stream (raw bytes, no decompression).

        Local files open as random-access files, whose ``tell()`` feeds progress bars; S3 objects as a
        stream (one GET), whose position is estimated by the readers.
        """
        if self.location.is_s3:
            return self.location.fs.open_input_stream(self.location.path, compression=None)
        return self.location.fs.open_input_file(self.location.path)

    def read_bytes(self) -> bytes:
        """The whole file."""
        with self.open_stream() as f:
            return bytes(f.read())


def s3_filesystem(settings: Settings) -> pafs.S3FileSystem:
    """A pyarrow S3 file system with the settings' endpoint and credentials."""
    from pyarrow import fs as pafs

    kwargs: dict[str, object] = {"region": settings.s3_region or "us-east-1"}
    if settings.s3_endpoint:
        parsed = urlparse(settings.s3_endpoint)
        kwargs["endpoint_override"] = parsed.netloc or parsed.path
        kwargs["scheme"] = parsed.scheme or "https"
    if settings.s3_access_key_id:
        kwargs["access_key"] = settings.s3_access_key_id
        kwargs["secret_key"] = settings.s3_secret_access_key
    return pafs.S3FileSystem(**kwargs)  # type: ignore[arg-type]


def location_of(settings: Settings, uri: str) -> Location:
    """The location of an absolute path, ``file://`` or ``s3://`` URI."""
    from pyarrow import fs as pafs

    if uri.startswith(("s3://", "s3a://")):
        parsed = urlparse(uri)
        if not parsed.netloc:
            raise InvalidInput(f"{uri!r} names no bucket: write s3://bucket/key")
        path = f"{parsed.netloc}{parsed.path}"
        return Location(s3_filesystem(settings), path.rstrip("/") or parsed.netloc, f"s3://{path}")
    if uri.startswith("file://"):
        uri = urlparse(uri).path
    local = str(Path(uri).expanduser().resolve())
    return Location(pafs.LocalFileSystem(), local, local)


def landing_root(settings: Settings) -> Location:
    """The landing zone's root."""
    return location_of(settings, settings.landing)


def candidates(settings: Settings, text: str) -> list[Location]:
    """Where a path given by the user is looked up, in order (see the module docstring)."""
    if not isinstance(text, str):
        raise InvalidInput(f"a path is a string, got {type(text).__name__}")
    raw = text.strip()
    if raw.startswith(("s3://", "s3a://", "file://", "/", "~")):
        return [location_of(settings, raw)]
    if "://" in raw:
        raise InvalidInput(f"unsupported URI {raw!r}: use a local path, file:// or s3://")
    rel = raw.removeprefix("./")
    landing = landing_root(settings)
    cwd = location_of(settings, os.getcwd())
    first, _, rest = rel.partition("/")
    found: list[Location | None]
    if first == LANDING_ALIAS:
        found = [_in_landing(landing, rest, raw), cwd.child(rel)]
    else:
        # A relative path may climb out of the working directory (``../data.csv``), never out of the
        # landing zone: there it is simply not looked up.
        found = [cwd.child(rel), landing.child_within(rel)]
    unique: dict[str, Location] = {}
    for loc in found:
        if loc is not None:
            unique.setdefault(loc.uri, loc)
    return list(unique.values())


def _in_landing(landing: Location, rest: str, raw: str) -> Location:
    """``landing/<rest>`` inside the landing zone, or one clear error when ``rest`` climbs out of it."""
    loc = landing.child_within(rest)
    if loc is None:
        raise InvalidInput(
            f"{raw!r} leaves the landing zone ({landing.uri}): 'landing/...' and relative paths stay inside "
            "it; give an absolute path or a URI for a file elsewhere"
        )
    return loc


def _file_type(loc: Location) -> str:
    info = loc.fs.get_file_info(loc.path)
    return str(info.type.name)  # "File", "Directory" or "NotFound"


def list_files(loc: Location, recursive: bool = True) -> list[SourceFile]:
    """Every file under a folder (paginated on S3), sorted by path; hidden and lock files skipped."""
    from pyarrow import fs as pafs

    selector = pafs.FileSelector(loc.path, recursive=recursive, allow_not_found=True)
    base = loc.path.rstrip("/")
    out: list[SourceFile] = []
    for info in loc.fs.get_file_info(selector):
        if info.type != pafs.FileType.File:
            continue
        rel = info.path[len(base) :].lstrip("/")
        if any(_IGNORED_NAME.match(part) for part in rel.split("/")):
            continue
        child = loc.child(rel)
        out.append(SourceFile(child, int(info.size or 0), child.uri))
    return sorted(out, key=lambda f: f.location.path)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex: ``*`` and ``?`` stay within a folder, ``**`` crosses folders."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                out.append(re.escape("["))
                i += 1
            else:
                out.append(fnmatch.translate(pattern[i : close + 1])[4:-3])
                i = close + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _expand_glob(loc: Location) -> list[SourceFile]:
    parts = loc.path.split("/")
    fixed = next(i for i, p in enumerate(parts) if _GLOB_CHARS.search(p))
    base = "/".join(parts[:fixed]) or "/"
    pattern = glob_regex("/".join(parts[fixed:]))
    uri_base = loc.uri[: len(loc.uri) - len(loc.path)] + base if loc.is_s3 else base
    root = Location(loc.fs, base, uri_base)
    return [f for f in list_files(root) if pattern.match(f.location.path[len(base) :].lstrip("/"))]


def resolve_files(settings: Settings, text: str) -> list[SourceFile]:
    """The files a path names: one file, every file under a folder or prefix, or a glob's matches.

    Raises:
        NotFound: Nothing there; the message lists every place looked at.
    """
    looked = candidates(settings, text)
    for loc in looked:
        if _GLOB_CHARS.search(loc.path):
            files = _expand_glob(loc)
        else:
            kind = _file_type(loc)
            if kind == "File":
                size = loc.fs.get_file_info(loc.path).size
                return [SourceFile(loc, int(size or 0), text if len(looked) == 1 else loc.uri)]
            # S3 has no folders: a prefix with keys under it reads as NotFound, so list it anyway.
            files = list_files(loc) if kind == "Directory" or loc.is_s3 else []
        if files:
            return [SourceFile(f.location, f.size, short_name(settings, f.location)) for f in files]
    places = " and ".join(loc.uri for loc in looked)
    raise NotFound(f"no file {text!r}: looked in {places}")


def resolve_one(settings: Settings, text: str) -> SourceFile:
    """Exactly one file.

    Raises:
        NotFound: Nothing there (the message says where it looked).
        InvalidInput: The path names a folder or a glob matching several files.
    """
    files = resolve_files(settings, text)
    if len(files) != 1 or _GLOB_CHARS.search(text) or text.endswith("/"):
        if len(files) == 1:
            return files[0]
        raise InvalidInput(
            f"{text!r} names {len(files)} files ({files[0].display}, ...): "
            "use rat.ice_ingest_batch for a folder or a glob"
        )
    return files[0]


def short_name(settings: Settings, loc: Location) -> str:
    """How to show a location: ``landing/...`` inside the landing zone, else its URI."""
    root = landing_root(settings).uri.rstrip("/") + "/"
    if loc.uri.startswith(root):
        return f"{LANDING_ALIAS}/{loc.uri[len(root) :]}"
    return loc.uri


def target_location(settings: Settings, text: str) -> Location:
    """Where a new file named by the user goes: ``landing/...`` into the landing zone, else as given.

    A relative path not starting with ``landing/`` also goes into the landing zone.
    """
    found = candidates(settings, text)
    if text.strip().startswith(("s3://", "s3a://", "file://", "/", "~")):
        return found[0]
    rel = text.strip().removeprefix("./")
    first, _, rest = rel.partition("/")
    return _in_landing(landing_root(settings), rest if first == LANDING_ALIAS else rel, text.strip())
