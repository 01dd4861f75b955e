"""IOC Console entry point (`python main.py` or `ioc-console`)."""

from __future__ import annotations

import sys


def main() -> int:
    from views.startup_trace import mark
    mark("main")
    from views.shell import run

    return run(sys.argv)


if __name__ == "__main__":
    raise SystemExit(main())
