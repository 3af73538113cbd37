import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "fixtures" / "golden"
# Real data lives beside the repository (read-only); tests that need it skip when it is absent.
SHARED = Path(os.environ.get("CELLCAST_SHARED", ROOT.parent / "shared"))


def shared_path(rel: str) -> Path:
    p = SHARED / rel
    if not p.exists():
        pytest.skip(f"needs ../shared/{rel} (real data beside the repository; set CELLCAST_SHARED to point elsewhere)")
    return p


@pytest.fixture
def golden() -> Path:
    return GOLDEN
