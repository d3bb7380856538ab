"""The known-design registry as regression tests: one pytest case per check."""

import pytest

import hwsim

from hwsim import validate

CHECKS = validate.checks()


@pytest.mark.parametrize("check", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c.known_miss)) if c.known_miss else c
    for c in CHECKS], ids=[f"{c.family}:{c.id}" for c in CHECKS])
def test_known_design(check):
    r = check.run()
    assert r.passed, (f"{check.id}: hwsim {r.value:.6g} vs {check.reference:.6g} {check.unit} "
                      f"({100 * r.rel_error:+.2f}%, tolerance ±{100 * check.rel_tol:g}%; "
                      f"source: {check.source})")


def test_every_check_names_a_source():
    assert CHECKS and all(c.source for c in CHECKS)


def test_registry_catches_a_wrong_value():
    c = next(c for c in CHECKS if c.mode == "rel" and c.reference and c.rel_tol <= 0.1
             and not c.known_miss)
    wrong = validate.Check(c.family, c.id, c.description, c.source,
                           c.reference * (1 + 2 * c.rel_tol + 0.05), c.unit, c.compute, c.rel_tol)
    assert not wrong.run().passed


def test_every_check_has_a_kind_and_consistency_checks_say_what_fitted_them():
    assert {c.kind for c in CHECKS} <= set(validate.KINDS)
    assert all(c.fitted_on for c in CHECKS if c.kind == "consistency")


def test_bad_kind_is_refused():
    with pytest.raises(hwsim.ConfigError, match="field 'kind'"):
        validate.Check("x", "y", "", "src", 1.0, "u", lambda: 1.0, kind="proof")


def test_summary_counts_validation_only():
    res = validate.run()
    s = validate.summary(res)
    assert s["validation"] == sum(r.check.kind == "validation" for r in res)
    assert s["consistency"] == sum(r.check.kind == "consistency" for r in res)
    assert s["failed"] == 0, "a check fails that is not a stated known miss"
