"""``gamma``: the command line over the engine.

    gamma demo [--out DIR]                  copy the demo workbook to DIR and refresh it there
    gamma refresh WORKBOOK [--asof DATE]    refresh every engine sheet in place
    gamma check WORKBOOK [--asof DATE]      validate the inputs only
    gamma factsheet WORKBOOK --out DIR      one PDF fact sheet per strategy
    gamma report WORKBOOK --out FILE.pdf    the Macro Intelligence Report (--out DIR, or
                                            none: Macro-Intelligence-Report-<yyyy-mm>.pdf)
    gamma fetch WORKBOOK                    download the Settings' Fetch rows into Downloads
    gamma --version                         the version and the hash of the model code

Every command takes ``-v`` (the engine's log on stderr: ``-v`` INFO, ``-vv`` DEBUG) and
``--log FILE`` (the whole log, DEBUG and tracebacks included, appended to FILE), through the
standard :mod:`logging` module, logger ``"gamma"``.

Exit codes: 0 done; 1 done, but some instruments failed (named); 2 refused, nothing written;
64 usage error (unknown option, missing argument); 130 interrupted (Ctrl-C), nothing written.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_PARTIAL, EXIT_REFUSED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 64, 130
log = logging.getLogger("gamma")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error, the code DESIGN.md keeps for "refused": 64 here
    (EX_USAGE), so a script can tell a mistyped command from a refused workbook."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


class Progress:
    """Elapsed-time progress lines on stderr (quiet when ``quiet``)."""

    def __init__(self, quiet: bool = False):
        self.t0 = time.perf_counter()
        self.quiet = quiet

    def __call__(self, msg: str) -> None:
        log.info(msg, extra={"progress": True})  # in --log FILE; on stderr it is printed below
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def demo_workbook() -> Path:
    """The committed demo workbook (``workbooks/demo.xlsx``)."""
    here = Path(__file__).resolve().parent.parent / "workbooks" / "demo.xlsx"
    if here.exists():
        return here
    from importlib.resources import files
    return Path(str(files("workbooks") / "demo.xlsx"))


def _print_result(res, out=None) -> None:
    out = out or sys.stdout  # looked up now: a default bound at import misses a redirect
    print(f"Refreshed {res.path} as of {res.asof:%Y-%m-%d}", file=out)
    print(f"  sheets written: {', '.join(res.sheets)}", file=out)
    if res.backup:
        print(f"  previous version kept as {res.backup}", file=out)
    for w in res.warnings:
        print(f"  {w}", file=out)
    for code, reason in res.failures.items():
        print(f"  FAILED {code}: {reason}", file=out)
    print(f"  took {res.seconds.get('total', 0):.1f} s", file=out)


def cmd_refresh(args) -> int:
    from engine.refresh import Refused, refresh
    try:
        res = refresh(args.workbook, asof=args.asof, progress=Progress(args.quiet))
    except Refused as e:
        print(f"gamma refresh: refused: {e}", file=sys.stderr)
        return EXIT_REFUSED
    except Exception as e:  # a bug: the workbook is only replaced as the very last step
        return _internal_error("refresh", e, "nothing written")
    _print_result(res)
    return res.exit_code


def _validated(args, cmd: str):
    """The workbook's validated data, or None after printing why it was refused."""
    from engine.refresh import Refused, check
    try:
        return check(args.workbook, asof=args.asof)
    except Refused as e:
        print(f"gamma {cmd}: {e}", file=sys.stderr)
        return None


