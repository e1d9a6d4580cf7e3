import sys

import pytest


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    assert 2 * 2 == 5, "arithmetic is broken"


def test_output():
    print("hello from stdout")
    print("hello from stderr", file=sys.stderr)
    assert True


def test_record_property(record_property):
    record_property("build_id", "1234")
    record_property("browser", "firefox")
    assert True


def test_long_diff():
    expected = "\n".join(f"line {i}: the quick brown fox" for i in range(20))
    actual = expected.replace("line 7:", "line 7 (changed):").replace("fox\nline 15", "dog\nline 15")
    assert actual == expected


class TestMath:
    def test_add(self):
        assert 2 + 3 == 5

    def test_sub(self):
        assert 5 - 3 == 2

    @pytest.mark.parametrize("a,b,expected", [(1, 2, 3), (2, 2, 4), (3, 3, 7)])
    def test_param(self, a, b, expected):
        assert a + b == expected
