"""Entry point of the ``latticeclosure`` command: argument parsing, dispatch and error handling.

Subcommands come from two places: the built-in command modules listed in :data:`BUILTIN_COMMANDS`
(``latticeclosure/cli/<module>.py``, each exposing ``COMMAND``) and plugins, through the
``latticeclosure_cli_commands`` hook. A :class:`~latticeclosure.errors.LatticeClosureError` becomes
``error: <message>`` on stderr and exit status 2 (argparse usage errors also exit 2); so does an
operating-system error that a writer did not report itself (``error: PATH: reason``) and a failure to
write standard output (``error: cannot write standard output: reason``). Ctrl-C exits 130; SIGTERM is
handled like Ctrl-C and exits 143 (:mod:`latticeclosure.simulation.workers`). ``--traceback`` shows
the full traceback instead, for debugging. ``-v/--verbose`` and ``-q/--quiet`` set the level of the
package's loggers (:mod:`latticeclosure.progress`) for the command: messages go to stderr (info as
they are, other levels prefixed, e.g. ``warning: ...``); quiet also hides progress bars.

Keep this module and the command modules free of module-level heavy imports (numba, sympy,
scipy, matplotlib): ``latticeclosure --help``, ``plugins`` and ``lattices`` must start fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from ..errors import DuplicateNameError, LatticeClosureError

__all__ = ["BUILTIN_COMMANDS", "builtin_commands", "build_parser", "main"]

PROG = "latticeclosure"

#: Modules of :mod:`latticeclosure.cli` holding the built-in commands, in ``--help`` order.
#: To add a command, write ``latticeclosure/cli/<module>.py`` exposing ``COMMAND`` and list it here.
BUILTIN_COMMANDS: tuple[str, ...] = (
    "run",
    "plugins",
    "lattices",
    "clusters",
    "equations",
    "close",
    "fit",
    "anneal",
    "kmc",
    "sweep",
    "threshold",
    "data",
    "infer",
)

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


def builtin_commands() -> list[Any]:
    """The built-in command objects, imported from :data:`BUILTIN_COMMANDS`."""
    return [importlib.import_module(f"{__package__}.{mod}").COMMAND for mod in BUILTIN_COMMANDS]


def _plugin_commands() -> tuple[list[Any], str | None]:
    """Commands contributed by plugins, and why there are none when a plugin fails to load.

    A broken plugin leaves the built-in commands usable (``--help`` shows the failure); any command
    that needs the registry then fails with the plugin named and the ``--disable-plugin`` hint.
    """
    from ..registry import PluginError, get_registry

    try:
        return list(get_registry().entries("cli_commands").values()), None
    except PluginError as exc:
        return [], _one_line(str(exc))


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("latticeclosure")
    except PackageNotFoundError:
        from .. import __version__

        return __version__


def _check_command(command: Any, origin: str) -> None:
    missing = [a for a in ("name", "help", "add_arguments", "run") if not hasattr(command, a)]
    if missing:
        raise LatticeClosureError(
            f"CLI command {command!r} from {origin} lacks {', '.join(missing)} "
            "(a command needs name, help, add_arguments(parser) and run(args))"
        )


def build_parser(commands: Sequence[Any] | None = None) -> argparse.ArgumentParser:
    """The argument parser with one subparser per command.

    Parameters
    ----------
    commands : sequence of command objects, optional
        Default: the built-in commands followed by those contributed by plugins.

    Raises
    ------
    DuplicateNameError
        If a plugin command has the name of another command.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Mean-cluster rate equations for lattice models: lattices, clusters, window-method "
            "equations, closures, data and calibration. Everything is a plugin; see "
            f"'{PROG} plugins'."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="count", default=0,
                           help="show debug messages too (what each stage does, timings)")
    verbosity.add_argument("-q", "--quiet", action="store_true",
                           help="show only warnings and errors: no progress messages or bars")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="show the full traceback on errors (for debugging)",
    )
    parser.add_argument(
        "--disable-plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="do not load the plugin NAME (its entry-point name, see 'plugins'); repeatable. "
        "The environment variable LATTICECLOSURE_DISABLE_PLUGINS=a,b does the same",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    if commands is None:
        origins: list[tuple[Any, str]] = [(c, "latticeclosure.cli") for c in builtin_commands()]
        contributed, failure = _plugin_commands()
        origins += [(e.obj, str(e.source)) for e in contributed]
        if failure:
            parser.epilog = f"note: plugin commands are unavailable: {failure}"
    else:
        origins = [(c, "caller") for c in commands]
    seen: dict[str, str] = {}
    for command, origin in origins:
        _check_command(command, origin)
        if command.name in seen:
            raise DuplicateNameError(
                f"duplicate CLI command {command.name!r}: defined by {seen[command.name]} "
                f"and by {origin}"
            )
        seen[command.name] = origin
        sp = sub.add_parser(
            command.name,
            help=command.help,
            description=getattr(command, "description", None) or command.help,
        )
        command.add_arguments(sp)
        sp.set_defaults(_command=command)
    return parser


#: Longest error message the CLI prints (the rest is cut, with a pointer to --traceback).
MAX_MESSAGE = 400


def _one_line(message: str) -> str:
    text = " ".join(part.strip() for part in message.splitlines() if part.strip())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 40].rstrip() + " … (cut; --traceback shows all)"
    return text


