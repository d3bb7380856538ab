"""The known-design registry as regression tests: one pytest case per check."""

import pytest

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
    c = CHECKS[0]
    wrong = validate.Check(c.family, c.id, c.description, c.source, c.reference * 1.1, c.unit,
                           c.compute, c.rel_tol)
    assert not wrong.run().passed


def test_readme_validation_table_is_current():
    """README shows `hwsim validate --markdown` output; regenerate it when a model changes."""
    from pathlib import Path
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = validate.to_table(validate.run(), markdown=True)
    assert table in readme, "README validation table is stale: run `hwsim validate --markdown t.md`" \
                            " and paste t.md into README.md"
