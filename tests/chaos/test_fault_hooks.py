"""The test-only fault hooks themselves (services/runtime/faults.py): off unless named, fire
exactly at the N-th time their point is reached, and refuse unknown names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.runtime.faults import FAULT_EXIT_CODE, Faults
from services.runtime.settings import ServiceSettings

pytestmark = pytest.mark.chaos

SCRIPT = """
from services.runtime.faults import Faults
faults = Faults(["crash_after_publish_before_mark@3"])
for i in range(1, 10):
    faults.point("crash_after_commit_before_publish")  # another hook's point: never fires
    print(i, flush=True)
    faults.point("crash_after_publish_before_mark")
"""


def test_no_real_configuration_enables_a_hook() -> None:
    assert ServiceSettings().fault_hooks == frozenset()
    Faults().point("crash_after_commit_before_publish")  # a no-op


def test_a_hook_ends_the_process_at_its_nth_point() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == FAULT_EXIT_CODE
    assert done.stdout.split() == ["1", "2", "3"]
    assert "fault hook fired: crash_after_publish_before_mark" in done.stderr


def test_an_unknown_hook_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault hook"):
        Faults(["crash_somewhere"])