def _disabled_plugins(args: Sequence[str]) -> list[str]:
    """The names given to ``--disable-plugin`` before the command (parsed before the parser exists,
    because building the parser loads the plugins)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--disable-plugin", action="append", default=[])
    known, _ = pre.parse_known_args(list(args))
    return known.disable_plugin


class _StderrHandler(logging.Handler):
    """Log records of the package on the current ``sys.stderr``: info as is, other levels prefixed."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.levelno != logging.INFO:
                message = f"{record.levelname.lower()}: {message}"
            print(message, file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


def _pre_parse_verbosity(args: Sequence[str]) -> int:
    """-1 (quiet), 0 or the number of -v given before the command (the parser needs the plugins)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("-v", "--verbose", action="count", default=0)
    pre.add_argument("-q", "--quiet", action="store_true")
    known, _ = pre.parse_known_args(list(args))
    return -1 if known.quiet else known.verbose


class _CliLogging:
    """The package logger's level and handler for one command; the previous state is restored after."""

    def __init__(self, verbosity: int) -> None:
        from ..progress import get_logger

        self.logger = get_logger()
        self.saved = (self.logger.level, self.logger.propagate)
        self.handler = _StderrHandler()
        self.set(verbosity)
        self.logger.addHandler(self.handler)
        self.logger.propagate = False

    def set(self, verbosity: int) -> None:
        self.logger.setLevel(logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO)

    def close(self) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.saved[0])
        self.logger.propagate = self.saved[1]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``latticeclosure`` command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    """
    from ..simulation.workers import exit_status, terminate_as_interrupt

    args_list = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args_list
    logs = _CliLogging(_pre_parse_verbosity(args_list))
    log = logs.logger.getChild("cli")
    try:
        with terminate_as_interrupt():
            disabled = _disabled_plugins(args_list)
            if disabled:
                from ..registry import disable_plugins

                log.debug("disabled plugins: %s", ", ".join(disabled))
                disable_plugins(disabled)
            parser = build_parser()
            args = parser.parse_args(args_list)
            logs.set(-1 if args.quiet else args.verbose)
            log.debug("%s %s: command %r", PROG, _version(), args.command)
            started = time.perf_counter()
            status = args._command.run(args)
            sys.stdout.flush()  # a full disk or closed pipe must show here, not at interpreter exit
            log.debug("command %r finished in %.2f s", args.command, time.perf_counter() - started)
        return 0 if status is None else int(status)
    except LatticeClosureError as exc:
        if show_traceback:
            raise
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print("terminated" if getattr(exc, "signum", None) else "interrupted", file=sys.stderr)
        return exit_status(exc)
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly (and keep Python from complaining at exit).
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        if show_traceback:
            raise
        print(f"error: {_one_line(_os_error_text(exc))}", file=sys.stderr)
        _silence_stdout()
        return EXIT_USAGE
    finally:
        logs.close()


def _os_error_text(exc: OSError) -> str:
    """``PATH: reason`` of an operating-system error no writer reported (a last line of defence).

    Every file is written through :mod:`latticeclosure.io`, which names the file; an error without a
    file name comes from writing standard output (a full disk, a file-size limit).
    """
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    return f"cannot write standard output: {reason}"


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush cannot fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass

if __name__ == "__main__":
    sys.exit(main())
