"""The committed stubs (`_native.pyi`) describe the native module exactly."""

import ast
import inspect
import pathlib

import govdata
from govdata import _native

STUB = pathlib.Path(govdata.__file__).parent / "_native.pyi"
TREE = ast.parse(STUB.read_text(encoding="utf-8"))
DUNDER_OK = {"__init__", "__enter__", "__exit__"}
#: Instance attributes that an exception class sets besides its class attribute `code`.
EXCEPTION_ATTRS = {"AuditTamperedError": {"seq"}}


def _stub_top_level():
    names = {}
    for node in TREE.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return names


def _public(names):
    return {n for n in names if not (n.startswith("__") and n.endswith("__"))}


def _stub_members(cls: ast.ClassDef):
    members = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            members.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            members[node.target.id] = [node]
    return members


def _native_members(obj):
    return {n for n, v in vars(obj).items() if not (n.startswith("__") and n.endswith("__"))}


def test_the_stub_names_everything_the_module_has():
    stub = _stub_top_level()
    module = {n for n in dir(_native) if not (n.startswith("__") and n.endswith("__"))} | {"__version__"}
    ignored = {"_Path"}
    assert set(stub) - ignored == module | {"__version__"}


def test_every_class_has_its_stubbed_members():
    stub = _stub_top_level()
    for name, node in stub.items():
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(_native, name)
        stub_members = _stub_members(node)
        if issubclass(cls, BaseException):
            assert set(stub_members) == {"code"} | EXCEPTION_ATTRS.get(name, set()), name
            continue
        native = _native_members(cls)
        assert set(stub_members) - DUNDER_OK == native, name


def _params(fn: ast.FunctionDef):
    a = fn.args
    pos = [p.arg for p in a.posonlyargs + a.args]
    if pos and pos[0] == "self":
        pos = pos[1:]
    return pos, [p.arg for p in a.kwonlyargs]


def test_signatures_match():
    stub = _stub_top_level()
    for name, node in stub.items():
        if not isinstance(node, ast.ClassDef) or issubclass(getattr(_native, name), BaseException):
            continue
        cls = getattr(_native, name)
        for member, defs in _stub_members(node).items():
            fn = defs[0]
            if not isinstance(fn, ast.FunctionDef) or any(
                isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list
            ):
                if isinstance(fn, ast.FunctionDef):
                    assert isinstance(vars(cls)[member], type(vars(_native.Decision)["allowed"])), member
                continue
            target = cls if member == "__init__" else getattr(cls, member)
            sig = inspect.signature(target)
            native_pos = [p.name for p in sig.parameters.values()
                          if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in ("self", "$self")]
            native_kw = [p.name for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY]
            # The union of the overloads is the native signature.
            stub_pos, stub_kw = [], []
            for d in defs:
                p, k = _params(d)
                stub_pos += [x for x in p if x not in stub_pos]
                stub_kw += [x for x in k if x not in stub_kw]
            assert native_pos == stub_pos, f"{name}.{member}: {native_pos} != {stub_pos}"
            assert sorted(native_kw) == sorted(stub_kw), f"{name}.{member}: {native_kw} != {stub_kw}"


def test_module_functions_match():
    stub = _stub_top_level()
    for name, node in stub.items():
        if isinstance(node, ast.FunctionDef):
            sig = inspect.signature(getattr(_native, name))
            assert [p.name for p in sig.parameters.values()] == [a.arg for a in node.args.args + node.args.kwonlyargs], name
