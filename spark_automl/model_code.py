"""The library code a logged model carries (its MLflow code_paths): only the modules the pickled
model refers to and what they import, not the whole package with its data.

Which modules: the classes and functions the model's pickle names (read back with an Unpickler that
records them), closed over every `import` in their source, lazy function-level ones included, plus
the packages on their path. Read from the installed directory or from the wheel / zip the library
was imported from (spark-submit --py-files).
"""

from __future__ import annotations

import ast
import io
import os
import pickle
import zipfile
from typing import Any, Callable, Iterable

PACKAGE = __name__.split(".")[0]
CODE_FILES = (".py", ".typed")


def referenced_modules(obj: Any) -> set[str]:
    """The package's modules that `obj`'s pickle (as MLflow writes it, with cloudpickle) refers to."""
    import cloudpickle

    found: set[str] = set()

    class _Recorder(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            if module.split(".")[0] == PACKAGE:
                found.add(module)
            return super().find_class(module, name)

    _Recorder(io.BytesIO(cloudpickle.dumps(obj))).load()
    return found


class PackageFiles:
    """The package's code files by path ('spark_automl/x/y.py'), from a folder or an archive."""

    def __init__(self) -> None:
        here = os.path.dirname(os.path.abspath(__file__))
        self.readers: dict[str, Callable[[], bytes]] = {}
        if os.path.isdir(here):
            root = os.path.dirname(here)
            for folder, dirs, names in os.walk(here):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                for name in names:
                    if name.endswith(CODE_FILES):
                        path = os.path.join(folder, name)
                        self.readers[os.path.relpath(path, root).replace(os.sep, "/")] = _file_reader(path)
            return
        archive, parts = here, []
        while not os.path.isfile(archive):  # .../spark_automl-x.whl/spark_automl -> the .whl
            head, part = os.path.split(archive)
            if head == archive:
                raise FileNotFoundError(f"{PACKAGE} is imported from {here}, neither a directory nor an archive")
            archive = head
            parts.insert(0, part)
        prefix = "/".join(parts[:-1])
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n.startswith("/".join(parts) + "/") and n.endswith(CODE_FILES)]
        for name in names:
            self.readers[name[len(prefix) + 1:] if prefix else name] = _zip_reader(archive, name)

    def module_path(self, module: str) -> str | None:
        base = module.replace(".", "/")
        for path in (f"{base}.py", f"{base}/__init__.py"):
            if path in self.readers:
                return path
        return None

    def write(self, paths: Iterable[str], target: str) -> None:
        for path in paths:
            out = os.path.join(target, *path.split("/"))
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as fh:
                fh.write(self.readers[path]())


def _file_reader(path: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with open(path, "rb") as fh:
            return fh.read()
    return read


def _zip_reader(archive: str, name: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with zipfile.ZipFile(archive) as zf:
            return zf.read(name)
    return read


def _imports(files: PackageFiles, module: str, path: str) -> set[str]:
    """Every package module `module`'s source imports, at any depth of the file."""
    from . import _EXPORTS  # `from spark_automl import Name` resolves through the lazy public names

    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(files.readers[path]())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            out.add(target)
            for alias in node.names:
                out.add(f"{target}.{alias.name}")  # a submodule, when it is one (dropped below otherwise)
                if target == PACKAGE and alias.name in _EXPORTS:
                    out.add(f"{PACKAGE}{_EXPORTS[alias.name]}")
    return out


def needed_paths(files: PackageFiles, start: Iterable[str]) -> set[str]:
    """The files of `start`'s modules, of everything they import, and of the packages above them."""
    seen: set[str] = set()
    todo = list(start)
    paths: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = files.module_path(module)
        if path is None:
            continue
        paths.add(path)
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        todo.extend(_imports(files, module, path))
    typed = f"{PACKAGE}/py.typed"
    return paths | ({typed} if typed in files.readers else set())


def model_code(scratch: str, model: Any = None, also: Iterable[str] = ()) -> str:
    """A copy of the code `model` needs (all of the package's code when model is None) under
    `scratch`; `also`: modules MLflow loads by name (a pyfunc loader_module). Returns the package
    folder for MLflow's code_paths."""
    files = PackageFiles()
    paths = set(files.readers) if model is None else needed_paths(files, {*referenced_modules(model), *also})
    files.write(paths, os.path.join(scratch, "code"))
    return os.path.join(scratch, "code", PACKAGE)
