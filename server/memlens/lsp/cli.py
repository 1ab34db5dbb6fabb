"""`memlens serve`: the language server over stdio (default) or TCP (`--tcp HOST:PORT`)."""

from __future__ import annotations

import argparse
import logging
import sys


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="memlens serve",
                                     description="Run the memlens language server.")
    parser.add_argument("--stdio", action="store_true", help="speak LSP over stdio (default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on HOST:PORT instead "
                        "(for debugging)")
    parser.add_argument("--log-file", metavar="PATH", help="write the server's log there")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-v info, -vv debug)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    handler = logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(
        sys.stderr)
    logging.basicConfig(level=level, handlers=[handler],
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if level > logging.DEBUG:
        logging.getLogger("pygls").setLevel(logging.ERROR)  # pygls logs every message at INFO

    if not args.tcp:
        from memlens.lsp.bootstrap import serve_stdio

        return serve_stdio()  # answers initialize before loading pygls, then runs the server

    from memlens.lsp.server import create_server

    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print(f"memlens serve: --tcp wants HOST:PORT, got {args.tcp!r}", file=sys.stderr)
            return 2
        server.start_tcp(host or "127.0.0.1", int(port))
    return 0
