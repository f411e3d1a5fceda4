"""``pingback-simulator`` / ``python -m pulumi_pingback.simulator``."""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiohttp import web

from ._app import PLANS, SimState, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="pingback-simulator",
        description="A local PingBack channels API on 127.0.0.1 (control surface under /_sim/).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--token", default="sim-token", help="the owner's API token it accepts")
    parser.add_argument(
        "--agent-token", default=None, help="a non-owner member's token (answered 403)"
    )
    parser.add_argument("--plan", choices=sorted(PLANS), default="pro")
    args = parser.parse_args(argv)
    state = SimState(token=args.token, agent_token=args.agent_token, plan=args.plan)

    async def serve() -> None:
        runner = web.AppRunner(create_app(state), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        print(
            f"PingBack simulator on http://{args.host}:{args.port} "
            f"(plan {args.plan}; owner token from --token)",
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
