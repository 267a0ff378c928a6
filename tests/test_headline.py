"""benchmarks/headline.py: the README's headline is the rendering of the committed results file, so it cannot drift."""

import json

from benchmarks.headline import END, KEPT, README, START, rendered, section


def test_the_readme_headline_is_made_from_the_committed_results():
    headline = json.loads(KEPT.read_text())
    text = README.read_text()
    assert text.count(START) == 1 and text.count(END) == 1
    assert rendered(text, headline) == text, "run `python benchmarks/headline.py` and commit README.md"
    assert headline["cpu"] and headline["commit"] and headline["answers"]  # the machine and commit it was measured on


def test_the_section_names_every_target_with_its_machine():
    headline = json.loads(KEPT.read_text())
    shown = section(headline)
    assert headline["cpu"] in shown and headline["commit"] in shown
    for answer in headline["answers"]:
        assert f"| {answer['target']} |" in shown
