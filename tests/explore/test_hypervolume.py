import numpy as np
import pytest

from hwsim.explore.hypervolume import hypervolume, pareto_mask


def test_pareto_mask():
    p = np.array([[1, 3], [2, 2], [3, 1], [3, 3], [2, 2.5]])
    assert pareto_mask(p).tolist() == [True, True, True, False, False]


def test_hypervolume_2d_and_3d():
    assert hypervolume(np.array([[1, 1]]), np.array([2, 2])) == pytest.approx(1)
    assert hypervolume(np.array([[0, 1], [1, 0]]), np.array([2, 2])) == pytest.approx(3)
    assert hypervolume(np.array([[0, 0, 0]]), np.array([1, 2, 3])) == pytest.approx(6)
    two = np.array([[0, 0, 1], [1, 1, 0]])
    assert hypervolume(two, np.array([2, 2, 2])) == pytest.approx(4 + 1 * 1 * 2 - 1 * 1 * 1)
    assert hypervolume(np.empty((0, 2)), np.array([1, 1])) == 0
