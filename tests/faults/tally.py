"""The figures of the fault-injection suite, added up by its tests (see docs/reliability.md)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    """Faults injected, invariants checked and violations found, per write path and setup."""

    cases: int = 0
    faults: int = 0
    checks: int = 0
    violations: int = 0
    known_bugs: int = 0
    paths: set[str] = field(default_factory=set)
    boundaries: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    setups: set[str] = field(default_factory=set)
    by_path: Counter[str] = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        *,
        path: str,
        setup: str,
        checks: int,
        violations: int,
        fault: tuple[str, str] | None = None,
        known_bug: bool = False,
    ) -> None:
        """Record one case: ``fault`` is (boundary, kind) when a fault was injected."""
        self.cases += 1
        self.checks += checks
        self.paths.add(path)
        self.setups.add(
            "local" if setup.startswith("sqlite") else "pg_s3" if setup.startswith("postgres") else setup
        )
        self.by_path[path] += 1
        if fault is not None:
            self.faults += 1
            self.boundaries.add(fault[0])
            self.kinds.add(fault[1])
        if known_bug:
            self.known_bugs += 1
        else:
            self.violations += violations

    def figures(self) -> dict[str, Any]:
        """The figures as JSON-able data."""
        return {
            "cases": self.cases,
            "faults_injected": self.faults,
            "write_paths": sorted(self.paths),
            "boundaries": sorted(self.boundaries),
            "fault_kinds": sorted(self.kinds),
            "setups": sorted(self.setups),
            "invariant_checks": self.checks,
            "violations": self.violations,
            "cases_failing_on_known_bugs": self.known_bugs,
            "cases_per_path": dict(sorted(self.by_path.items())),
            **self.extra,
        }


TALLY = Tally()
