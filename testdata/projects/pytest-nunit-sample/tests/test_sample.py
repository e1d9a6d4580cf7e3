"""Sample tests recorded with pytest-nunit (see testdata/inputs/nunit/RECORD.md)."""
import os
import sys

import pytest

FLAKY = "/tmp/flaky-sample-pytest-nunit"


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    assert 2 * 2 == 5, "arithmetic is broken"


def test_raises():
    raise RuntimeError("boom from the test")


@pytest.mark.skip(reason="not implemented yet")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False


@pytest.mark.parametrize("a,b,total", [(1, 2, 3), (2, 2, 5)])
def test_add(a, b, total):
    assert a + b == total


@pytest.mark.slow
def test_prints_output(record_nunit_property):
    record_nunit_property("owner", "qa-team")
    print("hello from stdout")
    print("hello from stderr", file=sys.stderr)


def test_attachment(add_nunit_attachment):
    # record.sh says where (NUNIT_ATTACH_DIR): next to the XML, so that the path stays inside
    # the input's folder.
    folder = os.environ.get("NUNIT_ATTACH_DIR", "/tmp")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "screenshot.txt")
    with open(path, "w") as f:
        f.write("pretend this is a screenshot\n")
    add_nunit_attachment(path, "a screenshot of the failure")


def test_missing_attachment(add_nunit_attachment):
    folder = os.environ.get("NUNIT_ATTACH_DIR", "/tmp")
    add_nunit_attachment(os.path.join(folder, "never-written.png"), "a file never written")


def test_flaky():
    n = int(open(FLAKY).read()) if os.path.exists(FLAKY) else 0
    with open(FLAKY, "w") as f:
        f.write(str(n + 1))
    print(f"flaky attempt {n + 1}")
    assert n >= 1, "fails on the first run only"


class TestGroup:
    def test_in_class(self):
        assert True

    def test_in_class_fails(self):
        assert "abc" == "abd"
