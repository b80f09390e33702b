"""The OpenAPI document is the contract: schemathesis (every check, positive and negative data,
examples, coverage, fuzzing and stateful phases) against the three models served on loopback finds
no failure and no server error, and tests every operation."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from pipeline.service import ServeConfig, create_app

CONTRACT = ServeConfig(max_k=50, max_history=30, max_batch=4, max_outputs=4, max_body_bytes=200_000)


pytestmark = pytest.mark.slow


def run_schemathesis(models, serve_app, tmp_path, hooks: bool, max_examples: int, config: Path | None = None):
    """schemathesis against the models served on loopback → (operations in the schema, the finished
    run, the test cases its junit report names)."""
    server, thread, url = serve_app(create_app(models, CONTRACT))
    try:
        operations = [(m.upper(), p) for p, ops in httpx.get(f"{url}/openapi.json").json()["paths"].items()
                      for m in ops]
        junit = tmp_path / "junit.xml"
        env = {**os.environ, "NO_COLOR": "1"}
        if hooks:
            env |= {"SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).parent / "contract"), os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", *(["--config-file", str(config)] if config else []),
             "run", f"{url}/openapi.json", "--checks", "all",
             "--mode", "all", "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", str(max_examples),
             "--seed", "7", "--generation-deterministic", "--workers", "1", "--report", "junit",
             "--report-junit-path", str(junit)],
            capture_output=True, text=True, env=env, timeout=1200, cwd=tmp_path)   # its cache stays out of the repo
    finally:
        server.should_exit = True
        thread.join(5)
    print(done.stdout[-1500:])   # the summary: phases, operations, test cases generated
    assert junit.exists(), f"schemathesis did not run: {done.stdout[-3000:]} {done.stderr[-3000:]}"
    return operations, done, {c.get("name") for c in ET.parse(junit).getroot().iter("testcase")}


def test_schemathesis_finds_no_failure_on_any_operation(all_models, serve_app, tmp_path):
    """With the project's hooks: schema-valid uploads are real images and sounds of every kind."""
    operations, done, tested = run_schemathesis(all_models, serve_app, tmp_path, hooks=True, max_examples=100)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert {f"{m} {p}" for m, p in operations} <= tested, (operations, tested)


def test_schemathesis_with_its_own_generic_data_finds_no_failure(all_models, serve_app, tmp_path):
    """No project hooks: uploads are whatever bytes schemathesis makes of the schema (empty ones, too)."""
    operations, done, tested = run_schemathesis(all_models, serve_app, tmp_path, hooks=False, max_examples=50,
                                                config=Path(__file__).parent / "contract" / "generic.toml")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert {f"{m} {p}" for m, p in operations} <= tested, (operations, tested)
