"""Share of public functions, classes and methods in hingecheck/ that have a docstring.

Public: the name has no leading underscore, and neither has the class it sits in. Nested functions are not
counted. ``python tools/docstring_coverage.py [--missing] [PATH ...]``
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def public_definitions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """Module-level functions and classes, and the methods of public classes, that are public."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not node.name.startswith("_"):
            yield node
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and not item.name.startswith("_"):
                        yield item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[REPO / "hingecheck"])
    parser.add_argument("--missing", action="store_true", help="list the definitions without a docstring")
    args = parser.parse_args()
    files = sorted(f for p in args.paths for f in ([p] if p.is_file() else p.rglob("*.py")))
    total = documented = 0
    for f in files:
        for node in public_definitions(ast.parse(f.read_text(), str(f))):
            total += 1
            if ast.get_docstring(node):
                documented += 1
            elif args.missing:
                print(f"{f.relative_to(REPO) if f.is_relative_to(REPO) else f}:{node.lineno}: {node.name}")
    share = documented / total if total else 1.0
    print(f"{documented} of {total} public definitions have a docstring ({share:.0%})")


if __name__ == "__main__":
    main()
