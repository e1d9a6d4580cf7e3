"""Reruns of tests that print: pytest-rerunfailures with junit_family=xunit1 writes each
rerun as a <testcase> carrying the captured <system-out>, not as an empty one."""
import os

COUNTER = "/tmp/flaky-sample-pytest-output"


def test_prints_and_always_fails():
    print("about to fail")
    assert 1 == 2, "always fails"


def test_prints_and_fails_once():
    count = int(open(COUNTER).read()) if os.path.exists(COUNTER) else 0
    with open(COUNTER, "w") as f:
        f.write(str(count + 1))
    print(f"attempt {count + 1}")
    assert count > 0, "fails the first time"


def test_prints_and_passes():
    print("fine")
