"""What every `kgan` command shares: option types (seed ranges, temperatures), the exit
codes, and `handle_errors`, the one place library exceptions become exit codes."""

from __future__ import annotations

import functools
import sys

import click


class InputError(click.ClickException):
    """Bad usage or input: one line on stderr, exit code 2."""

    exit_code = 2


class Failure(click.ClickException):
    """The command was fine but the work failed: exit code 1."""

    exit_code = 1


def message(error: BaseException) -> str:
    """The exception's text on one line (a KeyError's without its quotes)."""
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return " ".join(str(text).split())


def input_errors() -> tuple[type[BaseException], ...]:
    """Library exceptions that mean bad usage or input (exit 2). Imported on demand:
    `kgan --help` must not pay for TensorFlow."""
    from keras_gan.config import ConfigError
    from keras_gan.data import DataError
    from keras_gan.files import LockHeld
    from keras_gan.sampling import SourceError

    return (ConfigError, DataError, SourceError, LockHeld, KeyError, ValueError, FileExistsError)


def handle_errors(*more_input_errors: type[BaseException]):
    """Decorates a command: bad input exits 2 with one line, a diverged training exits 1,
    a signal during training exits 128 + its number; `more_input_errors` count as bad
    input too (e.g. FileNotFoundError where the user names the file)."""

    def decorate(command):
        @functools.wraps(command)
        def run(*args, **kwargs):
            try:
                return command(*args, **kwargs)
            except click.ClickException:
                raise
            except (*input_errors(), *more_input_errors) as e:
                raise InputError(message(e)) from None
            except OSError as e:
                from keras_gan.files import STORAGE_ERRNOS

                if e.errno not in STORAGE_ERRNOS:
                    raise
                where = f"cannot write {e.filename}" if e.filename else "cannot write"
                raise Failure(f"{where}: {' '.join(str(e.strerror).split())}") from None
            except Exception as e:
                # A training error can only come from a loaded keras_gan.training.
                training = sys.modules.get("keras_gan.training")
                if training and isinstance(e, training.TrainingInterrupted):
                    click.echo(f"Error: {message(e)}", err=True)
                    sys.exit(128 + e.signum)
                if training and isinstance(e, training.TrainingDiverged):
                    raise Failure(message(e)) from None
                raise

        return run

    return decorate


class NumRange(click.ParamType):
    """`0-7`, `3`, `1,4,10-12` -> a list of non-negative ints (StyleGAN's --seeds)."""

    name = "range"
    limit = 1_000_000  # a typo like 0-99999999999 must not fill the memory

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        numbers: list[int] = []
        try:
            for part in str(value).split(","):
                low, sep, high = part.strip().partition("-")
                if sep:
                    start, stop = int(low), int(high)
                    if stop < start:
                        raise ValueError
                    if stop - start + 1 + len(numbers) > self.limit:
                        self.fail(f"{value!r} names more than {self.limit:,} seeds", param, ctx)
                    numbers.extend(range(start, stop + 1))
                else:
                    numbers.append(int(low))
        except ValueError:
            self.fail(f"{value!r} is not a list of seeds such as 0-7 or 1,4,10-12", param, ctx)
        if any(n < 0 or n >= 2**63 for n in numbers):
            self.fail(f"seeds must be between 0 and 2**63-1, got {value!r}", param, ctx)
        return numbers


class Temperatures(click.ParamType):
    """`1`, `0,0.5,0.8,1,1.2` -> a tuple of finite floats >= 0 (sampling temperatures)."""

    name = "temperatures"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            values = tuple(float(part) for part in str(value).split(","))
        except ValueError:
            values = ()
        if not values or not all(0 <= v < float("inf") for v in values):
            self.fail(f"{value!r} is not temperatures >= 0 such as 1 or 0,0.8,1", param, ctx)
        return values


temperature_option = click.option(
    "--temperature",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Text models: 0 takes the most likely characters, 1 samples the model's distribution.",
)


def json_option(what: str):
    """`--json`: the command's result as one JSON document on stdout (progress and
    notes stay on stderr), for scripts."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON (stdout).")
