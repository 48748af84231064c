"""The step summary rendered by GitHub's own Markdown renderer (cmark-gfm, through the ``cmarkgfm`` bindings).

GitHub renders GITHUB_STEP_SUMMARY as GitHub Flavored Markdown; these tests render ours with the same C
library and its GitHub extensions, raw HTML allowed (stricter than GitHub's sanitizer), and read the HTML
back: every name from the API or the workflow must come out as exactly its text, inside a code element,
with no link, no HTML of its own and no comment that hides the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options
from hypothesis import given
from hypothesis import strategies as st

from enkryptify_action.errors import NotFoundError
from enkryptify_action.github.summary import code, md, render_error_summary, render_summary
from enkryptify_action.plan import ExportItem, ExportPlan, Note, Target

EVIL_FILE = "[x](https:evil.example) <!--"
OUR_TAGS = {"h3", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "strong", "ul", "li"}


def render(markdown: str) -> str:
    html: str = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return html


@dataclass
class Parsed(HTMLParser):
    """Tags seen, the text of each table body cell, of each ``code`` element and of the whole document."""

    tags: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    text: str = ""
    _cell: list[str] | None = None
    _code: list[str] | None = None
    _in_body: bool = False

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td":
            self._cell = []
        elif tag == "code":
            self._code = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._in_body:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "code" and self._code is not None:
            self.codes.append("".join(self._code))
            self._code = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        self.text += data
        for sink in (self._cell, self._code):
            if sink is not None:
                sink.append(data)

    def handle_comment(self, data: str) -> None:
        self.tags.append("<!--")


def parse(markdown: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(render(markdown))
    parsed.close()
    return parsed


def shown(text: str) -> str:
    """What a name looks like once on one line: line breaks as spaces, NUL as U+FFFD (as cmark does)."""
    return re.sub("\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]", " ", text).replace("\0", "\ufffd")


def plan_of(
    names: list[str], *, workspace: str = "acme", project: str = "web-app", env: str = "production"
) -> ExportPlan:
    target = Target(workspace=workspace, project=project, environment=env, environment_id="e1")
    items = tuple(ExportItem(f"N{i}", "value-never-shown", name) for i, name in enumerate(names))
    return ExportPlan(target=target, items=items)


def test_an_export_file_named_like_a_link_and_a_comment_renders_neither() -> None:
    plan = plan_of(["DB_URL", "API_KEY"])
    markdown = render_summary(plan, destinations=["environment variables"], dry_run=False, export_file=EVIL_FILE)
    parsed = parse(markdown)
    assert "a" not in parsed.tags and "<!--" not in parsed.tags
    assert set(parsed.tags) <= OUR_TAGS
    assert EVIL_FILE in parsed.codes  # the name itself, shown literally
    assert parsed.rows == [["N0", "DB_URL", "web-app", "production"], ["N1", "API_KEY", "web-app", "production"]]


def test_before_the_fix_the_same_name_rendered_a_link() -> None:
    """The old summary wrote the name raw into "Exported to: …": cmark-gfm makes it a link.

    (cmark-gfm keeps an inline ``<!--`` that is not closed in its paragraph as text; a renderer that passes
    raw HTML through hides everything after it.)
    """
    old = "Exported to: environment variables, dotenv file " + EVIL_FILE + ".\n\n| Name |\n| --- |\n| A |\n"
    assert "a" in parse(old).tags


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=24)


@given(st.lists(names, min_size=1, max_size=4), names, names, names, names)
def test_every_name_renders_as_exactly_its_text_in_code(
    sources: list[str], workspace: str, project: str, env: str, export_file: str
) -> None:
    plan = plan_of(sources, workspace=workspace, project=project, env=env)
    parsed = parse(render_summary(plan, destinations=["step outputs"], dry_run=False, export_file=export_file))
    assert set(parsed.tags) <= OUR_TAGS, parsed.tags
    assert parsed.rows == [[f"N{i}", shown(s), shown(project), shown(env)] for i, s in enumerate(sources)]
    for name in (workspace, project, env, export_file):
        assert shown(name) in parsed.codes


@given(names)
def test_a_code_span_outside_a_table_is_exactly_its_text(name: str) -> None:
    parsed = parse(f"- {code(name)} → `X` (renamed)\n")
    assert set(parsed.tags) <= OUR_TAGS and parsed.codes[0] == shown(name)


@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_prose_renders_as_exactly_its_text_and_never_a_link(text: str) -> None:
    parsed = parse(f"- `SOURCE`: {md(text)}\n")
    assert set(parsed.tags) <= OUR_TAGS, parsed.tags
    assert parsed.text.strip() == f"SOURCE: {shown(text)}".strip()


def test_prose_quoting_urls_emails_and_html_stays_text() -> None:
    message = "Environment 'www.evil.example' not found: see https://evil.example, mail a@b.example <b>x</b> $1$ @@x"
    parsed = parse(render_error_summary(NotFoundError(message, hint="Ask [admin](https://evil.example).")))
    assert "a" not in parsed.tags and "b" not in parsed.tags
    assert message in parsed.text and "Ask [admin](https://evil.example)." in parsed.text


def test_renamed_and_skipped_names_are_code_spans() -> None:
    target = Target(workspace="acme", project="web-app", environment="production", environment_id="e1")
    plan = ExportPlan(
        target=target,
        items=(ExportItem("A", "v", "a"),),
        renamed=(Note("`a`|<i>", "A", "sanitized from '`a`|<i>'"),),
        skipped=(Note("[l](https://evil.example)", None, "not valid"),),
    )
    parsed = parse(render_summary(plan, destinations=[], dry_run=False))
    assert set(parsed.tags) <= OUR_TAGS
    assert {"`a`|<i>", "[l](https://evil.example)"} <= set(parsed.codes)
