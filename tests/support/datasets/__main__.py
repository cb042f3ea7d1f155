"""``python -m tests.support.datasets CACHE_ROOT``: generate (or find) the datasets."""

from tests.support.datasets import main

raise SystemExit(main())
