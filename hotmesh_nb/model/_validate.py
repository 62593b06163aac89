"""Validation of the parts of a YAML app that can be checked one at a time.

Each ``check_*`` / ``parse_*`` function looks at one located node (an app
header, an activity, a transition, a hook rule), records every problem it finds
in a :class:`Problems` collector, and returns the normalised value when the
node is usable. Checks that need the whole graph (topology, cycles, the
hooks back-reference) live in :mod:`hotmesh_nb.model._compile`. The app header
check (:func:`check_header`) is the exception: it raises at once, since
nothing else can be checked without a usable header.

Problems are collected rather than raised one by one so that a user fixing an
app sees everything that is wrong at once: :meth:`Problems.raise_if_any`
raises the first problem (its file, line and activity) with the others listed
in the message and all of them in ``errors``.
"""

from __future__ import annotations

import difflib
import logging
import re
from typing import Any

from hotmesh_nb.errors import ValidationError
from hotmesh_nb.keys import check_partitions
from hotmesh_nb.model._located import file_of, line_of
from hotmesh_nb.model._rules import check_rule
from hotmesh_nb.model._specs import ACTIVITY_TYPES, MatchSpec, TransitionSpec

log = logging.getLogger(__name__)

APP_ID_RE = re.compile(r"^[A-Za-z0-9-]+$")
_CODE_RE = re.compile(r"^[0-9]+$")

#: Sections whose ``maps`` hold mapping rules.
MAP_SECTIONS = ("input", "output", "job", "hook", "signal", "resolver")
#: Activity fields whose value may be a mapping rule resolved at run time.
MAPPED_FIELDS = (
    "topic",
    "sleep",
    "expire",
    "emit",
    "persist",
    "statusThreshold",
    "await",
    "target",
    "throw",
)
_VALID_TYPES = ", ".join(ACTIVITY_TYPES)


