"""Helpers the tests share (not fixtures)."""
import time


def read_until(stream, needle: str, timeout: float) -> str:
    """Lines of a text stream until one holds `needle`; fails after `timeout` seconds or at its end."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"no {needle!r} within {timeout} s:\n" + "".join(seen[-30:]))
