"""``python -m bench.cpu`` says, after its table, whether each issue-14 CPU target is met."""

from __future__ import annotations

from bench.cpu import target_lines


def test_each_target_is_judged_with_its_figure() -> None:
    met = target_lines(signature_ms=0.60, insert_ms=0.50, count_ms=0.01, hello_ms=0.05)
    assert len(met) == 2
    assert all(": MET (" in line for line in met), met
    assert "1.20 x one INSERT, 83% of its throughput" in met[0]
    missed = target_lines(signature_ms=1.50, insert_ms=0.50, count_ms=0.08, hello_ms=0.05)
    assert all(": NOT MET (" in line for line in missed), missed
    assert "3.00 x one INSERT, 33% of its throughput" in missed[0]
    assert "0.080 ms against 0.050 ms" in missed[1]
