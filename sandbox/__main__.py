"""`python -m sandbox serve|generate`."""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the sandbox host")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5050)
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--heartbeat", type=float, default=30.0, help="WebSocket heartbeat seconds")
    serve.add_argument("--client-id", default="sandbox-client")
    serve.add_argument("--client-secret", default="sandbox-secret")
    serve.add_argument("--panels-url", default="",
                       help="Coachwire's tenant base framed by /sandbox/console, e.g. "
                            "http://127.0.0.1:5000/t/demo")
    gen = commands.add_parser("generate", help="deliver generated conversation events")
    gen.add_argument("--target", default="http://127.0.0.1:5000", help="Coachwire base URL")
    gen.add_argument("--tenant", help="tenant id for /webhooks/<tenant>")
    gen.add_argument("--secret", help="Standard Webhooks secret, whsec_...")
    gen.add_argument("--rate", type=float, default=5.0, help="conversations per second")
    gen.add_argument("--duration", type=float, default=60.0, help="seconds of traffic")
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--batch", type=int, default=1, help="messages per request (<= 500)")
    gen.add_argument("--step", type=float, default=0.2, help="seconds between a call's events")
    gen.add_argument("--start", help="ISO time the first conversation ends (default now)")
    gen.add_argument("--via", choices=["webhook", "websocket"], default="webhook")
    gen.add_argument("--sandbox", help="sandbox URL: register STA data / publish to sockets")
    gen.add_argument("--dry-run", action="store_true", help="print the messages as JSON lines")
    return parser


def _serve(args) -> int:
    from sandbox.app import create_app
    from sandbox.state import Config

    config = Config(client_id=args.client_id, client_secret=args.client_secret,
                    heartbeat_seconds=args.heartbeat, panels_url=args.panels_url)
    app = create_app(seed=args.seed, config=config)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.via == "webhook" and not args.dry_run and not (args.tenant and args.secret):
        print("--tenant and --secret are required for webhook delivery", file=sys.stderr)
        return 2
    if args.via == "websocket" and not args.sandbox:
        print("--sandbox is required with --via websocket", file=sys.stderr)
        return 2
    from sandbox.generate import main as generate

    return generate(args)


if __name__ == "__main__":
    sys.exit(main())
