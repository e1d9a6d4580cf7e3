import os
import sys

import pytest

FLAKY_COUNTER = "/tmp/flaky-identity-pytest"


def test_pass():
    print("hello from stdout")
    print("hello from stderr", file=sys.stderr)
    assert 1 + 1 == 2


def test_same_name():
    assert True


@pytest.mark.issue("BUG-42")
def test_fail():
    assert [1, 2, 3] == [1, 2, 4]


@pytest.mark.smoke
def test_flaky():
    # Fails on the first attempt of a run, passes on the rerun.
    # record.sh deletes the counter file before every run.
    count = 0
    if os.path.exists(FLAKY_COUNTER):
        with open(FLAKY_COUNTER) as f:
            count = int(f.read() or "0")
    count += 1
    with open(FLAKY_COUNTER, "w") as f:
        f.write(str(count))
    assert count > 1, f"first attempt fails (attempt {count})"


@pytest.mark.smoke
@pytest.mark.slow
def test_tagged():
    assert True


@pytest.mark.owner("alice")
def test_owner_marker():
    assert True


def test_owner_property(record_property):
    record_property("owner", "bob")
    assert True


@pytest.mark.priority(level="high")
def test_kwargs_marker():
    assert True


@pytest.mark.smoke
class TestClass:
    def test_method(self):
        assert True

    @pytest.mark.smoke
    def test_method_also_smoke(self):
        assert True

    @pytest.mark.owner("nested-team")
    class TestNested:
        def test_nested(self):
            assert True
