"""The command line: `python -m gql serve | seed-demo | export-schema | release-schema | check |
repair | export | import | token | bench | fetch-graphiql | register-queries` (the `kvgraph`
console script is the same)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gql.web.settings import Settings, config_errors

if TYPE_CHECKING:
    from gql.commands.check import Options

Command = Callable[[Settings, argparse.Namespace], int]


def _store_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store-url", help="sqlite:///path.db or postgresql://... (KVGRAPH_STORE_URL)"
    )
    parser.add_argument("--kv-table", help="KV table name (KVGRAPH_KV_TABLE, default kv_store)")
    parser.add_argument("--mapping-file", help="the app's names, TOML (KVGRAPH_MAPPING_FILE)")


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return number


def _format_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=["jsonl", "csv"], help="jsonl or csv (default: csv for *.csv)"
    )


def _cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from gql.commands.serve import serve_command

    return serve_command(settings)


def _cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from gql.commands.demo import seed_demo_command

    return asyncio.run(seed_demo_command(settings, force=args.force))


def _cmd_export_schema(settings: Settings, args: argparse.Namespace) -> int:
    from gql.schema.build import export_schema

    export_schema(args.output)
    print(f"wrote {args.output}")
    return 0


def _cmd_release_schema(settings: Settings, args: argparse.Namespace) -> int:
    from gql.commands.release_schema import release_schema_command

    return release_schema_command(args.output, args.version, args.source)


def _check_options(args: argparse.Namespace, *, repair: bool) -> Options:
    from gql.commands.check import EXAMPLES, Options

    limit = None if args.all else (EXAMPLES if args.limit is None else args.limit)
    return Options(
        repair=repair,
        apply=getattr(args, "apply", False),
        delete_orphans=getattr(args, "delete_orphans", False),
        limit=limit,
        json=args.json,
    )


def _cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    if args.shapes:
        from gql.commands.shapes import shapes_command

        return asyncio.run(shapes_command(settings, as_json=args.json))
    from gql.commands.check import check_command

    return asyncio.run(check_command(settings, _check_options(args, repair=False)))


def _cmd_repair(settings: Settings, args: argparse.Namespace) -> int:
    from gql.commands.check import check_command

    return asyncio.run(check_command(settings, _check_options(args, repair=True)))


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _report_flags(parser: argparse.ArgumentParser) -> None:
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--all", action="store_true", help="list every finding (default: 20)")
    shown.add_argument(
        "--limit", type=_non_negative, metavar="N", help="list at most N findings of each kind"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report for scripts")


def _cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from gql.commands.transfer import export_main

    return export_main(settings, args.output, args.format)


def _cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from gql.commands.transfer import import_main

    return import_main(settings, args.file, args.format, args.batch)


def _cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from gql.web.auth import mint_token

    secret = settings.secret()
    if secret is None:
        print("no JWT secret: set KVGRAPH_JWT_SECRET (or pass --dev)", file=sys.stderr)
        return 2
    if settings.dev:
        print("signed with the dev secret: only `serve --dev` accepts it", file=sys.stderr)
    audience = settings.jwt_audience
    print(mint_token(secret, args.user, hours=args.hours, audience=audience, role=args.role))
    return 0


def _cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from gql.commands.bench import bench_command

    return asyncio.run(bench_command(args))


def _cmd_fetch_graphiql(settings: Settings, args: argparse.Namespace) -> int:
    from gql.commands.fetch_graphiql import fetch_command

    return asyncio.run(fetch_command(args.dest))


def _cmd_register_queries(settings: Settings, args: argparse.Namespace) -> int:
    from gql.commands.register_queries import register_command
    from gql.schema.build import build_schema

    schema = build_schema()._schema
    return register_command(args.paths, args.output, schema, add_typename=args.add_typename)


def build_parser() -> argparse.ArgumentParser:
    """Describe every subcommand and its flags."""
    parser = argparse.ArgumentParser(prog="kvgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the GraphQL server")
    _store_flags(serve)
    serve.add_argument("--host", help="bind address (KVGRAPH_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (KVGRAPH_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="server processes (KVGRAPH_WORKERS, default 1)")
    serve.add_argument(
        "--dev",
        action="store_true",
        default=None,
        help="local development: dev secret, demo data, introspection, a demo token "
        "(refused when a real secret or JWKS is configured)",
    )
    serve.add_argument(
        "--debug-stats",
        action="store_true",
        default=None,
        help="add extensions.kv = {batches, keys} to every response",
    )
    serve.add_argument(
        "--insecure-no-auth",
        action="store_true",
        default=None,
        help="start without any key: every request is anonymous "
        "(refused when a real secret or JWKS is configured)",
    )
    serve.add_argument(
        "--allow-rls",
        action="store_true",
        default=None,
        help="serve although row-level security filters the table (KVGRAPH_ALLOW_RLS)",
    )
    serve.set_defaults(run=_cmd_serve)

    seed = sub.add_parser("seed-demo", help="write realistic demo data into the store")
    _store_flags(seed)
    seed.add_argument("--force", action="store_true", help="seed even if the store has data")
    seed.set_defaults(run=_cmd_seed_demo)

    export = sub.add_parser("export-schema", help="write the sorted SDL")
    export.add_argument("--output", default="schema.graphql")
    export.set_defaults(run=_cmd_export_schema)

    release = sub.add_parser(
        "release-schema", help="record the current schema as the last release's (CI diffs it)"
    )
    release.add_argument("--output", default="tests/schema/released.graphql")
    release.add_argument("--version", help="the release (default: kvgraph's own version)")
    release.add_argument("--source", help="its git tag (default: v<version>)")
    release.set_defaults(run=_cmd_release_schema)

    check = sub.add_parser("check", help="report index/entity inconsistencies (exit 1 if any)")
    _store_flags(check)
    _report_flags(check)
    check.add_argument(
        "--shapes",
        action="store_true",
        help="describe field names, types and values per key pattern; propose a mapping",
    )
    check.set_defaults(run=_cmd_check)

    repair = sub.add_parser("repair", help="fix what check reports (dry run unless --apply)")
    _store_flags(repair)
    repair.add_argument("--apply", action="store_true", help="write the fixes")
    repair.add_argument(
        "--delete-orphans",
        action="store_true",
        help="also delete orphans: children whose parent (trip, conversation) is missing",
    )
    _report_flags(repair)
    repair.set_defaults(run=_cmd_repair)

    dump = sub.add_parser("export", help="write the table as JSON lines or Supabase's CSV")
    _store_flags(dump)
    dump.add_argument("--output", "-o", default="-", help="file (default: standard output)")
    _format_flag(dump)
    dump.set_defaults(run=_cmd_export)

    load = sub.add_parser("import", help="write an export file into the table and verify it")
    _store_flags(load)
    load.add_argument("file", help="a file from export, or a Supabase dashboard CSV")
    _format_flag(load)
    load.add_argument("--batch", type=_positive, default=500, help="rows per transaction (500)")
    load.set_defaults(run=_cmd_import)

    token = sub.add_parser("token", help="print a bearer token (HS256) for a user id")
    token.add_argument("--user", required=True, help="the user id (JWT sub)")
    token.add_argument("--hours", type=float, default=24.0, help="lifetime (default 24)")
    token.add_argument(
        "--role",
        default="authenticated",
        help="the token's role (default authenticated; service_role: server-side code)",
    )
    token.add_argument(
        "--dev", action="store_true", default=None, help="sign with the dev secret (serve --dev)"
    )
    token.set_defaults(run=_cmd_token)

    bench = sub.add_parser("bench", help="time the trip-board query three ways")
    bench.add_argument("--trips", type=int, default=50)
    bench.add_argument("--items", type=int, default=40, help="items per trip")
    bench.add_argument("--places", type=int, default=200)
    bench.add_argument("--requests", type=int, default=30, help="timed runs per way")
    bench.add_argument("--store-url", help="store to seed (default: a temporary SQLite file)")
    bench.add_argument(
        "--postgres-url", help="also time the board on this Postgres (its table must be empty)"
    )
    bench.add_argument("--kv-table", help="KV table name (default kv_store)")
    bench.add_argument(
        "--small-seconds",
        type=float,
        default=3.0,
        help="seconds per round of the small query beside the bare handler (0: skip it)",
    )
    bench.add_argument(
        "--scale",
        action="store_true",
        help="also time the board at 2,000 and 10,000 items on SQLite and on --postgres-url "
        "(time against rows)",
    )
    bench.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing, show where the server's time goes, by stage (cProfile)",
    )
    bench.set_defaults(run=_cmd_bench)

    fetch = sub.add_parser(
        "fetch-graphiql", help="refresh GraphiQL's pinned files from npm (sha384-verified)"
    )
    fetch.add_argument(
        "--dest", help="another folder to fill (default: the copies packaged with kvgraph)"
    )
    fetch.set_defaults(run=_cmd_fetch_graphiql)

    register = sub.add_parser(
        "register-queries",
        help="write the persisted-query registry (allow-list) from .graphql files",
    )
    register.add_argument("paths", nargs="+", help=".graphql/.gql files or folders of them")
    register.add_argument(
        "--output",
        default="persisted-queries.json",
        help="registry file (default persisted-queries.json; KVGRAPH_PERSISTED_QUERIES_FILE)",
    )
    register.add_argument(
        "--add-typename",
        action="store_true",
        help="add __typename to selection sets as Apollo Client's cache does",
    )
    register.set_defaults(run=_cmd_register_queries)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, overridden by the flags that were given; the dev flags
    come from here only (the environment cannot set them)."""
    names = (
        "store_url",
        "kv_table",
        "mapping_file",
        "host",
        "port",
        "workers",
        "dev",
        "debug_stats",
        "insecure_no_auth",
        "allow_rls",
    )
    given: dict[str, Any] = {
        name: getattr(args, name) for name in names if getattr(args, name, None) is not None
    }
    return Settings(**given)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        for line in config_errors(exc):
            print(f"kvgraph: invalid configuration: {line}", file=sys.stderr)
        return 2
    result: int = args.run(settings, args)
    return result
