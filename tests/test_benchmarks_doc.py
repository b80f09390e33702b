"""Benchmark results are data: every benchmark in bench/ has a committed result file with the fields
DESIGN.md names, and docs/benchmarks.md is exactly what those files render to."""
import ast
import json

import pytest

from bench.report import DOC, render
from bench.results import FIELDS, RESULTS, ROOT, write_result

HELPERS = {"results", "report", "seeds", "recsys_objectives", "__init__"}   # bench/ modules that are not benchmarks


def benchmarks() -> list[str]:
    return sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem not in HELPERS)


def test_every_benchmark_writes_and_has_a_committed_result():
    results = {p.stem: json.loads(p.read_text()) for p in RESULTS.glob("*.json")}
    for bench in benchmarks():
        mine = [r for r in results.values() if r["command"].split()[2:3] == [f"bench.{bench}"]]
        assert mine, f"no docs/results/*.json made by python -m bench.{bench}"


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.name)
def test_result_files_hold_the_fields(path):
    r = json.loads(path.read_text())
    assert not [f for f in FIELDS if f not in r], f"{path.name} lacks fields"
    assert r["benchmark"] == path.stem
    assert {"nproc", "cpu", "torch_threads", "device"} <= set(r["machine"])
    assert r["table"]["rows"] and all(len(row) == len(r["table"]["columns"]) for row in r["table"]["rows"])


DEV = {"selected_on": "dev", "reported_on": "test"}


def test_benchmarks_md_is_rendered_from_the_results():
    text = DOC.read_text()
    assert text == render(), "docs/benchmarks.md disagrees with docs/results/*.json: run python -m bench.report"
    assert len(text.splitlines()) <= 25 * len(list(RESULTS.glob("*.json")))   # about 25 lines a benchmark


def test_a_changed_figure_breaks_the_match(tmp_path):
    for p in RESULTS.glob("*.json"):
        (tmp_path / p.name).write_text(p.read_text())
    write_result("extra", title="Extra", measures="m", table={"columns": ["a"], "rows": [[0.5]]}, protocol=DEV, out=tmp_path)
    before = render(tmp_path)
    write_result("extra", title="Extra", measures="m", table={"columns": ["a"], "rows": [[0.6]]}, protocol=DEV, out=tmp_path)
    assert render(tmp_path) != before and "| 0.6 |" in render(tmp_path)


def test_a_table_row_of_the_wrong_width_is_refused(tmp_path):
    with pytest.raises(ValueError, match="one cell per column"):
        write_result("bad", title="t", measures="m", table={"columns": ["a", "b"], "rows": [[1]]}, protocol=DEV,
                     out=tmp_path)


def test_a_result_without_a_protocol_or_chosen_on_test_is_refused(tmp_path):
    table = {"columns": ["a"], "rows": [[1]]}
    with pytest.raises(ValueError, match="protocol needs reported_on"):
        write_result("bad", title="t", measures="m", table=table, protocol={"selected_on": "dev"}, out=tmp_path)
    with pytest.raises(ValueError, match="protocol.selected_on is test"):
        write_result("bad", title="t", measures="m", table=table, out=tmp_path,
                     protocol={"selected_on": "test users", "reported_on": "test users"})
    assert not (tmp_path / "bad.json").exists()


def test_benchmark_modules_parse_and_have_a_main():
    for bench in benchmarks():
        tree = ast.parse((ROOT / "bench" / f"{bench}.py").read_text())
        assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body), bench
        assert any(isinstance(n, ast.If) and "__main__" in ast.unparse(n.test) for n in tree.body), \
            f"{bench}: `python -m bench.{bench}` would do nothing without an `if __name__ == \"__main__\"` guard"


def test_a_modified_tree_writes_docs_results_only_when_asked_and_then_as_provisional(monkeypatch, tmp_path):
    from bench import results

    assert results.provenance("abc123", results.RESULTS) == "measured"
    monkeypatch.delenv("MDR_ALLOW_DIRTY", raising=False)
    with pytest.raises(results.DirtyTree, match="uncommitted changes"):
        results.provenance("abc123+changes", results.RESULTS)
    assert results.provenance("abc123+changes", tmp_path).startswith("provisional")       # a trial run elsewhere
    monkeypatch.setenv("MDR_ALLOW_DIRTY", "1")
    r = {"provenance": results.provenance("abc123+changes", results.RESULTS), "title": "T", "measures": "m",
         "command": "c", "date": "d", "git_revision": "abc123+changes", "seeds": [],
         "machine": {"nproc": 2, "cpu": "x", "torch_threads": 1, "device": "cpu"},
         "table": {"columns": ["a"], "rows": [[1]]}, "notes": []}
    from bench.report import section
    assert any("**Provisional**" in line for line in section(r))


@pytest.mark.parametrize("values, target, higher, met", [
    ([0.91, 0.92, 0.93], 0.90, True, True),      # mean 0.92, s.e. 0.0058: 0.908 clears 0.90
    ([0.85, 0.92, 0.99], 0.90, True, False),     # mean 0.92 but s.e. 0.040: 0.839 does not
    ([0.60, 0.59, 0.61], 0.60, False, False),    # a ceiling: 0.60 + 2 s.e. is over it
    ([0.55, 0.56, 0.57], 0.60, False, True),
])
def test_a_target_is_met_only_when_mean_minus_two_standard_errors_clears_it(values, target, higher, met):
    from bench.results import verdict

    v = verdict(values, target, higher)
    assert v["met"] is met and len(v["seeds_meeting"]) == 3
