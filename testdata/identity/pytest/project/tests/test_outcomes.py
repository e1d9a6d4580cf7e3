import pytest


@pytest.mark.skip(reason="skipped by marker")
def test_skip_marker():
    assert False


def test_skip_inside():
    pytest.skip("skipped inside the test")


@pytest.mark.skipif(True, reason="skipped by skipif")
def test_skipif():
    assert False


@pytest.mark.xfail(reason="known bug")
def test_xfail_fails():
    assert False


@pytest.mark.xfail(reason="maybe fixed")
def test_xpass():
    assert True


@pytest.mark.xfail(strict=True, reason="must fail")
def test_xpass_strict():
    assert True


def test_xfail_imperative():
    pytest.xfail("xfail called inside the test")


def test_setup_error(broken_setup):
    assert True


def test_teardown_error(broken_teardown):
    assert True
