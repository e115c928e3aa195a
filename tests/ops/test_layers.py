"""The layers point one way (docs/architecture.md): ``lint-imports`` checks the contracts in
pyproject.toml's [tool.importlinter] on every package, and the top-level modules import-linter cannot
read (it takes packages only: worker.py, devstack.py, settings.py) are held to the same layer list here."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent.parent
PYPROJECT = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]
CONFIG = PYPROJECT["importlinter"]
LAYERS = next(contract["layers"] for contract in CONFIG["contracts"] if contract["type"] == "layers")
TOP_LEVEL_MODULES = tuple(PYPROJECT["setuptools"]["py-modules"])


def layer_of() -> dict[str, int]:
    """Each top-level name and the position of its layer, top first."""
    return {name.strip(): position for position, layer in enumerate(LAYERS) for name in layer.split("|")}


def project_imports(source: str) -> set[str]:
    """The top-level project names a module imports, at module level or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(layer_of())


def upward_imports(module: str, source: str) -> list[str]:
    """What ``module`` imports from its own layer or one above it (a sibling in a layer is apart)."""
    position = layer_of()
    return sorted(name for name in project_imports(source) if name != module and position[name] <= position[module])


def test_the_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def test_everything_shipped_has_a_layer():
    packages = list(dict.fromkeys(package.split(".")[0] for package in PYPROJECT["setuptools"]["packages"]))
    assert sorted(layer_of()) == sorted([*packages, *TOP_LEVEL_MODULES])
    assert sorted(CONFIG["root_packages"]) == sorted(packages)


def test_the_top_level_modules_import_only_from_the_layers_below_them():
    for module in TOP_LEVEL_MODULES:
        assert upward_imports(module, (PROJECT / f"{module}.py").read_text()) == [], module


def test_an_upward_import_inside_a_function_is_found():
    worker = (
        "from settings import Settings\n\ndef declare():\n    from api.incidents import declare_incident\n    import devstack\n"
    )
    assert upward_imports("worker", worker) == ["api", "devstack"]
    assert upward_imports("settings", "from channels.targets import PublishWebhooks\n") == []


def test_docs_architecture_describes_every_layer_in_order():
    """docs/architecture.md's table of what each layer may import has one row per layer, top first."""
    rows = [
        line.split("|")[1].strip().strip("`")
        for line in (PROJECT / "docs" / "architecture.md").read_text().splitlines()
        if line.startswith("| `")
    ]
    names = [row.removesuffix("/").removesuffix(".py") for row in rows]
    layers = [name for name in names if name in layer_of()]
    assert sorted(layers) == sorted(layer_of())
    assert [layer_of()[name] for name in layers] == sorted(layer_of()[name] for name in layers)
