"""The import contract (pyproject.toml, import-linter) fails when an import points up.

`make lint` runs it on the real tree; here it runs on a copy with one upward import added
back, which it must refuse, so the contract can't quietly stop checking anything.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["outerloop", "reactions", "sessions", "common"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own dev tool
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def tree(tmp_path) -> Path:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: pip install -e '.[dev]'")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_as_it_is_keeps_the_contract(tree):
    result = lint_imports(tree)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "upward", "summary"),
    [
        # Plumbing reading an app: below the user model, so inside common too.
        ("common/text.py", "import outerloop.views", "0 kept, 2 broken"),
        # Sessions reading the recipients; the recipients reading the habit.
        ("sessions/models.py", "import reactions.sharing", "1 kept, 1 broken"),
        ("reactions/sharing.py", "import outerloop.habit", "1 kept, 1 broken"),
        # The upward imports issue 13 found, each put back where it was:
        ("sessions/admin.py", "import outerloop.publish", "1 kept, 1 broken"),
        ("sessions/placement.py", "import reactions.models", "1 kept, 1 broken"),
        ("reactions/recipient.py", "import outerloop.throttles", "1 kept, 1 broken"),
        ("reactions/signals.py", "import outerloop.tasks", "1 kept, 1 broken"),
        ("reactions/emails.py", "import outerloop.models", "1 kept, 1 broken"),
        ("reactions/models.py", "import outerloop.models", "1 kept, 1 broken"),
        ("reactions/tasks.py", "import outerloop.tasks", "1 kept, 1 broken"),
        ("reactions/views.py", "import outerloop.views", "1 kept, 1 broken"),
        ("reactions/admin.py", "import outerloop.admin", "1 kept, 1 broken"),
        ("reactions/expiry.py", "import outerloop.habit", "1 kept, 1 broken"),
        # Inside common: plumbing that knows no builder, below the user model and the outbox.
        ("common/days.py", "import common.builders", "1 kept, 1 broken"),
        ("common/builders.py", "import common.outbox", "1 kept, 1 broken"),
    ],
)
def test_an_import_pointing_up_breaks_the_contract(tree, module, upward, summary):
    source = tree / module
    source.write_text(source.read_text(encoding="utf-8") + f"\n{upward}  # noqa\n")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert f"Contracts: {summary}." in result.stdout
