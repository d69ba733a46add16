"""Code blocks are saved only when the tracking script can carry them as written."""

from __future__ import annotations

import pytest

from occur.domain.code_blocks import SyntaxProblem, syntax_problem, wrap


@pytest.mark.parametrize(
    "code",
    [
        "",
        "// nothing yet",
        "_hsq.push(['trackCustomBehavioralEvent', {name: 'pe1_played_video'}]);",
        "var _hsq = window._hsq = window._hsq || [];\nif (location.hash) {\n  return;\n}",
        "document.querySelectorAll('video').forEach(v => v.addEventListener('play', () => {}));",
        "(async () => { await fetch('/x'); })();",
        "async function load() { for await (const x of y) {} }",
        "const s = '}); evil(); (function(){';",
        "const t = `a ${1 + 1} }) (`;\n/* }) */",
        "var html = '<!-- not a comment -->';",
        "while (i-->0) { tick(); }",
        "x = 1 // a comment at the very end",
        "let café = 'crème';",
    ],
)
def test_valid_blocks_pass(code: str) -> None:
    assert syntax_problem(code) is None


@pytest.mark.parametrize(
    ("code", "line", "column", "says"),
    [
        ("foo(", 1, 1, "unexpected 'foo('"),
        ("let x = ;", 1, 7, "unexpected '='"),
        ("if (a) {\n  b(\n}", 2, 3, "unexpected 'b('"),
        ("ok();\nlet é = 'x'; y(", 2, 14, "unexpected 'y('"),
        ("`never closed", 1, 1, "unexpected '`never'"),
        ("/* never closed", 1, 1, "unexpected"),
        # Escaping the wrapper: parses as a program, but runs outside the block's function.
        ("}); evil(); (function(){", 1, 1, "closes the function the block runs in"),
        ("}) + (function(){", 1, 1, "closes the function the block runs in"),
        ("a = 1\n})\n;(function(){", 2, 1, "closes the function"),
        # Browsers read `<!--` as a comment, tree-sitter as operators: refused.
        ("var y = a <!-- b", 1, 11, "HTML-like comments"),
        ("await fetch('/x');", 1, 1, "'await' only works inside an async function"),
        ("function f() { await g(); }", 1, 16, "'await' only works"),
    ],
)
def test_invalid_blocks_say_where_and_why(code: str, line: int, column: int, says: str) -> None:
    problem = syntax_problem(code)
    assert problem is not None
    assert (problem.line, problem.column) == (line, column), problem
    assert says in problem.reason
    assert problem.message.startswith(f"Line {line}, column {column}: ")


def test_the_checked_text_is_what_the_script_carries() -> None:
    assert wrap("x()") == "(function(){\nx()\n})"
    assert SyntaxProblem(2, 5, "missing ')'").message == "Line 2, column 5: missing ')'"
