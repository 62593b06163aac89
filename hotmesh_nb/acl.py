"""Least privilege on a shared Redis: the ACL rules of each role, and clear refusals.

A namespace is a key prefix (see :func:`hotmesh_nb.keys.namespace_pattern`); these rules
make it a boundary the server enforces. :func:`acl_rules` prints, for one namespace and
one role, the rules to give an ACL user (``ACL SETUSER <user> on ><password> <rules>``):

- its keys and channels: the namespace's prefix, and nothing else;
- the commands the role sends, by name (the lists below come from reading the package
  and from watching each role's traffic with ``MONITOR``; the commands of the Lua
  scripts are read from the scripts themselves), plus the ``@connection``
  category (``HELLO``, ``AUTH``, ``PING``, ``CLIENT SETINFO`` that redis-py sends);
- ``SCRIPT LOAD``: a restarted or failed-over server forgets its scripts, and every
  role loads them again;
- and denials of what no role needs (``-@dangerous``, ``FLUSHALL``, ``KEYS``,
  ``CONFIG``…), last, so that nothing above can grant them.

Roles:

``client``
    starts jobs (``pub``, ``pubsub``), waits for them, reads and signals them; it
    cannot read stream messages (no ``XREADGROUP``, ``XCLAIM``, ``XAUTOCLAIM``), so it
    cannot take work.
``worker``
    also consumes streams: reads, acknowledges, reclaims and trims messages.
``engine``
    the same commands as a worker: engines and workers consume streams and apply
    steps with the same scripts. A separate role still lets you name, rotate and
    revoke engine users on their own.
``admin``
    also removes dead letters and stream groups (and drops search indexes).

MeshCall, MeshFlow and MeshData run an engine in every process that uses them (callers
too), and deploy their app when it is missing: give their processes the ``engine``
role (or ``admin``).

Two limits of Redis ACLs, on which no rule can help:

- ``SCAN`` (used by ``hook_all``, MeshData's record listing, the fallback index's
  maintenance and the notebook) is not restricted by key patterns: a user can list
  the key *names* (job ids) of other namespaces, never read their values. Likewise
  ``FT._LIST`` lists every index name.
- The search module's ``FT.CREATE`` does not check its ``PREFIX`` against the user's
  key patterns (RediSearch 2.10, measured): a user who may create an index can index
  another namespace's hashes and search them. No role gets ``FT.CREATE``: with
  ``search=True`` a role may query (``FT.SEARCH``) the indexes of its namespace, which
  the server's operator creates once (run MeshData's ``connect`` as an unrestricted
  user); a user without ``search=True`` has its ``FT.*`` commands refused, and MeshData
  then uses its own fallback index, which gives the same answers within the key patterns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from redis import exceptions as redis_errors

from .errors import PermissionDeniedError
from .keys import Keys, check_app_id, check_namespace, namespace_pattern

ROLES = ("client", "worker", "engine", "admin")
"""The roles, from the least to the most privileged."""

CLIENT_COMMANDS = (
    # scripts: every step is one script; SCRIPT LOAD brings them back after a restart
    "evalsha",
    "eval",
    "script|load",
    "script|exists",
    # pub/sub: quorum messages, ``sub``/``psub``; completions on partitions' shard channels
    "subscribe",
    "unsubscribe",
    "psubscribe",
    "punsubscribe",
    "publish",
    "ssubscribe",
    "sunsubscribe",
    "spublish",
    # jobs, app records, locks, timers, facets, fallback search indexes
    "get",
    "set",
    "del",
    "exists",
    "expire",
    "pexpire",
    "ttl",
    "pttl",
    "type",
    "scan",
    "sscan",
    "hscan",
    "zscan",
    "hget",
    "hgetall",
    "hmget",
    "hkeys",
    "hlen",
    "hset",
    "hsetnx",
    "hdel",
    "hincrby",
    "hincrbyfloat",
    "sadd",
    "srem",
    "smembers",
    "sismember",
    "scard",
    "sinter",
    "sunion",
    "zadd",
    "zrem",
    "zrange",
    "zrangebyscore",
    "zcard",
    "zscore",
    "rpush",
    "lpop",
    "lrange",
    "llen",
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
    # a Redis Cluster: the client learns which primary serves which slot (no keys, no data)
    "cluster|slots",
    "cluster|shards",
    # streams, without consuming them
    "xadd",
    "xlen",
    "xrange",
    "xrevrange",
    "xinfo|stream",
    "xinfo|groups",
    "xgroup|create",
)
"""Commands every role sends itself (a client's engine-less ``HotMesh``); the commands of
the package's Lua scripts are added to them (see :func:`script_commands`)."""

_SCRIPT_CALL = re.compile(r"""redis\.p?call\(\s*['"]([A-Za-z.]+)['"]""")


CONSUMER_SCRIPTS = frozenset({"renew", "trim", "unlease"})
"""Scripts only stream consumers run (lease renewal, trimming acknowledged entries,
moving the local work of a dead process onto its stream)."""


@cache
def script_commands(consumer: bool = True) -> tuple[str, ...]:
    """Every command the package's Lua scripts call (read from the ``lua/`` folders).

    A script runs with the rights of the user who calls it, command by command, so a
    role may run every command of the scripts it calls; reading them from the scripts
    keeps the rules right when a script changes. ``consumer=False`` leaves out the
    scripts only stream consumers run.
    """
    found: set[str] = set()
    for script in Path(__file__).parent.rglob("lua/*.lua"):
        if consumer or script.stem not in CONSUMER_SCRIPTS:
            found.update(name.lower() for name in _SCRIPT_CALL.findall(script.read_text()))
    return tuple(sorted(found))


CONSUMER_COMMANDS = (
    "xreadgroup",
    "xread",  # the timer scout's blocking read of the timer-wake stream
    "xack",
    "xclaim",
    "xautoclaim",
    "xpending",
    "xtrim",
    "xgroup|createconsumer",
    "xinfo|consumers",
)
"""Commands of stream consumers (workers and engines): read, acknowledge, reclaim, trim."""

ADMIN_COMMANDS = ("xdel", "unlink", "xgroup|destroy", "xgroup|delconsumer")
"""Commands only the admin role sends: removing dead letters and stream groups."""

SEARCH_COMMANDS = ("ft.search", "ft._list", "ft.info")
"""Search-module commands of every role (``search=True``). ``FT.CREATE`` is never
granted: its ``PREFIX`` escapes the key patterns (see the module's docstring)."""

SEARCH_ADMIN = ("ft.dropindex", "ft.alter")
"""Search-module commands of the admin role (both checked against the index's name)."""

DENIED = (
    "-@dangerous",
    "-@admin",
    "-flushall",
    "-flushdb",
    "-keys",
    "-config",
    "-debug",
    "-shutdown",
    "-monitor",
    "-script|flush",
    "-script|kill",
    "-function",
    "-module",
    "-migrate",
    "-swapdb",
)
"""Denied to every role, last, so that no grant before them can reopen them."""


def _commands(role: str, search: bool) -> list[str]:
    level = ROLES.index(role)
    commands = list(CLIENT_COMMANDS)
    consumer = level >= ROLES.index("worker")
    commands += [c for c in script_commands(consumer) if c not in commands]
    if search:
        commands += SEARCH_COMMANDS
    if consumer:
        commands += [c for c in CONSUMER_COMMANDS if c not in commands]
    if level >= ROLES.index("admin"):
        commands += ADMIN_COMMANDS
        if search:
            commands += SEARCH_ADMIN
    return commands


def _pattern_channels(namespace: str, psub: Sequence[tuple[str, str]]) -> list[str]:
    # The server matches a PSUBSCRIBE pattern *literally* against the user's channel
    # patterns, so each pattern the package (or the user) subscribes to is granted as is.
    from .meshdata._entity import READY_TOPIC
    from .meshflow._factory import APP_ID as MESHFLOW_APP

    wanted = [(MESHFLOW_APP, f"{READY_TOPIC}.*"), *psub]
    return [Keys(namespace, check_app_id(app)).topic_channel(pattern) for app, pattern in wanted]


def _index_patterns(namespace: str, prefix: str) -> list[str]:
    # Native index names are keys to the ACL. Derived from the search module's own
    # naming with a placeholder app; nothing to add when they are under the prefix.
    from .search._native import index_name

    placeholder = "x0acl"
    pattern = index_name(Keys(namespace, placeholder), "*").replace(placeholder, "*")
    return [] if pattern.startswith(prefix[:-1]) else [f"~{pattern}"]


def acl_rules(
    namespace: str,
    role: str = "engine",
    *,
    search: bool = False,
    psub: Sequence[tuple[str, str]] = (),
) -> str:
    """The ACL rules a ``role`` user of ``namespace`` needs, as one line.

    Give them to a user after its password, e.g. with redis-py
    ``client.execute_command("ACL", "SETUSER", "shop-worker", "on", ">secret",
    *acl_rules("shop", "worker").split())``, or in a shell
    ``hotmesh-nb acl shop --role worker | xargs redis-cli ACL SETUSER shop-worker on '>secret'``.
    The rules reset the user's keys, channels and commands first, and leave its
    password and on/off state alone.

    ``search`` grants the search module's commands (only on a server that has it:
    Redis Stack, Redis 8, ``hotmesh-nb[search]``; read the module docstring's warning).
    ``psub`` lists ``(app, pattern)`` pairs the user passes to ``HotMesh.psub``: the
    server grants a pattern subscription only to a pattern listed as is.
    """
    check_namespace(namespace)
    if role not in ROLES:
        raise ValueError(f"unknown ACL role {role!r}: use one of {', '.join(ROLES)}")
    prefix = namespace_pattern(namespace)
    rules = ["resetkeys", f"~{prefix}"]
    if search:
        rules += _index_patterns(namespace, prefix)
    rules += ["resetchannels", f"&{prefix}"]
    rules += [f"&{channel}" for channel in _pattern_channels(namespace, psub)]
    rules += ["-@all", "+@connection"]
    rules += [f"+{command}" for command in _commands(role, search)]
    rules += DENIED
    return " ".join(rules)


def needed_role(command: str, *, search: bool = True) -> str | None:
    """The least privileged role whose rules allow ``command`` (``'xadd'``,
    ``'xgroup|create'``), or None when no role does."""
    name = command.lower()
    for role in ROLES:
        commands = _commands(role, search)
        if name in commands or name.split("|")[0] in commands:
            return role
    return None


# -- refusals -----------------------------------------------------------------------

_KEY_NAMESPACE = re.compile(r"^\{([A-Za-z0-9][A-Za-z0-9_.-]*):")
_SCRIPT_COMMAND = re.compile(r"run the '([^']+)' command")
_CONTAINERS = frozenset({"SCRIPT", "XGROUP", "XINFO", "CLIENT", "CONFIG", "ACL", "FUNCTION"})


def is_refusal(exc: BaseException) -> bool:
    """True when the server's ACL refused a command (directly or inside a script)."""
    if isinstance(exc, redis_errors.NoPermissionError):
        return True
    text = str(exc)
    return isinstance(exc, redis_errors.ResponseError) and (
        text.startswith("NOPERM") or "ACL failure in script" in text
    )


def _command_name(args: Sequence[Any]) -> str:
    if not args:
        return "a command"
    name = str(args[0]).upper()
    if name in _CONTAINERS and len(args) > 1:
        name = f"{name} {str(args[1]).upper()}"
    return name


def _namespaces_of(args: Sequence[Any]) -> list[str]:
    found: list[str] = []
    for arg in args[1:]:
        text = arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)
        match = _KEY_NAMESPACE.match(text)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def refusal(exc: BaseException, args: Sequence[Any], user: str | None) -> PermissionDeniedError:
    """A clear :class:`PermissionDeniedError` for the server's refusal ``exc`` of ``args``.

    The message names the ACL user, the command (the one inside a script when the
    server says which), the namespace the command aimed at, the role that allows the
    command, and how to print the rules.
    """
    if isinstance(exc, PermissionDeniedError):
        return exc
    user = user or "default"
    command = _command_name(args)
    inner = _SCRIPT_COMMAND.search(str(exc))
    if inner:
        command = inner.group(1).upper()
        if "ACL failure in script" in str(exc):
            command += " (in a script)"
    # A script's arguments may name several namespaces; the last is the one it
    # reached for beyond its own keys (the first ones).
    namespaces = _namespaces_of(args)
    namespace = namespaces[-1] if namespaces else None
    role = needed_role(command.split(" ")[0].lower())
    where = ""
    if namespaces:
        where = " on namespace " + " or ".join(f"'{n}'" for n in namespaces)
    hint_ns = namespace or "NAMESPACE"
    hint_role = role or "engine"
    message = (
        f"the server's ACL refused {command} for user '{user}'{where} ({exc}). An ACL user "
        "made from `hotmesh-nb acl NAMESPACE --role ROLE` reaches only its own namespace "
        "and the commands of its role"
    )
    if role is None:
        message += f"; no hotmesh_nb role needs {command}"
    message += (
        f": connect as a user made for namespace '{hint_ns}' with role '{hint_role}' or "
        f"above (print its rules with `hotmesh-nb acl {hint_ns} --role {hint_role}`)"
    )
    return PermissionDeniedError(message, namespace=namespace, user=user, command=command)
