"""Running one of our modules in a fresh interpreter, from a checkout or an installed package alike.

The child loads this package from the folder the parent runs from (no install needed, and never another
copy of it that happens to be installed) and exits with the module's `main()`.
"""

from __future__ import annotations

import os

PACKAGE = __name__.split(".")[0]  # backprop_studio
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def boot_code(module: str) -> str:
    """Python source for `python -c`: register ROOT as the package, then `sys.exit(<module>.main())`."""
    return ("import importlib.machinery as m, importlib.util as u, sys\n"
            f"s = m.ModuleSpec({PACKAGE!r}, None, is_package=True)\n"
            f"s.submodule_search_locations = [{ROOT!r}]\n"
            f"sys.modules.setdefault({PACKAGE!r}, u.module_from_spec(s))\n"
            f"from {PACKAGE}.{module} import main\n"
            "sys.exit(main())")


def python_command(python: str, module: str, args: list[str] = ()) -> list[str]:
    """`python -c BOOT ARGS...` running `PACKAGE.<module>.main()` with ARGS as sys.argv[1:]."""
    return [python, "-c", boot_code(module), *args]
