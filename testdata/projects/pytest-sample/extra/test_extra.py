"""Extra pytest outcomes for the converters (recorded without --reruns): see RECORD.md."""
import logging

import pytest

log = logging.getLogger("extra")


@pytest.fixture
def noisy_setup():
    print("setting up")
    yield
    print("tearing down")


@pytest.fixture
def broken_teardown_after_failure():
    yield
    raise RuntimeError("teardown exploded too")


@pytest.mark.xfail(reason="may fail on old servers")
def test_xpass_non_strict():
    assert True


def test_skip_inside():
    pytest.skip("no database here")


def test_xfail_imperative():
    pytest.xfail("not ready yet")


@pytest.mark.xfail(run=False, reason="would hang")
def test_xfail_not_run():
    assert False


def test_log_and_setup_output(noisy_setup):
    log.warning("a warning from the test")
    print("call output")


def test_attachment_property(record_property):
    record_property("attachment", "extra/artifacts/log.txt")
    record_property("attempt_count", 1)


def test_fails_and_teardown_fails(broken_teardown_after_failure):
    assert 1 == 2


class TestOuter:
    class TestInner:
        def test_nested(self):
            assert True


@pytest.mark.parametrize("value", ["a.b", "c::d"])
def test_odd_ids(value):
    assert value
