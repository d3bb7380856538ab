"""Regenerate the validation table in README.md from the registry (tests check it is current).

    python benchmarks/update_readme_validation.py
"""

from pathlib import Path

from hwsim import validate

readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text()
start = text.index("| family | check |")
end = text.index("\n\n", start)
readme.write_text(text[:start] + validate.to_table(validate.run(), markdown=True) + text[end:])
print(f"updated {readme}")