class Problems:
    """Collects :class:`ValidationError` instances in the order they are found."""

    def __init__(self) -> None:
        self.errors: list[ValidationError] = []

    def add(
        self,
        reason: str,
        node: Any = None,
        key: Any = None,
        *,
        activity: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        """Record a problem located at ``node[key]`` (or at ``node``)."""
        self.errors.append(
            ValidationError(
                reason,
                file=file or file_of(node),
                line=line if line is not None else line_of(node, key),
                activity=activity,
            )
        )

    def extend(self, error: ValidationError | None) -> None:
        if error is not None:
            self.errors.append(error)

    def raise_if_any(self) -> None:
        """Raise the first problem, listing the others in the message.

        The raised error carries ``file``/``line``/``activity`` of the first
        problem and an ``errors`` attribute with every problem.
        """
        if not self.errors:
            return
        first = self.errors[0]
        reason = first.reason
        if len(self.errors) > 1:
            rest = "\n".join(f"  - {e}" for e in self.errors[1:])
            reason += f"\n{len(self.errors) - 1} more problem(s):\n{rest}"
        combined = ValidationError(
            reason, file=first.file, line=first.line, activity=first.activity
        )
        combined.errors = list(self.errors)  # type: ignore[attr-defined]
        raise combined


def suggest(word: str, choices: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe(value: Any) -> str:
    """A short description of a value's YAML kind for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__  # pragma: no cover - the loader only builds the kinds above


def is_topic(value: Any) -> bool:
    """A usable topic: a non-empty string, or a mapping rule computing one."""
    return (isinstance(value, str) and bool(value.strip())) or isinstance(value, dict)


def rule_problem(
    problems: Problems, rule: Any, path: str, node: Any, key: Any, activity: str | None
) -> None:
    """Record a problem if the mapping rule ``node[key]`` (named ``path``) is malformed."""
    problems.extend(
        check_rule(rule, path, file=file_of(node), line=line_of(node, key), activity=activity)
    )


def version_text(value: Any) -> str | None:
    """``version`` as a string (YAML ``1`` and ``'1'`` mean the same), or None if unusable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def check_header(root: Any, source: str | None) -> tuple[dict[str, Any], str, str, list[Any]]:
    """Check the ``app`` header. These problems are fatal: nothing else can be checked."""
    if not isinstance(root, dict) or "app" not in root:
        raise ValidationError(
            "the document has no top-level 'app:' mapping; an app starts with "
            "'app: {id: myapp, version: \"1\", graphs: [...]}'",
            file=file_of(root, source),
            line=line_of(root),
        )
    app = root["app"]
    if not isinstance(app, dict):
        raise ValidationError(
            f"'app' must be a mapping with id, version and graphs, not {describe(app)}",
            file=file_of(root, source),
            line=line_of(root, "app"),
        )
    where = {"file": file_of(app, source)}

    def at(key: str) -> int | None:
        # A missing key is best reported on the 'app:' line itself.
        return line_of(app, key) if key in app else line_of(root, "app")

    app_id = app.get("id")
    if isinstance(app_id, int) and not isinstance(app_id, bool):
        app_id = str(app_id)
    if not isinstance(app_id, str) or not app_id:
        raise ValidationError(
            "'app.id' is missing or not a string; add an id such as 'id: myapp'",
            line=at("id"),
            **where,
        )
    if not APP_ID_RE.fullmatch(app_id):
        raise ValidationError(
            f"app id {app_id!r} may only contain letters, digits and '-'; rename it",
            line=at("id"),
            **where,
        )
    if app_id == "a":
        raise ValidationError(
            "app id 'a' is reserved (it names the app registry); choose another id",
            line=at("id"),
            **where,
        )
    version = version_text(app.get("version"))
    if version is None:
        raise ValidationError(
            "'app.version' is missing or empty; add a version such as version: '1'",
            line=at("version"),
            **where,
        )
    graphs = app.get("graphs")
    if not isinstance(graphs, list) or not graphs:
        raise ValidationError(
            "'app.graphs' is missing or empty; add a list of graphs, each with "
            "'subscribes' and 'activities'",
            line=at("graphs"),
            **where,
        )
    settings = app.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise ValidationError(
            f"'app.settings' must be a mapping, not {describe(settings)}",
            line=at("settings"),
            **where,
        )
    partitions = app.get("partitions")
    if partitions is not None:
        try:
            check_partitions(partitions)
        except ValueError as exc:
            raise ValidationError(
                f"'app.partitions': {exc}", line=at("partitions"), **where
            ) from None
    return app, app_id, version, graphs


def check_maps(problems: Problems, owner: str, node: dict[str, Any], activity: str | None) -> None:
    """Check the ``<section>.maps`` of an activity: mappings of field -> rule."""
    for section in MAP_SECTIONS:
        if section not in node or node[section] is None:
            continue
        value = node[section]
        if not isinstance(value, dict):
            problems.add(
                f"'{section}' must be a mapping such as '{section}: {{maps: {{field: rule}}}}', "
                f"not {describe(value)}",
                node,
                section,
                activity=activity,
            )
            continue
        if "maps" not in value or value["maps"] is None:
            continue
        maps = value["maps"]
        if not isinstance(maps, dict):
            problems.add(
                f"'{section}.maps' must be a mapping of field names to rules, not {describe(maps)}",
                value,
                "maps",
                activity=activity,
            )
            continue
        for field, rule in maps.items():
            rule_problem(problems, rule, f"{owner}.{section}.maps.{field}", maps, field, activity)


def check_code(value: Any) -> tuple[str, ...] | None:
    """Normalise a status code (number, string or list of them) to strings, or None if bad."""
    items = value if isinstance(value, list) else [value]
    if not items:
        return None
    codes: list[str] = []
    for item in items:
        if isinstance(item, bool):
            return None
        if isinstance(item, int) and item >= 0:
            codes.append(str(item))
        elif isinstance(item, str) and _CODE_RE.fullmatch(item.strip()):
            codes.append(item.strip())
        else:
            return None
    return tuple(codes)


def check_retry(problems: Problems, node: dict[str, Any], aid: str) -> None:
    """``retry`` must look like ``{'500': [3], '404': [2]}``."""
    retry = node["retry"]
    hint = "write it as {'<status code>': [<max retries>]}, for example retry: {'500': [3]}"
    if not isinstance(retry, dict):
        problems.add(f"'retry' must be a mapping; {hint}", node, "retry", activity=aid)
        return
    for code, policy in retry.items():
        if not _CODE_RE.fullmatch(str(code)):
            problems.add(
                f"retry key {code!r} is not a status code; {hint}", retry, code, activity=aid
            )
        elif not (
            isinstance(policy, list)
            and policy
            and isinstance(policy[0], int)
            and not isinstance(policy[0], bool)
            and policy[0] >= 0
        ):
            problems.add(
                f"retry policy for {code!r} must be a list starting with a non-negative "
                f"integer, not {policy!r}; {hint}",
                retry,
                code,
                activity=aid,
            )


def check_activity(problems: Problems, aid: str, node: Any, parent: Any) -> str | None:
    """Check one activity; return its (normalised) type, or None if unusable.

    ``parent`` is the ``activities`` mapping (for the location of a non-mapping).
    """
    if not isinstance(node, dict):
        problems.add(
            f"an activity must be a mapping with at least a 'type', not {describe(node)}",
            parent,
            aid,
            activity=aid,
        )
        return None
    kind = node.get("type")
    if kind is None:
        problems.add(
            f"activity has no 'type'; add one of: {_VALID_TYPES}", parent, aid, activity=aid
        )
        return None
    if kind == "activity":  # legacy name, rewritten by the original compiler too
        kind = "hook"
    if kind not in ACTIVITY_TYPES:
        problems.add(
            f"unknown activity type {kind!r}{suggest(kind, ACTIVITY_TYPES)}; "
            f"valid types are: {_VALID_TYPES}",
            node,
            "type",
            activity=aid,
        )
        return None

    check_maps(problems, aid, node, aid)
    for field in MAPPED_FIELDS:
        if field in node:
            rule_problem(problems, node[field], f"{aid}.{field}", node, field, aid)
    if "stats" in node:
        stats = node["stats"]
        if not isinstance(stats, dict):
            problems.add(
                f"'stats' must be a mapping such as 'stats: {{id: rule}}', not {describe(stats)}",
                node,
                "stats",
                activity=aid,
            )
        else:
            for field in ("id", "key"):
                if field in stats:
                    rule_problem(problems, stats[field], f"{aid}.stats.{field}", stats, field, aid)
    if "retry" in node:
        check_retry(problems, node, aid)

    if kind in ("worker", "await"):
        topic = node.get("subtype") or node.get("topic")
        if not is_topic(topic):
            target = "worker stream" if kind == "worker" else "graph to start (its 'subscribes')"
            problems.add(
                f"a {kind} activity needs a 'topic' naming the {target}, e.g. 'topic: work.do'",
                node,
                "topic" if "topic" in node else "type",
                activity=aid,
            )
    elif kind == "signal":
        if not is_topic(node.get("topic")):
            problems.add(
                "a signal activity needs a 'topic': the hook topic to signal, "
                "e.g. 'topic: hook.resume'",
                node,
                "topic" if "topic" in node else "type",
                activity=aid,
            )
        subtype = node.get("subtype")
        if subtype is not None and subtype not in ("one", "all"):
            problems.add(
                f"signal 'subtype' must be 'one' (signal one job) or 'all' (every job "
                f"indexed under key_name/key_value), not {subtype!r}",
                node,
                "subtype",
                activity=aid,
            )
    elif kind == "cycle":
        if not (isinstance(node.get("ancestor"), str) and node["ancestor"]):
            problems.add(
                "a cycle activity needs 'ancestor': the id of an earlier activity (usually a "
                "hook with 'cycle: true') to re-enter",
                node,
                "ancestor" if "ancestor" in node else "type",
                activity=aid,
            )
        if "job" in node:
            # The original deploys it and never applies it; so do we, and say so.
            where = ValidationError(
                "a cycle activity's 'job' maps are never applied (as in the original): map "
                "the data in the ancestor it re-enters, or in the activity before it",
                file=file_of(node),
                line=line_of(node, "job"),
                activity=aid,
            )
            log.warning("%s", where)
    return kind


def parse_match(
    problems: Problems, owner: dict[str, Any], path: str, activity: str | None
) -> tuple[MatchSpec, ...]:
    """Parse ``owner['match']``: a list of ``{expected, actual}`` mappings."""
    value = owner.get("match")
    if value is None:
        return ()
    hint = "write match: [{expected: <value>, actual: <rule>}, ...]"
    if not isinstance(value, list):
        problems.add(
            f"'match' must be a list, not {describe(value)}; {hint}",
            owner,
            "match",
            activity=activity,
        )
        return ()
    result: list[MatchSpec] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or "expected" not in item or "actual" not in item:
            problems.add(
                f"match entry {index + 1} must be a mapping with both 'expected' and "
                f"'actual'; {hint}",
                value,
                index,
                activity=activity,
            )
            continue
        rule_problem(
            problems,
            item["expected"],
            f"{path}.match[{index}].expected",
            item,
            "expected",
            activity,
        )
        rule_problem(
            problems, item["actual"], f"{path}.match[{index}].actual", item, "actual", activity
        )
        result.append(MatchSpec(expected=item["expected"], actual=item["actual"]))
    return tuple(result)


def parse_transition(
    problems: Problems, source: str, items: list[Any], index: int
) -> TransitionSpec | None:
    """Parse ``items[index]``, one ``{to, conditions?}`` entry leaving ``source``.

    Returns None when the entry is unusable (the problem is recorded). The
    target's existence is checked by the caller, which knows the graph.
    """
    item = items[index]
    if not isinstance(item, dict) or not isinstance(item.get("to"), str) or not item["to"]:
        problems.add(
            "a transition must be a mapping with 'to: <activity id>' (and optional 'conditions')",
            item if isinstance(item, dict) else items,
            "to" if isinstance(item, dict) and "to" in item else index,
            activity=source,
        )
        return None
    target = item["to"]
    conditions = item.get("conditions")
    if conditions is None:
        # No conditions: taken whatever the status code. A `code:` written next
        # to `to:` is ignored, exactly as in HotMesh.
        return TransitionSpec(to=target, unconditional=True)
    path = f"{source}->{target}.conditions"
    if not isinstance(conditions, dict):
        problems.add(
            f"'conditions' must be a mapping with 'code', 'gate' and/or 'match', "
            f"not {describe(conditions)}",
            item,
            "conditions",
            activity=source,
        )
        return None
    code = check_code(conditions.get("code", 200))
    if code is None:
        problems.add(
            f"'conditions.code' must be a status code or a list of them (e.g. 200, '422' or "
            f"[200, 202]), not {conditions.get('code')!r}",
            conditions,
            "code",
            activity=source,
        )
    gate = conditions.get("gate", "and")
    if gate not in ("and", "or"):
        problems.add(
            f"'conditions.gate' must be 'and' (every match holds) or 'or' (any match holds), "
            f"not {gate!r}",
            conditions,
            "gate",
            activity=source,
        )
    match = parse_match(problems, conditions, path, source)
    if code is None or gate not in ("and", "or"):
        return None
    return TransitionSpec(to=target, code=code, unconditional=False, gate=gate, match=match)
