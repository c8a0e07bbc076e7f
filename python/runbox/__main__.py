"""``python -m runbox`` (and the ``runbox`` command a venv gets): the runbox
command line that came with the package, with its zygote."""

import os
import sys

from ._pool import binary


def main() -> None:
    """Runs the bundled ``runbox`` binary with this process's arguments."""
    exe = binary("runbox")
    os.environ.setdefault("RUNBOX_ZYGOTE", binary("runbox-zygote"))
    try:
        os.execv(exe, ["runbox", *sys.argv[1:]])
    except OSError as exc:
        sys.exit(f"runbox: cannot run {exe}: {exc}")


if __name__ == "__main__":
    main()
