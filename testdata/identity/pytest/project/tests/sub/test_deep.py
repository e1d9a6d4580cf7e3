import pytest

pytestmark = [pytest.mark.slow, pytest.mark.owner("deep-team")]


def test_same_name():
    assert True


class TestDeep:
    def test_deep_method(self):
        assert True

    @pytest.mark.owner("carol")
    def test_deep_owner(self):
        assert True
