"""The docs hold together: every relative link and #anchor of README.md and docs/ resolves, every
`miserymeter ...` command and `make` target they show exists (with its --flags), every image is
small, and every --help prints in full at 80 columns. No network: links to other sites are not
followed."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing

from conftest import CliRunner, cli_env
from miserymeter.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOCS = (
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "src/miserymeter/models/default.md",
    ROOT / "src/miserymeter/examples/README.md",
)
MAX_IMAGE_BYTES = 300_000

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
HTML_LINK = re.compile(r"<(?:img|a)\s[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.S)
# [text](target "title") and ![alt](target), the text may span lines; not inside code spans
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


@dataclass(frozen=True)
class Markdown:
    path: Path
    prose: str  # the text without fenced blocks and code spans (those hold no links)
    code: tuple[str, ...]  # every code span and fenced block line, continuations joined
    headings: tuple[str, ...]
    html_anchors: tuple[str, ...]


def read_markdown(path: Path) -> Markdown:
    prose: list[str] = []
    code: list[str] = []
    headings: list[str] = []
    in_fence = False
    block: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            if in_fence:
                code.extend(join_continued(block))
                block = []
            in_fence = not in_fence
            prose.append("")
            continue
        if in_fence:
            block.append(line)
            prose.append("")
            continue
        heading = HEADING.match(line)
        if heading:
            headings.append(heading.group(2))
        prose.append(line)
    text = "\n".join(prose)
    code.extend(" ".join(m.group(2).split()) for m in CODE_SPAN.finditer(text))
    without_code = CODE_SPAN.sub(" ", text)
    return Markdown(
        path, without_code, tuple(code), tuple(headings), tuple(HTML_ANCHOR.findall(text))
    )


def join_continued(lines: list[str]) -> list[str]:
    """A fenced block's shell lines, each `\\`-continued line joined to the next."""
    joined: list[str] = []
    current = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
        else:
            joined.append(current + line)
            current = ""
    if current:
        joined.append(current)
    return joined


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: its text lower-cased, punctuation dropped, spaces -> -."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = text.replace("`", "").lower()
    text = "".join(
        c
        for c in text
        if c in " -_" or unicodedata.category(c)[0] in "LN"  # letters, digits (any script)
    )
    return text.replace(" ", "-")


def anchors_of(markdown: Markdown) -> set[str]:
    anchors: set[str] = set(markdown.html_anchors)
    seen: dict[str, int] = {}
    for heading in markdown.headings:
        anchor = github_anchor(heading)
        n = seen.get(anchor, 0)
        seen[anchor] = n + 1
        anchors.add(anchor if n == 0 else f"{anchor}-{n}")
    return anchors


def links_of(markdown: Markdown) -> Iterator[str]:
    for m in LINK.finditer(markdown.prose):
        yield m.group(1)
    yield from HTML_LINK.findall(markdown.prose)


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the relative links and anchors of one Markdown file."""
    markdown = read_markdown(path)
    problems: list[str] = []
    for target in links_of(markdown):
        if SCHEME.match(target) or target.startswith("//"):
            continue  # another site: not followed (no network)
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(root)}: ({target})"
        if not linked.is_relative_to(root):
            problems.append(f"{where}: outside the repository")
            continue
        if not linked.exists():
            problems.append(f"{where}: no {linked.relative_to(root)}")
            continue
        if anchor:
            if linked.suffix != ".md":
                problems.append(f"{where}: an #anchor into a file that is not Markdown")
            elif anchor not in anchors_of(read_markdown(linked)):
                problems.append(f"{where}: no heading #{anchor} in {linked.relative_to(root)}")
    return problems


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(path: Path) -> None:
    problems = broken_links(path)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_checker_finds_a_broken_file_link_and_a_broken_anchor(tmp_path: Path) -> None:
    """A checker that finds nothing must not pass for one that works."""
    (tmp_path / "other.md").write_text("# Other page\n\n## Push notifications\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n## Inside listen: `listen --serve`\n\n"
        "[ok](other.md#push-notifications) [ok](#inside-listen-listen---serve)\n"
        "[gone](missing.md) [no anchor](other.md#pushes)\n"
        "![a picture\nover two lines](missing.png) [web](https://example.org/x.md)\n"
        "`[not a link](nowhere.md)`\n"
        '<img src="gone.png" width="260" alt="a phone">\n'
    )
    problems = broken_links(page, tmp_path)
    assert len(problems) == 4, problems
    assert "missing.md" in problems[0] and "#pushes" in problems[1]
    assert "missing.png" in problems[2] and "gone.png" in problems[3]


def test_github_anchors() -> None:
    assert github_anchor("Inside listen: `listen --serve`") == "inside-listen-listen---serve"
    assert github_anchor("Many rooms (a daycare)") == "many-rooms-a-daycare"
    assert github_anchor("Home Assistant (MQTT)") == "home-assistant-mqtt"
    assert github_anchor("Set-up on a Raspberry Pi") == "set-up-on-a-raspberry-pi"
    assert github_anchor("Bärenhöhle's 2 rooms") == "bärenhöhles-2-rooms"


def test_the_guide_has_a_table_of_contents_linking_every_page() -> None:
    contents = read_markdown(ROOT / "docs/README.md")
    linked = {t.partition("#")[0] for t in links_of(contents)}
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert pages <= linked, f"pages missing from docs/README.md: {sorted(pages - linked)}"


def test_readme_starts_with_the_two_commands() -> None:
    """`make run` and `make test` come first, in the README's first code block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = text.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:]]
    assert [c for c in commands if c] == ["make run", "make test"]
    assert "make test" in (ROOT / ".ci/run").read_text()


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_image_shown_is_small(path: Path) -> None:
    for target in links_of(read_markdown(path)):
        if target.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")):
            if SCHEME.match(target):
                continue
            size = (path.parent / target).stat().st_size
            assert size < MAX_IMAGE_BYTES, f"{target}: {size} bytes"


# --- commands and make targets -------------------------------------------------------------

# typer's own click (vendored): groups are told by their `commands`
CLI: Any = typer.main.get_command(app)
SEPARATORS = {"|", "||", "&&", ";", "sudo", "exec", "$", "(", "time"}
SHOWN_WITHOUT_PROGRAM = {"listen", "serve", "record", "classify", "evaluate", "train", "export"}


def commands_shown(code: str) -> Iterator[list[str]]:
    """Each `miserymeter COMMAND ...` in a line of code, as its words up to the next `|`, `;`,
    `&&` or `#`; also a code span that starts with a command's name and a --flag
    (`listen --serve`)."""
    words = code.split()
    for i, word in enumerate(words):
        program = word.rsplit("/", 1)[-1].lstrip("`(")
        if program != "miserymeter" or (i > 0 and words[i - 1] not in SEPARATORS):
            continue
        rest: list[str] = []
        for w in words[i + 1 :]:
            if w in SEPARATORS or w.startswith("#"):
                break
            rest.append(w)
        yield rest
    if (
        len(words) >= 2
        and words[0] in SHOWN_WITHOUT_PROGRAM
        and words[1].startswith("--")
        and not words[1].startswith("--no-print")
    ):
        yield words


def wrong_in(words: list[str]) -> str | None:
    """Why these words are not a real command with real options, or None."""
    if not words or words[0].startswith("-") or words[0].isupper():
        return None  # `miserymeter --help`, `miserymeter COMMAND --help`
    command: Any = CLI.commands.get(words[0])
    if command is None:
        return f"no command {words[0]!r}"
    args = words[1:]
    while hasattr(command, "commands") and args and not args[0].startswith("-"):
        sub = command.commands.get(args[0])
        if sub is None:
            return f"no command {words[0]} {args[0]!r}"
        command, args = sub, args[1:]
    options = {"--help"}
    for param in command.params:
        options.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
    for arg in args:
        if not arg.startswith("--") or arg == "--":
            continue
        for flag in arg.split("=", 1)[0].rstrip(",.`)").split("/"):  # --on/--off
            if flag not in options:
                return f"{words[0]} has no option {flag}"
    return None


MAKE_TARGETS = set(re.findall(r"^([A-Za-z][\w.-]*):", (ROOT / "Makefile").read_text(), re.M))


def make_targets_shown(code: str) -> Iterator[str]:
    words = code.split()
    for i, word in enumerate(words):
        if word == "make" and (i == 0 or words[i - 1] in SEPARATORS):
            for w in words[i + 1 :]:
                if w in SEPARATORS or w.startswith("#"):
                    break
                if not w.startswith("-") and "=" not in w and not w.isupper():
                    yield w  # not a placeholder: `make TARGET`


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_shown_exists_with_its_options(path: Path) -> None:
    problems = []
    for code in read_markdown(path).code:
        for words in commands_shown(code):
            wrong = wrong_in(words)
            if wrong:
                problems.append(f"{code!r}: {wrong}")
        for target in make_targets_shown(code):
            if target not in MAKE_TARGETS:
                problems.append(f"{code!r}: no make target {target!r}")
    assert not problems, "\n".join(problems)


def test_the_command_checker_finds_what_does_not_exist() -> None:
    assert wrong_in(["listen", "--room", "x", "--serve"]) is None
    assert wrong_in(["dataset", "stats", "data/", "--json"]) is None
    assert wrong_in(["export", "--start_checkpoint=a.pt", "--output_file=m.onnx"]) is None
    assert wrong_in(["listne"]) == "no command 'listne'"
    assert wrong_in(["listen", "--romm", "x"]) == "listen has no option --romm"
    assert wrong_in(["dataset", "stat"]) == "no command dataset 'stat'"
    assert wrong_in(["serve", "--on_probability/--off_probability"]) is None
    assert list(commands_shown("sudo -u postgres createdb --owner miserymeter miserymeter")) == []
    assert list(commands_shown("arecord -r 16000 | miserymeter listen --input -")) == [
        ["listen", "--input", "-"]
    ]
    assert list(make_targets_shown("make bench-store POSTGRES=postgresql://x")) == ["bench-store"]


# --- help texts ----------------------------------------------------------------------------


def all_commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [()]
    for name, command in CLI.commands.items():
        found.append((name,))
        if hasattr(command, "commands"):
            found.extend((name, sub) for sub in command.commands)
    return found


@pytest.mark.parametrize("command", all_commands(), ids=lambda c: " ".join(c) or "miserymeter")
def test_every_help_prints_in_full_at_80_columns(command: tuple[str, ...]) -> None:
    """Exit 0; no command's summary cut to "..."; every option says what it does."""
    result = typer.testing.CliRunner().invoke(
        app, [*command, "--help"], env={"COLUMNS": "80"}, terminal_width=80
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines), result.output
    if "Commands:" in lines:
        summaries = lines[lines.index("Commands:") + 1 :]
        assert not any(line.endswith("...") for line in summaries), result.output
    target = CLI
    for name in command:
        target = target.commands[name]
    for param in target.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"{' '.join(command)} {param.opts[0]} has no help text"


