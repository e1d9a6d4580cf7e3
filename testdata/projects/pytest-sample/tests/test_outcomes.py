import os
import sys

import pytest

FLAKY_COUNTER = "/tmp/flaky-sample-pytest"


def test_setup_error(broken_setup):
    assert broken_setup is not None


def test_teardown_error(broken_teardown):
    assert broken_teardown == 42


@pytest.mark.skip(reason="not implemented yet")
def test_skipped():
    assert False


@pytest.mark.skipif(sys.platform != "win32", reason="only runs on windows")
def test_skipif():
    assert False


@pytest.mark.xfail(reason="known bug #12")
def test_xfail():
    assert 0 == 1


@pytest.mark.xfail(strict=True, reason="expected to fail, strict")
def test_xpass_strict():
    assert True


def test_flaky():
    # Fails on the first attempt, passes on every later one.
    # The counter file must be deleted before each recording run.
    count = 0
    if os.path.exists(FLAKY_COUNTER):
        with open(FLAKY_COUNTER) as f:
            count = int(f.read() or "0")
    with open(FLAKY_COUNTER, "w") as f:
        f.write(str(count + 1))
    print(f"flaky attempt {count + 1}")
    assert count >= 1, f"first attempt fails (attempt {count + 1})"
