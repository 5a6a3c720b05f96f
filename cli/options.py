"""Shared option types for `kgan`: seed ranges and errors that exit with code 2."""

from __future__ import annotations

import click


class InputError(click.ClickException):
    """Bad usage or input: one line on stderr, exit code 2."""

    exit_code = 2


class Failure(click.ClickException):
    """The command was fine but the work failed: exit code 1."""

    exit_code = 1


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
