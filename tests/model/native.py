"""The optional C extensions (setup.py) as tests need them: built, or a skip that CI fails."""

from types import ModuleType

from tests.fixtures.ci import skip_unless_ci


def built(module: ModuleType | None, name: str) -> ModuleType:
    """`module` (an extension import that may have failed); where it is None the test is
    skipped, except under CI, whose install has a C compiler and must have built it."""
    if module is None:
        skip_unless_ci(f"model.{name} is not built (no C compiler when the package was installed)")
    return module
