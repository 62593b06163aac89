"""Workflows whose recorded histories are kept as golden files beside this module."""

from __future__ import annotations

import asyncio

from hotmesh_nb.meshflow import workflow


def double(n: int) -> int:
    return n * 2


def add(a: int, b: int) -> int:
    return a + b


acts = workflow.proxy_activities(activities=[double, add])


async def golden_order(n: int) -> dict:
    """Three kinds of durable calls, a gather, and a deterministic random number."""
    doubled = await acts.double(n)
    await workflow.sleep_for(0.1)
    pair = await asyncio.gather(acts.add(doubled, 1), acts.add(doubled, 2))
    lucky = await workflow.random()
    return {"doubled": doubled, "pair": pair, "lucky": lucky}


async def golden_order_changed(n: int) -> dict:
    """The same workflow after an incompatible edit: the first call changed."""
    doubled = await acts.add(n, 100)
    await workflow.sleep_for(0.1)
    pair = await asyncio.gather(acts.add(doubled, 1), acts.add(doubled, 2))
    lucky = await workflow.random()
    return {"doubled": doubled, "pair": pair, "lucky": lucky}


async def golden_order_patched(n: int) -> dict:
    """The same edit made safely: old histories keep the old path."""
    if await workflow.patched("add_instead"):
        doubled = await acts.add(n, 100)
    else:
        doubled = await acts.double(n)
    await workflow.sleep_for(0.1)
    pair = await asyncio.gather(acts.add(doubled, 1), acts.add(doubled, 2))
    lucky = await workflow.random()
    return {"doubled": doubled, "pair": pair, "lucky": lucky}
