"""Starlette + an asyncpg pool running plain SQL: the async floor."""

from __future__ import annotations

import asyncio
import typing as t

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from realapps import asyncutil
from realapps import common


def create(url: str) -> t.Any:
    """Return the ASGI app; its pool is opened by the first database request."""
    dsn = asyncutil.asyncpg_dsn(url)
    lock = asyncio.Lock()
    pools: list[asyncpg.Pool] = []

    async def pool() -> asyncpg.Pool:
        if not pools:
            async with lock:
                if not pools:
                    pools.append(
                        await asyncpg.create_pool(
                            dsn, min_size=1, max_size=asyncutil.POOL_SIZE
                        )
                    )
        return pools[0]

    async def json_view(request: Request) -> JSONResponse:
        return JSONResponse({"message": common.HELLO})

    async def plaintext(request: Request) -> PlainTextResponse:
        return PlainTextResponse(common.HELLO)

    async def single(request: Request) -> JSONResponse:
        async with (await pool()).acquire() as conn:
            row = await conn.fetchrow(common.SQL_WORLD, common.random_id())
        return JSONResponse({"id": row[0], "randomNumber": row[1]})

    async def multiple(request: Request) -> JSONResponse:
        count = common.query_count(request.query_params.get("queries"))
        async with (await pool()).acquire() as conn:
            statement = await conn.prepare(common.SQL_WORLD)
            rows = [await statement.fetchrow(common.random_id()) for _ in range(count)]
        return JSONResponse([{"id": r[0], "randomNumber": r[1]} for r in rows])

    async def fortunes(request: Request) -> HTMLResponse:
        async with (await pool()).acquire() as conn:
            rows = await conn.fetch(common.SQL_FORTUNES)
        data = common.sorted_fortunes((r[0], r[1]) for r in rows)
        return HTMLResponse(
            asyncutil.fortunes_template.render(
                fortunes=[{"id": i, "message": m} for i, m in data]
            )
        )

    async def updates(request: Request) -> JSONResponse:
        count = common.query_count(request.query_params.get("queries"))
        ids = sorted(common.random_id() for _ in range(count))
        async with (await pool()).acquire() as conn:
            statement = await conn.prepare(common.SQL_WORLD)
            worlds = []
            for i in ids:
                row = await statement.fetchrow(i)
                worlds.append({"id": row[0], "randomNumber": common.random_id()})
            await conn.executemany(
                common.SQL_UPDATE, [(w["id"], w["randomNumber"]) for w in worlds]
            )
        return JSONResponse(worlds)

    return Starlette(
        routes=[
            Route("/json", json_view),
            Route("/plaintext", plaintext),
            Route("/db", single),
            Route("/queries", multiple),
            Route("/fortunes", fortunes),
            Route("/updates", updates),
        ]
    )
