"""The import contract (pyproject.toml, import-linter) fails when an import points up.

`make lint` runs it on the real tree; here it runs on a copy with one upward import added
back, which it must refuse, so the contract can't quietly stop checking anything.
"""

import re
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
    ("module", "upward"),
    [
        ("common/text.py", "import outerloop.views"),  # plumbing reading an app
        ("sessions/models.py", "import reactions.sharing"),  # sessions reading the recipients
        ("reactions/sharing.py", "import outerloop.habit"),  # the recipients reading the habit
        # The upward imports issue 13 found, each put back where it was:
        ("sessions/admin.py", "import outerloop.publish"),
        ("sessions/placement.py", "import reactions.models"),
        ("reactions/recipient.py", "import outerloop.throttles"),
        ("reactions/signals.py", "import outerloop.tasks"),
        ("reactions/emails.py", "import outerloop.models"),
        ("reactions/models.py", "import outerloop.models"),
        ("reactions/tasks.py", "import outerloop.tasks"),
        ("reactions/views.py", "import outerloop.views"),
        ("reactions/admin.py", "import outerloop.admin"),
        ("reactions/expiry.py", "import outerloop.habit"),
        # Inside common: plumbing that knows no builder, below the user model and the outbox.
        ("common/days.py", "import common.builders"),
        ("common/builders.py", "import common.outbox"),
    ],
)
def test_an_import_pointing_up_breaks_the_contract(tree, module, upward):
    source = tree / module
    source.write_text(source.read_text(encoding="utf-8") + f"\n{upward}  # noqa\n")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert re.search(r"Contracts: \d+ kept, [1-9]\d* broken\.", result.stdout), result.stdout
