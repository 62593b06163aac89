"""File-system guards for the embedded server's folders, files, sockets and processes.

The embedded server keeps every job, cache entry and workflow argument of its user.
Another local user must not be able to read it, redirect it, or use our start to
overwrite a file of ours. The rules applied here:

- our folders are created 0700 and must be owned by us and not writable by anyone
  else; every folder above them must be owned by us or root, and not writable by
  others unless it is sticky (``/tmp``): otherwise a folder could be swapped under us;
- files are opened with ``O_NOFOLLOW`` and written through a fresh ``O_EXCL`` temp
  file renamed into place, and a data folder holding a link, a file of another user
  or a hard-linked file is refused before the server runs in it;
- a unix socket is used only when its file is ours and the process serving it runs
  as us (``SO_PEERCRED``);
- a pid is signalled only when its start time and executable are those recorded
  when we started it.

Each refusal is a :class:`~hotmesh_nb.errors.ServerError` naming the path and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import signal
import socket
import stat
import struct
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import ServerError

PRIVATE_DIR = 0o700
"""Mode of every folder we create or repair."""

PRIVATE_FILE = 0o600
"""Mode of every data file we create or repair."""

_OPEN_TO_OTHERS = stat.S_IWGRP | stat.S_IWOTH


def _me() -> int:
    return os.geteuid()


def user_name(uid: int) -> str:
    """``name (uid N)`` for messages; just the uid when it has no account."""
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _mode(st: os.stat_result) -> str:
    return oct(stat.S_IMODE(st.st_mode))[2:].rjust(4, "0")


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ServerError(f"cannot inspect {path}: {exc.strerror}") from exc


def _refuse_foreign_owner(path: Path, st: os.stat_result, what: str) -> None:
    if st.st_uid != _me():
        raise ServerError(
            f"{what} {path} belongs to {user_name(st.st_uid)}, not to you "
            f"({user_name(_me())}): another user could read or replace the embedded "
            "server's data there. Set HOTMESH_HOME to a folder of your own (hotmesh_nb "
            "creates it with mode 0700), or remove this one after checking what is in it"
        )


def _refuse_link(path: Path) -> None:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    raise ServerError(
        f"{path} is a symbolic link (to {target}); hotmesh_nb never follows links in the "
        "embedded server's folders, because a planted link would make the server write "
        "to the file it points to. Check who made it, remove it, and start again"
    )


def check_ancestors(path: Path) -> None:
    """Refuse ``path`` when a folder above it lets another user swap it.

    Each folder above must be owned by us or root, and either closed to writes by
    others or sticky (then others can add entries there but not rename ours).
    """
    for parent in path.parents:
        st = _lstat(parent)
        if st is None:
            continue  # created later by ensure_private_dir, with our rules
        if stat.S_ISLNK(st.st_mode):
            # home() resolves links, so a link here appeared after the check began
            _refuse_link(parent)
        if st.st_uid not in (0, _me()):
            raise ServerError(
                f"{path} lies inside {parent}, which belongs to {user_name(st.st_uid)}: that "
                "user could move or replace the folder. Set HOTMESH_HOME to a folder in a "
                "place only you (or root) control"
            )
        if st.st_mode & _OPEN_TO_OTHERS and not st.st_mode & stat.S_ISVTX:
            raise ServerError(
                f"{path} lies inside {parent}, which other users can write to (mode "
                f"{_mode(st)}, not sticky), so they could move or replace the folder. Set "
                f"HOTMESH_HOME elsewhere, or close it with `chmod go-w {parent}`"
            )


def check_link_chain(path: Path) -> None:
    """Refuse a path spelled through a link that another user made (before resolving it).

    ``/tmp/mine`` may be a link an attacker planted towards a folder of theirs or of ours.
    """
    current = Path(path.anchor)
    for part in path.parts[1:]:
        current = current / part
        st = _lstat(current)
        if st is None:
            return
        if stat.S_ISLNK(st.st_mode) and st.st_uid not in (0, _me()):
            raise ServerError(
                f"{current} is a symbolic link made by {user_name(st.st_uid)}; hotmesh_nb "
                "does not follow another user's links to its data folder. Use the real "
                "path of a folder of your own"
            )
        if stat.S_ISLNK(st.st_mode):
            current = current.resolve()


def check_private_dir(path: Path, what: str = "folder", *, repair: bool = False) -> None:
    """Refuse a folder that is a link, not ours, or writable by others.

    ``repair`` narrows a folder of ours that others may only read to 0700; a folder
    others can *write* is refused even then, since they may have planted files in it.
    """
    st = _lstat(path)
    if st is None:
        raise ServerError(f"{what} {path} does not exist")
    if stat.S_ISLNK(st.st_mode):
        _refuse_link(path)
    if not stat.S_ISDIR(st.st_mode):
        raise ServerError(
            f"{what} {path} is not a folder; move it away or set HOTMESH_HOME elsewhere"
        )
    _refuse_foreign_owner(path, st, what)
    if st.st_mode & _OPEN_TO_OTHERS:
        raise ServerError(
            f"{what} {path} is writable by other users (mode {_mode(st)}): they could "
            "plant files or links in it, or run a server of theirs there. Check its "
            f"contents, then `chmod 700 {path}`, or set HOTMESH_HOME to a new folder"
        )
    if repair and stat.S_IMODE(st.st_mode) != PRIVATE_DIR:
        os.chmod(path, PRIVATE_DIR)


def ensure_private_dir(path: Path, what: str = "folder", *, repair: bool = False) -> Path:
    """Create ``path`` (and missing parents) with mode 0700, then check it and its parents."""
    check_ancestors(path)
    missing: list[Path] = []
    for candidate in [path, *path.parents]:
        if _lstat(candidate) is not None:
            break
        missing.append(candidate)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR)
        except FileExistsError:
            pass  # made by a concurrent process: checked below like any other
        except OSError as exc:
            raise ServerError(f"cannot create {what} {folder}: {exc.strerror}") from exc
        else:
            os.chmod(folder, PRIVATE_DIR)  # the umask may have narrowed it further
        check_private_dir(folder, what)
    check_private_dir(path, what, repair=repair)
    return path


def open_private(path: Path, flags: int) -> int:
    """``os.open`` that never follows a link and only accepts a regular file of ours."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            _refuse_link(path)
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ServerError(f"{path} is not a regular file; remove it and start again")
        _refuse_foreign_owner(path, st, "file")
        if st.st_nlink > 1:
            raise ServerError(
                f"{path} has {st.st_nlink} hard links: writing it would change another file "
                "too. Remove it (after checking where the other link is) and start again"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_private(path: Path) -> str | None:
    """The text of a file of ours; None when it does not exist."""
    try:
        fd = open_private(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with a new 0600 file.

    The temp file is created with ``O_EXCL`` under a random name, so no planted link
    or file is ever written through; the rename replaces a link at ``path`` itself,
    never its target.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def guard_tree(folder: Path, sockets: tuple[str, ...] = ()) -> None:
    """Check everything under ``folder`` before a server runs there, repairing modes.

    Refused: links, files or folders of another user, hard-linked files, folders
    open to others' writes, and anything but files and folders (except the named
    ``sockets``). Repaired: folders to 0700 and files to 0600 (they followed the umask
    in earlier versions).
    """
    check_private_dir(folder, "data folder", repair=True)
    for entry in _walk(folder):
        path = Path(entry.path)
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            _refuse_link(path)
        if stat.S_ISDIR(st.st_mode):
            check_private_dir(path, "data folder", repair=True)
            continue
        _refuse_foreign_owner(path, st, "file")
        if stat.S_ISSOCK(st.st_mode) and entry.name in sockets:
            continue
        if not stat.S_ISREG(st.st_mode):
            raise ServerError(f"{path} is neither a file nor a folder; remove it and start again")
        if st.st_nlink > 1:
            raise ServerError(
                f"{path} has {st.st_nlink} hard links: the server would change another file "
                "through it. Remove it (after checking where the other link is) and start again"
            )
        if stat.S_IMODE(st.st_mode) != PRIVATE_FILE:
            os.chmod(path, PRIVATE_FILE)


def _walk(folder: Path) -> Iterator[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        for entry in entries:
            yield entry
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path))


# -- sockets --------------------------------------------------------------------------


def check_socket_file(path: Path) -> bool:
    """True when ``path`` is a socket of ours; False when absent; refuse anything else."""
    st = _lstat(path)
    if st is None:
        return False
    if stat.S_ISLNK(st.st_mode):
        _refuse_link(path)
    if not stat.S_ISSOCK(st.st_mode):
        raise ServerError(f"{path} should be the server's socket but is not a socket; remove it")
    if st.st_uid != _me():
        raise ServerError(
            f"the server socket {path} belongs to {user_name(st.st_uid)}, not to you: another "
            "user may be serving on it to collect your data. hotmesh_nb will not connect. "
            "Check who made it, stop that server, remove the socket, and start again"
        )
    return True


@dataclass(frozen=True)
class Peer:
    """Who serves a unix socket."""

    pid: int | None
    """Process id of the serving process (None when the OS does not tell)."""
    uid: int | None
    """Its user id (None when the OS does not tell)."""


def peer_of(sock: socket.socket) -> Peer:
    """The credentials of the process at the other end of a connected unix socket."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        # macOS and the BSDs: the socket file's owner and its 0700 folder stand guard
        return Peer(pid=None, uid=None)
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", raw)
    return Peer(pid=pid, uid=uid)


def refuse_foreign_peer(path: Path, peer: Peer) -> None:
    """Refuse a socket served by a process of another user."""
    if peer.uid is not None and peer.uid != _me():
        raise ServerError(
            f"the server on {path} runs as {user_name(peer.uid)} (pid {peer.pid}), not as "
            "you: it could keep everything sent to it. hotmesh_nb will not use it. Stop "
            "that server, remove the socket, and start again"
        )


# -- processes --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessIdentity:
    """What tells a process apart from a later one that reuses its pid."""

    pid: int
    """The process id."""
    start: int
    """Start time in clock ticks since boot (field 22 of ``/proc/PID/stat``)."""
    exe: str
    """Real path of its executable."""
    uid: int
    """Owner of the process."""


def identify(pid: int) -> ProcessIdentity | None:
    """The identity of a live process, or None when it is gone or cannot be read."""
    if not sys.platform.startswith("linux") or pid <= 0:
        return None
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        # the command name (field 2) may hold spaces and parentheses: split after it
        fields = raw[raw.rindex(")") + 2 :].split()
        if fields[0] in ("Z", "X"):
            return None  # exited, waiting to be reaped: nothing left to signal
        start = int(fields[19])
        exe = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
        uid = os.stat(f"/proc/{pid}").st_uid
    except (OSError, ValueError, IndexError):
        return None
    return ProcessIdentity(pid=pid, start=start, exe=exe, uid=uid)


def same_process(recorded: dict, binary: str | os.PathLike[str] | None = None) -> bool:
    """True only when ``recorded`` (pid, start, exe) still names the same live process of ours.

    A pid alone is never enough: after the server exits, the OS may give it to any
    process, possibly another user's.
    """
    pid, start, exe = recorded.get("pid"), recorded.get("pid_start"), recorded.get("exe")
    if not isinstance(pid, int) or not isinstance(start, int) or not isinstance(exe, str):
        return False
    now = identify(pid)
    if now is None or now.start != start or now.exe != exe or now.uid != _me():
        return False
    return binary is None or os.path.realpath(binary) == exe


def kill_if_same(recorded: dict, sig: int, binary: str | os.PathLike[str] | None = None) -> bool:
    """Send ``sig`` to the recorded process only if it is still that process; True if sent.

    On Linux the process is pinned with a pidfd *before* it is identified, so a pid
    reused between the check and the signal cannot receive it.
    """
    pid = recorded.get("pid")
    if not isinstance(pid, int):
        return False
    pidfd = None
    if hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return False  # already gone
    try:
        if not same_process(recorded, binary):
            return False
        try:
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            return False
        return True
    finally:
        if pidfd is not None:
            os.close(pidfd)
