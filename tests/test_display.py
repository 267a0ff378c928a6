"""Untrusted text is printed as text: no terminal escapes, no rich markup."""

from rich.console import Console

from sketch_edge.display import markup, printable


def test_control_and_direction_characters_become_visible_escapes():
    assert printable("cat\x1b]0;title\x07\x1b[31m") == "cat\\x1b]0;title\\x07\\x1b[31m"
    assert printable("a\u202eb\nc\td\x00") == "a\\u202eb\\nc\\td\\x00"
    assert printable("The Eiffel Tower, ça va, 猫") == "The Eiffel Tower, ça va, 猫"


def test_markup_is_shown_not_interpreted():
    console = Console(record=True, width=200, color_system=None)
    console.print(markup("[bold]x[/bold] and [/] and \x1b[2J"))
    assert console.export_text().strip() == "[bold]x[/bold] and [/] and \\x1b[2J"
