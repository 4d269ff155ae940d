from __future__ import annotations

from perfwatch.errors import MissingCommitError, PerfwatchError, ResultsFormatError


def test_message_is_one_line_with_hint() -> None:
    err = ResultsFormatError("bad file\nx", hint="re-run asv", path="r/a.json")
    assert "\n" not in str(err)
    assert str(err) == "bad file x; re-run asv"
    assert err.path is not None and err.path.name == "a.json"


def test_tree() -> None:
    assert issubclass(MissingCommitError, PerfwatchError)
    assert issubclass(ResultsFormatError, PerfwatchError)
