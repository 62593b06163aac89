"""The engine's Lua scripts (``engine/lua/``), loaded once per server and called by SHA."""

from __future__ import annotations

from .._lua import LuaScript

STEP = LuaScript("step", package=__package__)
"""Apply one engine step (see ``lua/step.lua``)."""

TRIM = LuaScript("trim", package=__package__, allow_oom=True)
"""Remove acknowledged entries from a stream (see ``lua/trim.lua``)."""

INTERRUPT = LuaScript("interrupt", package=__package__)
"""End a job at once (see ``lua/interrupt.lua``)."""

FIRE = LuaScript("fire", package=__package__)
"""Move due timers to the engine stream (see ``lua/fire.lua``)."""

RENEW = LuaScript("renew", package=__package__, allow_oom=True)
"""Extend or hand back a consumer's claims on the messages it holds (see ``lua/renew.lua``)."""

UNLEASE = LuaScript("unlease", package=__package__)
"""Move local work whose lease fell due onto its stream (see ``lua/unlease.lua``)."""
