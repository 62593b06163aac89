"""A real Jupyter kernel driven through jupyter_client, as a notebook frontend drives it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Reply:
    """What one cell sent to the frontend."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    """``stream``, ``display_data``, ``update_display_data``, ``execute_result`` and ``error``
    contents (with their ``msg_type``), in order."""
    error: dict[str, Any] | None = None
    """The ``error`` content (``ename``, ``evalue``, ``traceback``), if the cell failed."""

    @property
    def traceback_lines(self) -> list[str]:
        """The error as the user sees it: one string per line, colours removed."""
        if self.error is None:
            return []
        return _ANSI.sub("", "\n".join(self.error["traceback"])).splitlines()

    @property
    def text(self) -> str:
        """Every plain-text output joined (streams and results)."""
        parts = []
        for output in self.outputs:
            if "text" in output:
                parts.append(output["text"])
            elif "data" in output:
                parts.append(output["data"].get("text/plain", ""))
        return "\n".join(parts)


class Kernel:
    """An ipykernel in its own process; :meth:`run` executes a cell and collects its outputs."""

    def __init__(self) -> None:
        self.manager: KernelManager
        self.client: BlockingKernelClient
        self.manager, self.client = start_new_kernel(kernel_name="python3")

    def start(self, code: str) -> str:
        """Send a cell without waiting; returns its message id (see :meth:`collect`)."""
        return self.client.execute(code)

    def collect(self, msg_id: str, timeout: float = 60.0) -> Reply:
        """The outputs of the cell ``msg_id``, once the kernel is idle again."""
        reply = Reply()
        while True:
            message = self.client.get_iopub_msg(timeout=timeout)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "status" and content["execution_state"] == "idle":
                return reply
            if kind in ("stream", "display_data", "update_display_data", "execute_result", "error"):
                reply.outputs.append({**content, "msg_type": kind})
            if kind == "error":
                reply.error = content

    def run(self, code: str, timeout: float = 60.0) -> Reply:
        """Execute ``code`` and return what it showed."""
        return self.collect(self.start(code), timeout)

    def interrupt(self) -> None:
        """Interrupt the running cell (the notebook's stop button)."""
        self.manager.interrupt_kernel()

    def close(self) -> None:
        """Shut the kernel down."""
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
