from petitions.core.text import (
    has_control_chars,
    has_invisible_chars,
    markdown_to_plain,
    render_markdown,
)


def test_markdown_is_sanitised():
    html = str(render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1))"))
    assert "<strong>bold</strong>" in html
    assert "<script>" not in html
    assert 'href="javascript:' not in html
    assert "<a" not in html


def test_control_and_invisible_characters():
    assert has_control_chars("Ann\r\nBcc: x")
    assert has_control_chars("nul\x00")
    assert not has_control_chars("line\nbreak", allow_newlines=True)
    assert has_invisible_chars("evil\u202egnp.exe")
    assert not has_invisible_chars("Zoë Ørsted 山田")


def test_markdown_to_plain() -> None:
    assert markdown_to_plain("Tell them to **stop selling** [now](https://x.example).") == (
        "Tell them to stop selling now."
    )
    assert markdown_to_plain("One.\n\n- two\n- three &amp; <b>four</b>") == (
        "One. two three & <b>four</b>"
    )
    assert markdown_to_plain(None) == ""
