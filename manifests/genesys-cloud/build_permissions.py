"""Derive the OAuth client's permissions from the code: `python manifests/genesys-cloud/build_permissions.py`.

Reads connectors/genesys/*.py without importing them (AST), finds every `self._t.request(method,
path)` and `self._t.paginate(path)` call, renders each path as a template, matches it to the
reference operation (shared/reference/genesys-cloud-api.json) and writes oauth-client.json with
the union of the permissions those operations need. Run it after changing a connector; the
manifest test fails when the committed file and the code disagree.

Mode ANY means one listed permission suffices: we grant one that another operation already needs
when there is one (fewer grants), else the first listed (the operation's own permission).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONNECTORS = ROOT / "connectors" / "genesys"
REFERENCE = ROOT.parent / "shared" / "reference" / "genesys-cloud-api.json"
OUTPUT = HERE / "oauth-client.json"
ROLE_NAME = "Coachwire Integration"
_PARAM = re.compile(r"\{[^}]*\}")


def module_constants(tree: ast.Module) -> dict[str, str]:
    """Top-level `NAME = "..."` string constants (BASE, BU, ...)."""
    found: dict[str, str] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target, value = node.targets[0], node.value
        if (isinstance(target, ast.Name) and isinstance(value, ast.Constant)
                and isinstance(value.value, str)):
            found[target.id] = value.value
    return found


def render(node: ast.AST, names: dict[str, ast.AST], constants: dict[str, str]) -> str | None:
    """A path template: literals kept, known names substituted, anything else `{}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in constants:
            return constants[node.id]
        if node.id in names:
            return render(names[node.id], names, constants)
        return None
    if isinstance(node, ast.JoinedStr):
        return "".join(_render_part(part, names, constants) for part in node.values)
    return None


def _render_part(part: ast.AST, names: dict[str, ast.AST], constants: dict[str, str]) -> str:
    if isinstance(part, ast.Constant):
        return str(part.value)
    inner = part.value if isinstance(part, ast.FormattedValue) else part
    rendered = render(inner, names, constants) if isinstance(inner, ast.Name) else None
    return rendered if rendered is not None else "{}"


def _local_strings(func: ast.FunctionDef) -> dict[str, ast.AST]:
    """`path = f"..."` style assignments inside one method."""
    names: dict[str, ast.AST] = {}
    for node in ast.walk(func):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            names[node.targets[0].id] = node.value
    return names


def _is_transport_call(node: ast.AST, attr: str) -> bool:
    """`self._t.<attr>(...)`"""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == attr and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "_t")


def _callers_methods(tree: ast.Module, func_name: str, position: int) -> list[str]:
    """Literal values passed at `position` to `self.<func_name>(...)` anywhere in the module."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == func_name and len(node.args) > position):
            arg = node.args[position]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append(arg.value)
    return found


def _methods_of(call: ast.Call, func: ast.FunctionDef, tree: ast.Module) -> list[str]:
    first = call.args[0]
    if isinstance(first, ast.Constant):
        return [first.value]
    if isinstance(first, ast.Name):  # a parameter: whatever the module's callers pass
        params = [a.arg for a in func.args.args]
        if first.id in params:
            return _callers_methods(tree, func.name, params.index(first.id) - 1)
    raise ValueError(f"{func.name}: cannot tell the HTTP method of a transport call")


def calls_in_module(source: str) -> set[tuple[str, str]]:
    """(METHOD, path template) for every transport call in one connector module."""
    tree = ast.parse(source)
    constants, found = module_constants(tree), set()
    for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        names = _local_strings(func)
        for node in ast.walk(func):
            if _is_transport_call(node, "request"):
                methods, path_node = _methods_of(node, func, tree), node.args[1]
            elif _is_transport_call(node, "paginate"):
                methods, path_node = ["GET"], node.args[0]
            else:
                continue
            path = render(path_node, names, constants)
            if path is None:
                raise ValueError(f"{func.name}: cannot render the path of a transport call")
            found.update((method, path) for method in methods)
    return found


def connector_calls(folder: Path = CONNECTORS) -> set[tuple[str, str]]:
    calls: set[tuple[str, str]] = set()
    for module in sorted(folder.glob("*.py")):
        calls |= calls_in_module(module.read_text())
    return calls


def _shape(path: str) -> str:
    return _PARAM.sub("{}", path)


def match_operation(method: str, path: str, operations: list[dict]) -> dict | None:
    """The reference operation for a rendered template; a literal segment beats a {param}."""
    shape = _shape(path)
    exact = [op for op in operations if op["method"] == method and _shape(op["path"]) == shape]
    if exact:
        return exact[0]
    pattern = re.compile(re.escape(shape).replace(r"\{\}", "[^/]+"))
    loose = [op for op in operations
             if op["method"] == method and pattern.fullmatch(_shape(op["path"]))]
    return min(loose, key=lambda op: op["path"].count("{"), default=None)


def used_operations(reference: dict, calls: set[tuple[str, str]]) -> list[dict]:
    operations, used, unknown = reference["operations"], {}, []
    for method, path in sorted(calls):
        op = match_operation(method, path, operations)
        if op is None:
            unknown.append(f"{method} {path}")
        else:
            used[(op["method"], op["path"])] = op
    if unknown:
        raise ValueError(f"connector calls not in the reference: {unknown}")
    return [used[key] for key in sorted(used)]


def choose_permissions(operations: list[dict]) -> dict[tuple[str, str], list[str]]:
    """Per operation, the permissions we grant for it (see the module docstring for ANY)."""
    required = {p for op in operations if _needs_all(op) for p in op["permissions"]["list"]}
    chosen: dict[tuple[str, str], list[str]] = {}
    for op in operations:
        listed = op["permissions"]["list"]
        if not listed or op["permissions"]["mode"] == "NONE":
            chosen[(op["method"], op["path"])] = []
        elif _needs_all(op):
            chosen[(op["method"], op["path"])] = list(listed)
        else:
            shared = [p for p in listed if p in required]
            pick = shared[0] if shared else listed[0]
            required.add(pick)
            chosen[(op["method"], op["path"])] = [pick]
    return chosen


def _needs_all(op: dict) -> bool:
    perms = op["permissions"]
    return perms["mode"] == "ALL" or (perms["mode"] == "ANY" and len(perms["list"]) == 1)


def policies(permissions: list[str]) -> list[dict]:
    """permissionPolicies as the role API takes them: one per domain:entity, actions grouped."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for permission in permissions:
        domain, entity, action = permission.split(":")
        grouped.setdefault((domain, entity), []).append(action)
    return [{"domain": d, "entityName": e, "actionSet": sorted(a)}
            for (d, e), a in sorted(grouped.items())]


def build(reference: dict, calls: set[tuple[str, str]]) -> dict:
    operations = used_operations(reference, calls)
    chosen = choose_permissions(operations)
    permissions = sorted({p for granted in chosen.values() for p in granted})
    return {
        "_generated": "by manifests/genesys-cloud/build_permissions.py from the connector code "
                      "and shared/reference/genesys-cloud-api.json; do not edit by hand",
        "_install": "Create the role, then the OAuth client with roleDivisions pointing at it: "
                    "roleId is the id Genesys gives the new role, divisionId the home division's "
                    "(or one entry per division the tenant coaches). Topic permissions "
                    "are runtime data (GET /api/v2/notifications/availabletopics); the listener "
                    "logs any topic the host rejects with its missingPermissions.",
        "client": {"name": "Coachwire", "authorizedGrantType": "CLIENT-CREDENTIALS",
                   "roleDivisions": [{"roleId": f"<id of the role {ROLE_NAME!r}>",
                                      "divisionId": "<id of the home division>"}]},
        "role": {"name": ROLE_NAME, "description": "What the Coachwire connectors call",
                 "permissions": permissions, "permissionPolicies": policies(permissions)},
        "operations": [_operation_entry(op, chosen) for op in operations],
    }


def _operation_entry(op: dict, chosen: dict) -> dict:
    return {"method": op["method"], "path": op["path"], "operationId": op["operationId"],
            "mode": op["permissions"]["mode"], "listed": op["permissions"]["list"],
            "granted": chosen[(op["method"], op["path"])]}


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv or sys.argv[1:])
    manifest = build(json.loads(REFERENCE.read_text()), connector_calls())
    text = json.dumps(manifest, indent=2) + "\n"
    if check:
        same = OUTPUT.exists() and OUTPUT.read_text() == text
        print("oauth-client.json is current" if same else "oauth-client.json is stale")
        return 0 if same else 1
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(manifest['role']['permissions'])} permissions "
          f"for {len(manifest['operations'])} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
