"""``pingback-simulator`` / ``python -m pulumi_pingback.simulator``."""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

if TYPE_CHECKING:
    from ._state import SimState

MISSING_EXTRA = (
    "pingback-simulator needs the simulator extra: pip install 'pulumi-pingback[simulator]'"
)
PROG = "pingback-simulator"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, naming the option (argparse's usage block says nothing more)."""
        self.exit(2, f"{PROG}: error: {message} (see --help)\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port: give 0 to 65535 (0: any free port)"
        )
    return port


class _Seed(NamedTuple):
    path: str
    data: Any
    """The file's JSON, checked when it is planted (see ``_plant_seed``)."""


def _seed(text: str) -> _Seed:
    """A JSON file, which should hold a list of channel objects as PingBack lists them."""
    try:
        return _Seed(text, json.loads(Path(text).read_text()))
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text}: {exc.strerror}") from None
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text} is not JSON ({exc})") from None


def _plant_seed(state: SimState, seed: _Seed, parser: argparse.ArgumentParser) -> int:
    """Plant each channel of ``--seed FILE`` as ``POST /_sim/channels`` does; how many.
    Anything ``SimState.plant`` refuses is the option's one-line error (exit 2)."""
    if isinstance(seed.data, list):
        try:
            for item in seed.data:
                state.plant(item)
            return len(seed.data)
        except ValueError:
            pass
    parser.error(
        f"argument --seed: {seed.path} must hold a JSON list of channel objects, "
        "each with a string id"
    )


def _parser(plans: list[str]) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="A local PingBack channels API (control surface under /_sim/, for tests).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8787,
        help="the port to listen on; 0 picks a free one, shown in the banner (default: 8787)",
    )
    parser.add_argument(
        "--token", default="sim-token", help="the owner's API token it accepts (default: sim-token)"
    )
    parser.add_argument(
        "--agent-token",
        default=None,
        help="a non-owner member's token, answered 403 (default: none)",
    )
    parser.add_argument(
        "--plan", choices=plans, default="pro", help="the business's plan (default: pro)"
    )
    parser.add_argument(
        "--public-url",
        default=None,
        help="the address clients reach it at, for Meta callback URLs (default: http://HOST:PORT)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=None,
        metavar="FILE",
        help="start with these channels: a JSON list of channel objects as PingBack lists "
        "them (e.g. examples/adopt-existing/sample-business.json)",
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


def _bind_error(host: str, port: int, exc: OSError) -> tuple[int, str]:
    """The exit code and the one line for a listen that failed."""
    if isinstance(exc, socket.gaierror):
        return 2, f"{PROG}: error: --host {host}: no such address ({exc.strerror})"
    if exc.errno == errno.EADDRNOTAVAIL:
        return 2, f"{PROG}: error: --host {host} is not an address of this machine"
    if exc.errno == errno.EADDRINUSE:
        return 1, f"{PROG}: {host}:{port} is in use; pick another with --port"
    return 1, f"{PROG}: {host}:{port} cannot be used ({exc.strerror}); pick another with --port"


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def main(argv: list[str] | None = None) -> None:
    try:
        from aiohttp import web

        from ._app import PLANS, SimState, create_app
    except ModuleNotFoundError:
        print(MISSING_EXTRA, file=sys.stderr)
        sys.exit(2)
    parser = _parser(sorted(PLANS))
    args = parser.parse_args(argv)
    state = SimState(
        token=args.token,
        agent_token=args.agent_token,
        plan=args.plan,
        public_url=args.public_url,
        on_request=None if args.quiet else _log_line,
    )
    seeded = _plant_seed(state, args.seed, parser) if args.seed is not None else 0

    async def serve() -> None:
        runner = web.AppRunner(create_app(state), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, args.host, args.port).start()
        except OSError as exc:
            await runner.cleanup()
            code, line = _bind_error(args.host, args.port, exc)
            print(line, file=sys.stderr)
            sys.exit(code)
        # the port it got (--port 0: the one the system picked)
        url = _url(args.host, int(runner.addresses[0][1]))
        state.public_url = args.public_url or url
        print(
            f"PingBack simulator on {url} (plan {args.plan}); owner token: {args.token}"
            + (f"; {seeded} channels from --seed" if seeded else "")
            + "\n"
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