def test_python_dash_m_runs_the_command() -> None:
    """`python -m miserymeter` (where the console script is not on PATH) is the command."""
    shown = subprocess.run(
        [sys.executable, "-m", "miserymeter", "--help"],
        capture_output=True,
        text=True,
        env={**cli_env(), "COLUMNS": "80"},
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[:2] == ["Usage:", "miserymeter"], shown.stdout


def test_help_shows_the_config_tables_by_name(run_cli: CliRunner) -> None:
    """Rich markup would eat `[listen]`, `[serve]` and `[notify]` (test_config has more)."""
    shown = " ".join(run_cli("listen", "--help").stdout.split())
    for table in ("[listen]", "[[webhook]]", "[mqtt]", "[notify]", "[serve]"):
        assert table in shown
    assert "[notify]" in " ".join(run_cli("serve", "--help").stdout.split())


def test_the_reference_lists_every_option_of_every_command() -> None:
    """docs/reference.md has a section per command with every one of its options."""
    reference = (ROOT / "docs/reference.md").read_text(encoding="utf-8")
    sections = dict(
        (part.split("`", 1)[0], part) for part in reference.split("### `miserymeter ")[1:]
    )
    missing = []
    for command in all_commands()[1:]:
        target = CLI
        for name in command:
            target = target.commands[name]
        if hasattr(target, "commands"):
            continue
        section = sections.get(" ".join(command))
        if section is None:
            missing.append(" ".join(command))
            continue
        for param in target.params:
            listed = f"`{param.opts[0]}`" in section
            if param.param_type_name == "option" and param.name != "help" and not listed:
                missing.append(f"{' '.join(command)} {param.opts[0]}")
    assert missing == [], "not in docs/reference.md: " + ", ".join(missing)