def cmd_check(args) -> int:
    data = _validated(args, "check")
    if data is None:
        return EXIT_REFUSED
    n = len(data.instruments)
    print(f"{args.workbook}: inputs valid — {n} instruments, as of {data.asof:%Y-%m-%d}")
    for p in data.problems:
        print(f"  {p}")
    for note in data.notes:
        print(f"  note: {note}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from engine.refresh import Refused, refresh
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    src = demo_workbook()
    dst = out / "demo.xlsx"
    shutil.copyfile(src, dst)
    print(f"Copied the demo workbook {src} -> {dst} (the committed file is never changed)")
    try:
        res = refresh(dst, progress=Progress(args.quiet))
    except Refused as e:
        print(f"gamma demo: refused: {e}", file=sys.stderr)
        return EXIT_REFUSED
    _print_result(res)
    code = res.exit_code
    if not args.no_pdf:  # from what the refresh read and built: nothing computed twice
        code = max(code, _factsheets(res.data, out / "factsheets"),
                   _report(res.data, res.contents, out))
    return code


def _factsheets(data, out: Path) -> int:
    from engine.reports.factsheets import write_factsheets
    skipped: dict[str, str] = {}
    try:
        paths = write_factsheets(data, out, problems=skipped)
    except ValueError as e:  # no strategy could be written at all
        print(f"gamma factsheet: {e}", file=sys.stderr)
        return EXIT_REFUSED
    for p in paths:
        print(f"  fact sheet: {p}")
    for name, reason in skipped.items():
        print(f"  SKIPPED {name}: {reason}")
    return EXIT_PARTIAL if skipped else EXIT_OK


def _report(data, contents: list, out: Path) -> int:
    from engine.reports.report import write_report
    tables: dict[str, list] = {}
    for c in contents:
        tables.setdefault(c.sheet, []).append(c)
    path = write_report(data, tables, out)
    print(f"  report: {path}")
    return EXIT_OK


def cmd_factsheet(args) -> int:
    data = _validated(args, "factsheet")
    return EXIT_REFUSED if data is None else _factsheets(data, Path(args.out))


def cmd_report(args) -> int:
    from engine.refresh import build_contents
    from engine.workbook.fit_store import load_store
    data = _validated(args, "report")
    if data is None:
        return EXIT_REFUSED
    contents, ctx = build_contents(data, Progress(getattr(args, "quiet", False)),
                                   fit_store=load_store(Path(args.workbook)))
    code = _report(data, contents, Path(args.out) if args.out else Path(args.workbook).parent)
    return max(code, EXIT_PARTIAL if ctx.failures else EXIT_OK)


def cmd_fetch(args) -> int:
    from engine.fetch import fetch
    from engine.refresh import Refused
    try:
        res = fetch(args.workbook, progress=Progress(args.quiet))
    except Refused as e:
        print(f"gamma fetch: refused: {e}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"Fetched into {res.path} (sheet Downloads)")
    for f in res.fetched:
        print(f"  {f.mapping.name} = {f.mapping.spec}: {len(f.known)} rows, last known "
              f"{f.known.index[-1]:%Y-%m-%d} (period {f.known['period'].iloc[-1]:%Y-%m-%d})")
    if res.backup:
        print(f"  previous version kept as {res.backup}")
    for w in res.warnings:
        print(f"  {w}")
    return EXIT_OK
class _Version(argparse.Action):
    """``--version``: print :func:`engine.version.version_text` as it is (argparse's own
    version action rewraps it) and exit 0."""

    def __init__(self, option_strings, dest, **kw):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser, namespace, values, option_string=None):
        from engine.version import version_text

        print(version_text())
        parser.exit(EXIT_OK)


class _NotProgress(logging.Filter):
    """Progress lines are printed by :class:`Progress` already: not twice on stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "progress", False)


def _start_logging(verbose: int, path: str | None) -> list[logging.Handler]:
    """Handlers on the ``gamma`` logger for ``-v`` (stderr) and ``--log FILE``; returned so
    :func:`main` removes them when the command ends."""
    handlers: list[logging.Handler] = []
    if verbose:
        h = logging.StreamHandler(sys.stderr)
        h.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
        h.addFilter(_NotProgress())
        handlers.append(h)
    if path:
        handlers.append(logging.FileHandler(path, encoding="utf-8"))  # DEBUG: everything
    for h in handlers:
        h.setFormatter(logging.Formatter(LOG_FORMAT))
        log.addHandler(h)
    if handlers:
        log.setLevel(logging.DEBUG)
    return handlers


def _log_options(p: argparse.ArgumentParser, default) -> None:
    # on the main parser and on every command, so both `gamma -v refresh X` and
    # `gamma refresh X -v` work (SUPPRESS: a command's absent option keeps the main one's)
    p.add_argument("-v", "--verbose", action="count", default=default,
                   help="log on stderr (-v INFO, -vv DEBUG with tracebacks)")
    p.add_argument("--log", metavar="FILE", default=default,
                   help="append the whole log (DEBUG, tracebacks) to FILE")


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(prog="gamma", description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", action=_Version,
                    help="the version, the model-code hash and the library versions")
    _log_options(ap, None)
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    p = sub.add_parser("demo", help="copy the demo workbook to a folder and refresh it there")
    p.add_argument("--out", default="gamma-demo", help="output folder (default ./gamma-demo)")
    p.add_argument("--no-pdf", action="store_true", help="skip the fact sheets and report")
    p.set_defaults(fn=cmd_demo)
    for name, fn, hlp in (("refresh", cmd_refresh, "refresh every engine sheet in place"),
                          ("check", cmd_check, "validate the input sheets")):
        p = sub.add_parser(name, help=hlp)
        p.add_argument("workbook")
        p.add_argument("--asof", default=None, help="as-of date (overrides Settings!As Of)")
        p.set_defaults(fn=fn)
    p = sub.add_parser("factsheet", help="one PDF fact sheet per strategy")
    p.add_argument("workbook")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--asof", default=None)
    p.set_defaults(fn=cmd_factsheet)
    p = sub.add_parser("report", help="the Macro Intelligence Report (PDF)")
    p.add_argument("workbook")
    p.add_argument("--out", default=None,
                   help="output PDF file, or a folder for <Report Title>-<yyyy-mm>.pdf "
                        "(default: the workbook's folder)")
    p.add_argument("--asof", default=None)
    p.set_defaults(fn=cmd_report)
    p = sub.add_parser("fetch", help="download the Settings' Fetch rows (FRED, with vintages) "
                       "into the Downloads sheet")
    p.add_argument("workbook")
    p.set_defaults(fn=cmd_fetch)
    for sp in sub.choices.values():
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
        _log_options(sp, argparse.SUPPRESS)
    args = ap.parse_args(argv)
    try:
        handlers = _start_logging(args.verbose or 0, args.log)
    except OSError as e:
        print(f"gamma: cannot open the log file {args.log}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if handlers:
            from engine.version import version_text

            log.debug("gamma %s: %s", args.cmd, version_text().replace("\n", "; "))
        return args.fn(args)
    except KeyboardInterrupt:  # the workbook is only ever replaced as the very last step
        print(f"gamma {args.cmd}: interrupted; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # every command has one error channel: never a traceback
        outcome = {"demo": "the demo folder may be incomplete"}.get(
            args.cmd, "the workbook is unchanged")
        return _internal_error(args.cmd, e, outcome)
    finally:
        for h in handlers:
            log.removeHandler(h)
            h.close()
        if handlers:
            log.setLevel(logging.NOTSET)


def _internal_error(cmd: str, e: Exception, outcome: str) -> int:
    """An unexpected error (a bug, or a case nobody foresaw): one line for the user, exit 2
    (DESIGN.md: refused, nothing written), the traceback to the ``gamma`` log."""
    log.debug("gamma %s failed", cmd, exc_info=True)
    first = (str(e).strip().splitlines() or [""])[0][:200]
    print(f"gamma {cmd}: failed ({type(e).__name__}{': ' + first if first else ''}); "
          f"{outcome}", file=sys.stderr)
    return EXIT_REFUSED


def entry() -> None:
    """The ``gamma`` command. After Ctrl-C the process ends with ``os._exit``: a
    KeyboardInterrupt that passed through an import (statsmodels' on a first estimation)
    leaves CPython set to end the process by SIGINT even though ``main`` handled it, which a
    script would see as a crash, not as exit 130. Everything the refresh holds (lock, scratch
    files) is released by then."""
    try:
        code = main()
    except BrokenPipeError:  # the reader went away (`gamma --version | head -1`): not an error
        # (Python's documented recipe: stdout to devnull, so the flush at exit cannot fail)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
