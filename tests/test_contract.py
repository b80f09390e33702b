"""The OpenAPI document is the contract: schemathesis (every check, positive and negative data,
examples, coverage, fuzzing and stateful phases) against the three models served on loopback finds
no failure and no server error, and tests every operation."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

from pipeline.service import ServeConfig, create_app

CONTRACT = ServeConfig(max_k=50, max_history=30, max_batch=4, max_outputs=4, max_body_bytes=200_000)


def test_schemathesis_finds_no_failure_on_any_operation(all_models, serve_app, tmp_path):
    server, thread, url = serve_app(create_app(all_models, CONTRACT))
    try:
        operations = [(m.upper(), p) for p, ops in httpx.get(f"{url}/openapi.json").json()["paths"].items()
                      for m in ops]
        junit = tmp_path / "junit.xml"
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "NO_COLOR": "1",
               "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent / "contract"), os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json", "--checks", "all",
             "--mode", "all", "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "100",
             "--seed", "7", "--generation-deterministic", "--workers", "1", "--report", "junit",
             "--report-junit-path", str(junit)],
            capture_output=True, text=True, env=env, timeout=1200, cwd=tmp_path)   # its cache stays out of the repo
    finally:
        server.should_exit = True
        thread.join(5)
    print(done.stdout[-1500:])   # the summary: phases, operations, test cases generated
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    cases = ET.parse(junit).getroot().iter("testcase")
    tested = {c.get("name") for c in cases}
    assert {f"{m} {p}" for m, p in operations} <= tested, (operations, tested)
