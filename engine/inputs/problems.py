"""Input problems with their place in the workbook, collected and reported all at once."""

from __future__ import annotations

from dataclasses import dataclass

from engine.xlsx.cells import col_letter


def cell_ref(row: int, col: int) -> str:
    """``B30`` from 1-based row and column numbers."""
    return f"{col_letter(col)}{row}"


@dataclass(frozen=True)
class Problem:
    """One problem in the input sheets.

    ``where`` is ``Sheet!B30``, ``Sheet!B`` (a column), ``Sheet`` or ``workbook``;
    ``severity`` is ``"error"`` (refresh refused) or ``"warning"`` (reported, refresh goes on,
    e.g. a stale series, which Data Status marks); ``kind`` says what a warning is about
    (``"suspect"``: an implausible value, :mod:`engine.inputs.plausibility`)."""

    where: str
    message: str
    severity: str = "error"
    code: str | None = None  # the instrument concerned, if any
    kind: str | None = None

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.where}: {tag}{self.message}"


class InputError(Exception):
    """The workbook's inputs are invalid; ``problems`` lists every one found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        head = "\n".join(f"  {p}" for p in errors[:50])
        more = f"\n  … and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} problem(s) in the workbook inputs:\n{head}{more}")


class Problems(list):
    """A list of :class:`Problem` with shorthands used by the readers."""

    def error(self, where: str, message: str, code: str | None = None) -> None:
        self.append(Problem(where, message, "error", code))

    def warn(self, where: str, message: str, code: str | None = None,
             kind: str | None = None) -> None:
        self.append(Problem(where, message, "warning", code, kind))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self if p.severity == "error"]

