"""Model archives from outside, unpacked so that they can never write outside their directory.

PaddleX extracts its model tarballs with ``tarfile.extractall`` and no
checks. Here every member is read first and the archive is refused whole,
before anything is written, when one is not a plain file or directory (links,
devices, FIFOs), has an absolute path or a ``..`` part, or when the members
add up to more than the byte cap or :data:`MAX_MEMBERS`. Files are then
written by hand (never by ``tarfile``'s own extraction), with ordinary
permissions whatever the archive says.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path, PurePosixPath

from ..errors import ModelError

MAX_MEMBERS = 10_000


class ArchiveError(ModelError):
    """An archive is corrupt, truncated or unsafe."""


def _member_path(member: tarfile.TarInfo, archive: str) -> PurePosixPath:
    name = member.name.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"{archive}: member {member.name!r} has an absolute path; refused (nothing extracted).")
    if ".." in path.parts:
        raise ArchiveError(f"{archive}: member {member.name!r} points outside the archive ('..'); refused "
                           "(nothing extracted).")
    if not (member.isreg() or member.isdir()):
        kind = "a link" if (member.issym() or member.islnk()) else "a device or special file"
        raise ArchiveError(f"{archive}: member {member.name!r} is {kind}; a model archive holds plain files "
                           "and folders only. Refused (nothing extracted).")
    parts = tuple(p for p in path.parts if p not in ("", "."))
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def extract_tar(archive: Path, dest: Path, max_bytes: int, label: str = "") -> list[PurePosixPath]:
    """Unpack the tar ``archive`` (any compression) into the empty directory ``dest``; the paths written.

    Raises :class:`ArchiveError` for a corrupt, truncated or unsafe archive; then ``dest`` may hold
    a partial extraction, which the caller (working in a temp directory) throws away.
    """
    where = label or archive.name
    try:
        with tarfile.open(archive, "r:*") as tar:
            members, total = [], 0
            for member in tar:
                if len(members) >= MAX_MEMBERS:
                    raise ArchiveError(f"{where}: more than {MAX_MEMBERS:,} members; not a model archive.")
                path = _member_path(member, where)
                total += member.size if member.isreg() else 0
                if total > max_bytes:
                    raise ArchiveError(f"{where}: unpacks to more than {max_bytes:,} bytes (HPI_MODEL_MAX_BYTES).")
                members.append((member, path))
            written = []
            for member, path in members:
                target = dest.joinpath(*path.parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                with source, open(target, "xb") as out:  # "x": a second member of the same name is refused
                    shutil.copyfileobj(source, out)
                if target.stat().st_size != member.size:
                    raise ArchiveError(f"{where}: member {member.name!r} is truncated.")
                written.append(path)
    except ArchiveError:
        raise
    except FileExistsError as exc:
        raise ArchiveError(f"{where}: two members write {Path(exc.filename).name!r}; refused.") from None
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise ArchiveError(f"{where} is not a complete tar archive ({type(exc).__name__}: {exc}).") from None
    return written


__all__ = ["ArchiveError", "MAX_MEMBERS", "extract_tar"]
