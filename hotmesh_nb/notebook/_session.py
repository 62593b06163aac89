"""What the ``%hotmesh`` magics remember between cells: the server, the namespace, the apps.

Re-running a cell never starts a second engine or worker: :meth:`Session.mesh`
goes through :meth:`HotMesh.init`, which returns the services this process
already runs for the same server, namespace and app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from ..connection import connect, mask_url
from ..errors import JobNotFoundError
from ..keys import DEFAULT_NAMESPACE, Keys, check_namespace
from ..runtime import get_runtime
from . import _notebook_api as api
from . import _probe as probe

if TYPE_CHECKING:
    from ..hotmesh import HotMesh


RECENT_JOBS = 20
"""Job ids the session remembers for tab completion."""


class Session:
    """The magics' current connection and the apps and job they last touched."""

    def __init__(self) -> None:
        self.url: str | None = None
        """The resolved server URL (None until first needed)."""
        self.namespace: str = DEFAULT_NAMESPACE
        """The namespace every app of the session lives in."""
        self.apps: list[str] = []
        """Apps used through the magics, oldest first."""
        self.last_app: str | None = None
        """The app the last command used (the default when a command names none)."""
        self.last_job: str | None = None
        """The job the last ``pub``/``run`` started."""
        self.recent_jobs: list[str] = []
        """Jobs started from the magics, oldest first (at most :data:`RECENT_JOBS`)."""

    def remember_job(self, job_id: str | None) -> None:
        """Make ``job_id`` the default of ``%hotmesh job`` (and a completion candidate)."""
        if not job_id:
            return
        self.last_job = job_id
        if job_id in self.recent_jobs:
            self.recent_jobs.remove(job_id)
        self.recent_jobs.append(job_id)
        del self.recent_jobs[:-RECENT_JOBS]

    def connect(self, url: str | None = None, namespace: str | None = None) -> str:
        """Use ``url`` (None: environment or embedded server) and ``namespace``; returns a
        one-line description with the password masked."""
        if namespace is not None:
            try:
                check_namespace(namespace)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        conn = connect(url)  # raises ConnectError, naming the URL, when unreachable
        if conn.url != self.url or (namespace or self.namespace) != self.namespace:
            self.apps.clear()
            self.recent_jobs.clear()
            self.last_app = self.last_job = None
        self.url = conn.url
        self.namespace = namespace or self.namespace
        return f"connected to {mask_url(conn.url)} (namespace '{self.namespace}')"

    def resolved_url(self) -> str:
        """The session's server URL, resolving the default on first use."""
        if self.url is None:
            self.url = connect(None).url
        return self.url

    def mesh(self, app_id: str, *, deploying: bool = False) -> HotMesh:
        """The HotMesh of ``app_id`` in the session's namespace (started once per process).

        Unless ``deploying``, the app must have been deployed: naming an unknown app
        is a usage error, not a reason to start an engine for it.
        """
        from ..hotmesh import HotMesh

        try:
            keys = Keys(self.namespace, app_id)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        url = self.resolved_url()
        if not deploying and not get_runtime().run(api.is_deployed(url, keys), name="deployed"):
            known = ", ".join(self.known_apps()) or "none"
            raise UsageError(
                f"app '{app_id}' is not deployed in namespace '{self.namespace}' (known: {known}); "
                "deploy it first (%%hotmesh deploy or %hotmesh deploy PATH)"
            )
        hm = HotMesh.init(app_id, connection=url, namespace=self.namespace)
        if app_id not in self.apps:
            self.apps.append(app_id)
        self.last_app = app_id
        return hm

    def known_apps(self) -> list[str]:
        """Apps of the session plus those this process runs engines for on the same server
        and namespace (for example a worker cell's ``HotMesh.init``)."""
        url = self.resolved_url()
        local = [
            m.app_id
            for m in probe.local_meshes()
            if m.connection.url == url and m.namespace == self.namespace
        ]
        return list(dict.fromkeys([*self.apps, *local]))

    def app(self, app_id: str | None, usage: str) -> str:
        """``app_id``, else the last app used, else the only app known; else a usage error."""
        if app_id:
            return app_id
        if self.last_app:
            return self.last_app
        known = self.known_apps()
        if len(known) == 1:
            return known[0]
        hint = f" (known: {', '.join(known)})" if known else ""
        raise UsageError(f"name the app{hint}\nusage: %hotmesh {usage}")

    def server_apps(self) -> list[api.AppInfo]:
        """The apps deployed in the session's namespace, read from the server."""
        return get_runtime().run(
            api.server_apps(self.resolved_url(), self.namespace), name="server_apps"
        )

    def mesh_for_topic(self, topic: str, app_id: str | None, usage: str) -> HotMesh:
        """The HotMesh of the app whose active version subscribes to ``topic``.

        Found on the server, so a fresh kernel needs no ``--app``; when several
        apps subscribe to the topic, a usage error lists them.
        """
        if app_id:
            return self.mesh(app_id)
        apps = self.server_apps()
        candidates = [info.app for info in apps if topic in info.topics]
        if len(candidates) > 1 and self.last_app in candidates:
            candidates = [self.last_app]  # the app the session works with wins
        if len(candidates) == 1:
            return self.mesh(candidates[0])
        if candidates:
            raise UsageError(
                f"several apps of namespace '{self.namespace}' subscribe to '{topic}': "
                f"{', '.join(candidates)}; choose one with --app\nusage: %hotmesh {usage}"
            )
        known = "; ".join(f"{i.app}: {', '.join(i.topics) or 'no topics'}" for i in apps)
        raise UsageError(
            f"no deployed app of namespace '{self.namespace}' subscribes to '{topic}' "
            f"({known or 'no app is deployed'}); deploy and activate one, or pass --app\n"
            f"usage: %hotmesh {usage}"
        )

    def mesh_for_job(self, job_id: str, app_id: str | None) -> HotMesh:
        """The HotMesh of the app that holds job ``job_id``."""
        if app_id:
            return self.mesh(app_id)
        candidates = dict.fromkeys([*self.known_apps(), *(i.app for i in self.server_apps())])
        for candidate in candidates:
            try:
                hm = self.mesh(candidate)
            except UsageError:
                continue
            if get_runtime().run(api.job_exists(hm, job_id), name="job_exists"):
                return hm
        raise JobNotFoundError(job_id)
