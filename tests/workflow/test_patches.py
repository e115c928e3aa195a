"""The patch registry (workflows/patches.py) names exactly the patch ids the workflows use."""

import ast
from pathlib import Path

from workflows.patches import PATCHES

WORKFLOWS = Path(__file__).parent.parent.parent / "workflows"


def patch_ids_in_workflows() -> dict[str, list[str]]:
    """Each ``workflow.patched`` / ``workflow.deprecate_patch`` id in workflows/, with where it is used."""
    used: dict[str, list[str]] = {}
    for path in sorted(WORKFLOWS.rglob("*.py")):
        module = ast.parse(path.read_text(), str(path))
        constants = {
            target.id: statement.value.value
            for statement in module.body
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
            for target in statement.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(module):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("patched", "deprecate_patch")
            ):
                where = f"{path.name}:{node.lineno}"
                argument = node.args[0] if len(node.args) == 1 else None
                patch_id = argument.value if isinstance(argument, ast.Constant) else constants.get(getattr(argument, "id", None))
                assert isinstance(patch_id, str), (
                    f"{where}: a patch id is a string literal or a module constant, so it can be registered"
                )
                used.setdefault(patch_id, []).append(where)
    return used


def test_every_patch_in_the_workflows_is_registered_and_every_registered_patch_is_used():
    used = patch_ids_in_workflows()
    assert not (unregistered := sorted(set(used) - set(PATCHES))), (
        f"add these to workflows/patches.py: {unregistered} (used at {[used[i] for i in unregistered]})"
    )
    assert not (unused := sorted(set(PATCHES) - set(used))), f"registered but used nowhere in workflows/: {unused}"
