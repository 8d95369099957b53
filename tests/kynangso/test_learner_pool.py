"""The learner app's kernel pool (kynangso.learner.pool) on a real kernel manager and kernels."""

from __future__ import annotations

import asyncio
import os

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from kynangso.learner.pool import WARM_UP, KernelPool


async def value_in(km, kernel_id: str, expression: str) -> str:
    client = km.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=300)
        out = []
        await client.execute_interactive(
            f"print({expression})", timeout=300,
            output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
        return "".join(out).strip()
    finally:
        client.stop_channels()


def test_a_voila_page_gets_the_waiting_kernel_in_its_folder_with_its_environment(tmp_path):
    """Does Voilà's start take the kernel started ahead (imports done), moved to the notebook's
    folder with Voilà's variables, while other starts get a kernel of their own?"""
    lesson_dir = tmp_path / "KhoaHoc" / "bai"
    lesson_dir.mkdir(parents=True)

    async def scenario():
        km = AsyncMappingKernelManager(root_dir=str(tmp_path), connection_dir=str(tmp_path))
        pool = KernelPool(km, warm_up="import json\nWARMED = 1\n")
        km.start_kernel = pool.start_kernel
        pool.refill()
        try:
            waiting = await asyncio.wait_for(asyncio.shield(pool.waiting), 300)
            env = {**os.environ, "VOILA_REQUEST_URL": "http://x/voila/render/KhoaHoc/bai/a.ipynb"}
            got = await km.start_kernel(kernel_name="python3", path="KhoaHoc/bai", env=env)
            assert got == waiting
            assert await value_in(km, got, "WARMED") == "1"  # the warm-up ran there
            assert await value_in(km, got, "__import__('os').getcwd()") == str(lesson_dir)
            url = await value_in(km, got, "__import__('os').environ['VOILA_REQUEST_URL']")
            assert url.endswith("a.ipynb")
            other = await km.start_kernel(kernel_name="python3")  # not Voilà's: a fresh kernel
            assert other != got
            # The next one is started a little later, and a page asking meanwhile waits for it.
            while pool.waiting is None:
                await asyncio.sleep(0.2)
            second = await km.start_kernel(kernel_name="python3", path="KhoaHoc/bai", env=env)
            assert second not in (got, other) and await value_in(km, second, "WARMED") == "1"
        finally:
            await km.shutdown_all(now=True)

    asyncio.run(scenario())


def test_the_warm_up_is_valid_python():
    """Does the lessons' warm-up at least compile (it runs in every learner's first kernel)?"""
    compile(WARM_UP, "warm-up", "exec")
