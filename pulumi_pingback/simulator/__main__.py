"""``pingback-simulator`` / ``python -m pulumi_pingback.simulator``."""

from __future__ import annotations

import argparse
import asyncio
import errno
import sys
from typing import Any

MISSING_EXTRA = (
    "pingback-simulator needs the simulator extra: pip install 'pulumi-pingback[simulator]'"
)


def _parser(plans: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pingback-simulator",
        description="A local PingBack channels API (control surface under /_sim/, for tests).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    parser.add_argument("--port", type=int, default=8787, help="the port to listen on")
    parser.add_argument("--token", default="sim-token", help="the owner's API token it accepts")
    parser.add_argument(
        "--agent-token", default=None, help="a non-owner member's token (answered 403)"
    )
    parser.add_argument("--plan", choices=plans, default="pro", help="the business's plan")
    parser.add_argument(
        "--public-url",
        default=None,
        help="the address clients reach it at, for Meta callback URLs (default: http://HOST:PORT)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no line per request (the banner and errors only)"
    )
    return parser


def _log_line(entry: dict[str, Any], seconds: float) -> None:
    fault = f"  [fault: {entry['fault']}]" if entry.get("fault") else ""
    print(
        f"{entry['method']:6} {entry['path']} -> {entry['status']} "
        f"({seconds * 1000:.0f} ms){fault}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    try:
        from aiohttp import web

        from ._app import PLANS, SimState, create_app
    except ModuleNotFoundError:
        print(MISSING_EXTRA, file=sys.stderr)
        sys.exit(2)
    args = _parser(sorted(PLANS)).parse_args(argv)
    url = f"http://{args.host}:{args.port}"
    state = SimState(
        token=args.token,
        agent_token=args.agent_token,
        plan=args.plan,
        public_url=args.public_url or url,
        on_request=None if args.quiet else _log_line,
    )

    async def serve() -> None:
        runner = web.AppRunner(create_app(state), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, args.host, args.port).start()
        except OSError as exc:
            await runner.cleanup()
            why = (
                "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            )
            print(
                f"pingback-simulator: {args.host}:{args.port} {why}; pick another with --port",
                file=sys.stderr,
            )
            sys.exit(1)
        print(
            f"PingBack simulator on {url} (plan {args.plan}); owner token: {args.token}\n"
            f"  export PINGBACK_API_URL={url} PINGBACK_TOKEN={args.token}\n"
            f"  pulumi config set pingback:apiUrl {url} && "
            f"pulumi config set --secret pingback:token {args.token}",
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
