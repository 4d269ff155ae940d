"""Per-tier JUnit XML and a short markdown summary for a GitHub job summary.

A test's tier is its first directory under tests/ (unit, integration, failure, load, ...).
At the end of the session this plugin writes, under ``.artifacts/`` (or ``$PERFWATCH_ARTIFACTS``):

- ``junit-<tier>.xml``: one JUnit testsuite per tier; failing tests carry their captured
  sections (process logs attached by the harness) in ``<system-err>``, and every test its
  ``record_property`` values as ``<properties>``;
- ``summary.md``: per tier the counts and wall time, the failure scenarios with their recovery
  time and data-loss count, and the failures. Appended to ``$GITHUB_STEP_SUMMARY`` when set.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest_plugins.leftovers import LEFTOVERS_KEY


@dataclass
class TestRecord:
    nodeid: str
    tier: str
    outcome: str = "passed"  # passed | failed | error | skipped | xfailed
    duration: float = 0.0
    message: str = ""
    details: str = ""
    properties: list[tuple[str, object]] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class TierClock:
    first: float
    last: float


class SummaryPlugin:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records: dict[str, TestRecord] = {}
        self.clocks: dict[str, TierClock] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        tier = _tier(report.nodeid)
        rec = self.records.setdefault(report.nodeid, TestRecord(report.nodeid, tier))
        now = time.time()
        clock = self.clocks.setdefault(tier, TierClock(now - report.duration, now))
        clock.last = now
        rec.duration += report.duration
        rec.properties = list(report.user_properties)
        if report.failed:
            rec.outcome = "failed" if report.when == "call" else "error"
            rec.message = _first_line(report.longreprtext)
            rec.details = report.longreprtext
            rec.sections = [(n, t) for n, t in report.sections if "log" in n or "stderr" in n]
        elif report.skipped and rec.outcome == "passed":
            xfail = getattr(report, "wasxfail", None)
            rec.outcome = "xfailed" if xfail is not None else "skipped"
            rec.message = str(xfail) if xfail is not None else _skip_reason(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.records:
            return
        out = Path(os.environ.get("PERFWATCH_ARTIFACTS", self.config.rootpath / ".artifacts"))
        out.mkdir(parents=True, exist_ok=True)
        for tier in sorted({r.tier for r in self.records.values()}):
            records = [r for r in self.records.values() if r.tier == tier]
            _junit(records, tier, self._wall(tier)).write(out / f"junit-{tier}.xml",
                                                          encoding="utf-8", xml_declaration=True)
        text = self.markdown()
        (out / "summary.md").write_text(text)
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if step_summary:
            with open(step_summary, "a") as fh:
                fh.write(text)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        scenarios = [r for r in self.records.values() if _prop(r, "recovery_s") is not None]
        if not scenarios:
            return
        terminalreporter.section("recovery time and data loss")
        for r in scenarios:
            terminalreporter.write_line(
                f"{_prop(r, 'scenario') or r.nodeid}: recovery {_prop(r, 'recovery_s')} s, "
                f"data loss {_prop(r, 'data_loss')} [{r.outcome}]")

    def _wall(self, tier: str) -> float:
        clock = self.clocks.get(tier)
        return clock.last - clock.first if clock else 0.0

    def markdown(self) -> str:
        lines = ["## Test summary", "", "| tier | passed | failed | skipped | wall time |",
                 "|---|---:|---:|---:|---:|"]
        for tier in sorted({r.tier for r in self.records.values()}):
            rs = [r for r in self.records.values() if r.tier == tier]
            n = {k: sum(1 for r in rs if r.outcome in ks) for k, ks in
                 (("ok", ("passed",)), ("bad", ("failed", "error")),
                  ("skip", ("skipped", "xfailed")))}
            lines.append(f"| {tier} | {n['ok']} | {n['bad']} | {n['skip']} | "
                         f"{self._wall(tier):.0f} s |")
        scenarios = [r for r in self.records.values() if _prop(r, "recovery_s") is not None]
        if scenarios:
            lines += ["", "### Recovery time and data loss", "",
                      "| scenario | recovery | data loss | result |", "|---|---:|---:|---|"]
            lines += [f"| {_prop(r, 'scenario') or r.nodeid} | {_prop(r, 'recovery_s')} s | "
                      f"{_prop(r, 'data_loss')} | {r.outcome} |" for r in scenarios]
        failed = [r for r in self.records.values() if r.outcome in ("failed", "error")]
        if failed:
            lines += ["", "### Failures", ""]
            lines += [f"- `{r.nodeid}`: {r.message[:200]}" for r in failed[:30]]
        found = self.config.stash.get(LEFTOVERS_KEY, None)
        if found is not None:
            lines += ["", f"Leftovers after the session: {found.describe()}"]
        return "\n".join(lines) + "\n"


def _junit(records: list[TestRecord], tier: str, wall: float) -> ET.ElementTree[ET.Element]:
    counts = {k: sum(1 for r in records if r.outcome == k) for k in ("failed", "error")}
    skipped = sum(1 for r in records if r.outcome in ("skipped", "xfailed"))
    suite = ET.Element("testsuite", name=tier, tests=str(len(records)),
                       failures=str(counts["failed"]), errors=str(counts["error"]),
                       skipped=str(skipped), time=f"{wall:.3f}")
    for r in records:
        path, _, name = r.nodeid.partition("::")
        case = ET.SubElement(suite, "testcase", classname=path.removesuffix(".py").replace("/", "."),
                             name=name, time=f"{r.duration:.3f}")
        if r.properties:
            props = ET.SubElement(case, "properties")
            for key, value in r.properties:
                ET.SubElement(props, "property", name=str(key), value=str(value))
        if r.outcome in ("failed", "error"):
            ET.SubElement(case, "failure" if r.outcome == "failed" else "error",
                          message=r.message).text = r.details
            if r.sections:
                ET.SubElement(case, "system-err").text = "\n".join(
                    f"--- {n} ---\n{t}" for n, t in r.sections)
        elif r.outcome in ("skipped", "xfailed"):
            ET.SubElement(case, "skipped", message=r.message)
    return ET.ElementTree(suite)


def _tier(nodeid: str) -> str:
    parts = nodeid.split("::")[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else "other"


def _prop(record: TestRecord, key: str) -> object | None:
    return next((v for k, v in record.properties if k == key), None)


def _first_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
    return (lines[0][2:].strip() if lines else (text.strip().splitlines() or [""])[-1])[:500]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SummaryPlugin(config), "perfwatch-summary")
