#!/usr/bin/env python3
"""Print the test names found in tests/ (used by tests/meson.build to refuse
test files that are not registered, which would otherwise never run)."""
import pathlib
import sys

d = pathlib.Path(sys.argv[1])
names = [p.stem[5:] for p in (d / "unit").glob("test_*.c")]
names += ["py:" + p.stem[5:] for p in (d / "integration").glob("test_*.py")]
print(" ".join(sorted(names)))
