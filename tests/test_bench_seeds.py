"""The multi-seed bench helper: finished seeds survive a seed that fails; the table is mean ± SE."""
import json

import pytest

from bench.seeds import run_seeds, seed_table


def test_a_failing_seed_keeps_the_finished_ones_on_disk(tmp_path, capsys):
    partial = tmp_path / "out" / "bench.partial.json"

    def run_one(seed):
        if seed == 2:
            raise RuntimeError("seed 2 died")
        return {"accuracy": 0.5 + seed / 10, "grid": "not a number"}

    with pytest.raises(RuntimeError, match="seed 2 died"):
        run_seeds([0, 1, 2], run_one, partial)
    assert json.loads(partial.read_text()) == {"0": {"accuracy": 0.5, "grid": "not a number"},
                                               "1": {"accuracy": 0.6, "grid": "not a number"}}
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[seed")]
    assert lines == ['[seed 0 done] {"accuracy": 0.5}', '[seed 1 done] {"accuracy": 0.6}']


def test_seed_table_is_mean_and_standard_error():
    table = seed_table({0: {"x": 1.0}, 1: {"x": 3.0}}, [0, 1])
    assert table["x"]["mean"] == 2.0 and table["x"]["se"] == pytest.approx(1.0)
