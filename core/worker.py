"""Each torchrun worker's entry point (`-m backprop_studio.core.worker`): our runner, core/runner.py,
which traces the user's script in this rank (see core/distributed.py)."""

import sys

from backprop_studio.core.runner import main

if __name__ == "__main__":
    sys.exit(main())
