import pytest


@pytest.mark.parametrize(
    "value",
    ["space", "slash", "colons", "brackets"],
    ids=["with space", "a/b", "x::y", "[a-b]"],
)
def test_ids(value):
    assert value


class TestParams:
    @pytest.mark.parametrize("a,b", [(1, 2), ("x", "y")])
    def test_in_class(self, a, b):
        assert a != b
