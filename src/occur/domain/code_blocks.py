"""Custom code blocks: is a block JavaScript that stays inside the function it runs in?

The tracking script carries each block as `(function(){\\n<code>\\n})` (see
services/tracking_script.py), compiled into one file with the tracker. A block with a
syntax error would stop the browser from running the whole file, tracker included, on
every page of the site; a block like `}); evil(); (function(){` would parse but close
its wrapper and run outside the isolation the tracker gives each block. So a block is
saved only when the very text the script carries parses (tree-sitter-javascript) with
no error and the wrapper's body spans exactly the block.

tree-sitter checks grammar, not every rule a browser enforces before running a file;
the one such mistake a block is likely to make, `await` outside an async function, is
checked here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

PREFIX = "(function(){\n"
SUFFIX = "\n})"
_PREFIX_BYTES = len(PREFIX.encode())
_LANGUAGE = Language(tree_sitter_javascript.language())
_FUNCTIONS = {
    "function_declaration",
    "function_expression",
    "function",
    "arrow_function",
    "method_definition",
    "generator_function",
    "generator_function_declaration",
}
# Browsers read `<!--` anywhere and `-->` at the start of a line as a one-line comment
# (ECMAScript Annex B); tree-sitter reads them as operators. Where the two disagree on
# what is code, a block could hide a brace from one of them: refuse both outside
# strings, comments and regular expressions.
_HTML_COMMENT = re.compile(r"<!--|^(?:[ \t]|/\*[^\n]*?\*/)*-->", re.MULTILINE)
_TEXT_NODES = {"string", "template_string", "comment", "regex", "html_comment"}


@dataclass(frozen=True)
class SyntaxProblem:
    """Where a block fails (1-based line and column in the block) and why."""

    line: int
    column: int
    reason: str

    @property
    def message(self) -> str:
        return f"Line {self.line}, column {self.column}: {self.reason}"


def wrap(code: str) -> str:
    """The text the tracking script carries for a block, exactly as checked."""
    return PREFIX + code + SUFFIX


def syntax_problem(code: str) -> SyntaxProblem | None:
    """The first problem that keeps a block out of the tracking script, or None."""
    source = wrap(code).encode()
    tree = Parser(_LANGUAGE).parse(source)
    root = tree.root_node
    broken = _first_broken(root)
    if broken is not None:
        return _problem(code, broken.start_byte, _reason(broken, source))
    body = _wrapper_body(root)
    if body is None or root.named_child_count != 1 or body.end_byte != len(source) - 1:
        end = body.end_byte if body is not None else _PREFIX_BYTES + 1
        return _problem(
            code, end - 1, "this closes the function the block runs in (an extra '}' or ')')"
        )
    for found in _HTML_COMMENT.finditer(code):
        start = _PREFIX_BYTES + len(code[: found.start()].encode())
        if not _inside_text(root, start):
            return _problem(code, start, "HTML-like comments (<!-- and -->) are not allowed")
    waiting = _await_outside_async(body)
    if waiting is not None:
        return _problem(code, waiting.start_byte, "'await' only works inside an async function")
    return None


def _first_broken(node: Node) -> Node | None:
    """The first ERROR or MISSING node in document order."""
    if node.is_missing or node.type == "ERROR":
        return node
    if not node.has_error:
        return None
    for child in node.children:
        found = _first_broken(child)
        if found is not None:
            return found
    return None


def _reason(node: Node, source: bytes) -> str:
    if node.is_missing:
        return f"missing {node.type!r}"
    text = source[node.start_byte : min(node.end_byte, len(source) - len(SUFFIX))]
    shown = text.decode(errors="replace").strip().split("\n", 1)[0][:30]
    return f"unexpected {shown!r}" if shown else "unexpected end of the code"


def _wrapper_body(root: Node) -> Node | None:
    """The body of the function the program starts with, when it starts with the wrapper."""
    if root.named_child_count < 1:
        return None
    statement = root.named_children[0]
    if statement.type != "expression_statement" or statement.named_child_count != 1:
        return None
    paren = statement.named_children[0]
    if paren.type != "parenthesized_expression" or paren.named_child_count != 1:
        return None
    function = paren.named_children[0]
    body = function.child_by_field_name("body")
    if function.type != "function_expression" or body is None:
        return None
    return body if body.start_byte == _PREFIX_BYTES - 2 else None


def _inside_text(root: Node, start: int) -> bool:
    node: Node | None = root.descendant_for_byte_range(start, start + 1)
    while node is not None:
        if node.type in _TEXT_NODES:
            return True
        node = node.parent
    return False


def _await_outside_async(node: Node) -> Node | None:
    """An `await` whose nearest enclosing function is not async (the wrapper is not)."""
    for child in node.children:
        if child.type in _FUNCTIONS:
            if any(part.type == "async" for part in child.children):
                continue
            found = _await_outside_async(child)
        elif child.type == "await_expression":
            return child
        else:
            found = _await_outside_async(child)
        if found is not None:
            return found
    return None


def _problem(code: str, byte_offset: int, reason: str) -> SyntaxProblem:
    """Turn a byte offset in the wrapped text into a line and column of the block."""
    encoded = code.encode()
    offset = min(max(byte_offset - _PREFIX_BYTES, 0), len(encoded))
    before = encoded[:offset].decode(errors="ignore")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return SyntaxProblem(line, column, reason)
