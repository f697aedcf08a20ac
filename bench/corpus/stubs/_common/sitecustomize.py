"""Forgiving imports for the corpus (on PYTHONPATH when real Alembic runs a project).

Revision files import the app's own modules for a constant, an enum or a column type, and
those modules import the whole app (web framework, settings, clients). Instead of installing
the app, every module whose file lies under $CORPUS_SRC is executed one top-level statement at
a time, and a statement that raises is skipped (an import of an absent package, a class built
on it, an app object). Packages keep their real `__path__`. What was skipped is appended to
$CORPUS_FORGIVING_LOG. Revision files themselves are loaded by Alembic, not through this.

A module `a.b.c` for which $CORPUS_STUBS/a/b/c.py exists is loaded from that file instead:
a minimal stand-in of our own for a module that cannot be imported even forgivingly.
"""

import __future__
import ast
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

SRC = os.environ.get("CORPUS_SRC")
STUBS = os.environ.get("CORPUS_STUBS")
LOG = os.environ.get("CORPUS_FORGIVING_LOG")


class ForgivingLoader(importlib.abc.Loader):
    def __init__(self, path):
        self.path = path

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        with open(self.path, "rb") as f:
            source = f.read()
        tree = ast.parse(source, self.path)
        skipped = []
        # `from __future__ import ...` holds for the whole file, so for every statement.
        flags = 0
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                for alias in node.names:
                    flags |= getattr(__future__, alias.name).compiler_flag
        for node in tree.body:
            code = compile(ast.Module(body=[node], type_ignores=[]), self.path, "exec",
                           flags=flags, dont_inherit=True)
            try:
                exec(code, module.__dict__)
            except Exception as error:  # noqa: BLE001 - skipping is the point
                skipped.append(f"{self.path}:{node.lineno}: {type(error).__name__}: {error}")
        if skipped and LOG:
            with open(LOG, "a") as f:
                f.write("\n".join(skipped) + "\n")


class ForgivingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if STUBS:
            stub = os.path.join(STUBS, *fullname.split(".")) + ".py"
            if os.path.isfile(stub):
                return importlib.util.spec_from_file_location(fullname, stub)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin or not SRC:
            return spec
        origin = os.path.abspath(spec.origin)
        if not origin.startswith(os.path.abspath(SRC) + os.sep) or not origin.endswith(".py"):
            return spec
        new = importlib.machinery.ModuleSpec(
            fullname, ForgivingLoader(origin), origin=origin,
            is_package=spec.submodule_search_locations is not None)
        if spec.submodule_search_locations is not None:
            new.submodule_search_locations = list(spec.submodule_search_locations)
        new.has_location = True
        return new


if SRC:
    sys.meta_path.insert(0, ForgivingFinder())
