"""The public surface: one curated, sorted ``__all__`` whose names all resolve."""

import hotmesh_nb


def test_all_is_sorted_and_unique() -> None:
    names = hotmesh_nb.__all__
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_every_exported_name_resolves() -> None:
    for name in hotmesh_nb.__all__:
        assert getattr(hotmesh_nb, name) is not None, name


def test_no_accidental_public_names() -> None:
    public = {n for n in vars(hotmesh_nb) if not n.startswith("_")}
    modules = {"connection", "errors", "runtime", "durations", "keys"}
    extra = public - set(hotmesh_nb.__all__) - modules
    # Submodules imported as a side effect are fine; anything else must be exported.
    assert all(getattr(hotmesh_nb, n).__class__.__name__ == "module" for n in extra), extra


def test_the_layers_above_the_engine_load_on_first_use() -> None:
    # A fresh interpreter: importing the package loads no MeshFlow, MeshData, MeshCall,
    # search or notebook module; asking for one of their names loads it.
    import subprocess
    import sys

    code = (
        "import sys, hotmesh_nb\n"
        "layers = ('meshflow', 'meshdata', 'meshcall', 'search', 'notebook')\n"
        "loaded = lambda: sorted(m for m in sys.modules if m.split('.')[1:2] and "
        "m.split('.')[1] in layers and m.startswith('hotmesh_nb.'))\n"
        "print(loaded())\n"
        "hotmesh_nb.MeshFlow\n"
        "print('hotmesh_nb.meshflow' in sys.modules, 'MeshFlow' in dir(hotmesh_nb))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "True True"]


def test_internal_modules_are_private_with_unique_basenames() -> None:
    from pathlib import Path

    package = Path(hotmesh_nb.__file__).parent
    public = {"meshflow/workflow.py"}  # documented import path (workflow API)
    names = []
    for path in package.rglob("*.py"):
        relative = path.relative_to(package).as_posix()
        if path.name == "__init__.py":
            continue
        names.append(path.name.lstrip("_"))
        if path.parent != package and relative not in public:
            assert path.name.startswith("_"), f"{relative} is internal: name it _{path.name}"
    repeated = {n for n in names if names.count(n) > 1}
    assert not repeated, f"basenames repeat: {sorted(repeated)}"
