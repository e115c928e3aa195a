"""The patch registry (workflows/patches.py) names exactly the patch ids the workflows use."""

import ast
from pathlib import Path

from workflows.patches import PATCHES

WORKFLOWS = Path(__file__).parent.parent.parent / "workflows"


def patch_ids_in_workflows() -> dict[str, list[str]]:
    """Each ``workflow.patched`` / ``workflow.deprecate_patch`` id in workflows/ (also through
    ``IncidentFlow._patched``), with where it is used."""
    modules = {path: ast.parse(path.read_text(), str(path)) for path in sorted(WORKFLOWS.rglob("*.py"))}
    constants = {  # module-level string constants of workflows/, which the workflows import from each other
        target.id: statement.value.value
        for module in modules.values()
        for statement in module.body
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
        for target in statement.targets
        if isinstance(target, ast.Name)
    }
    used: dict[str, list[str]] = {}
    for path, module in modules.items():
        asks_for_its_callers = {  # IncidentFlow._patched's own workflow.patched(patch_id): its callers name the ids
            id(node)
            for function in ast.walk(module)
            if getattr(function, "name", None) == "_patched"
            for node in ast.walk(function)
        }
        for node in ast.walk(module):
            if (
                id(node) not in asks_for_its_callers
                and isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("patched", "_patched", "deprecate_patch")
            ):
                where = f"{path.name}:{node.lineno}"
                argument = node.args[0] if len(node.args) == 1 else None
                patch_id = argument.value if isinstance(argument, ast.Constant) else constants.get(getattr(argument, "id", None))
                assert isinstance(patch_id, str), (
                    f"{where}: a patch id is a string literal or a module constant of workflows/, so it can be registered"
                )
                used.setdefault(patch_id, []).append(where)
    return used


def test_every_patch_in_the_workflows_is_registered_and_every_registered_patch_is_used():
    used = patch_ids_in_workflows()
    assert not (unregistered := sorted(set(used) - set(PATCHES))), (
        f"add these to workflows/patches.py: {unregistered} (used at {[used[i] for i in unregistered]})"
    )
    assert not (unused := sorted(set(PATCHES) - set(used))), f"registered but used nowhere in workflows/: {unused}"
