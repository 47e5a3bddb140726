"""A rendered view is gzipped quickly for its first reader, then smaller for later ones."""

from __future__ import annotations

import gzip
import json

from service.api.serving.representations import (
    GZIP_FIRST_LEVEL,
    GZIP_KEPT_LEVEL,
    RECOMPRESS_FROM_BYTES,
    RECOMPRESSOR,
    Rendered,
)

# a view's kind of JSON: many similar rows
CONTENT = json.dumps(
    {
        "rows": [
            {"place": f"ru-city-{n}", "dispatched": {"min": n, "max": 3 * n}} for n in range(9000)
        ]
    }
).encode()


def test_a_large_view_gets_a_quick_copy_now_and_the_smaller_one_soon() -> None:
    assert len(CONTENT) >= RECOMPRESS_FROM_BYTES

    rendered = Rendered(CONTENT, "application/json").compressed()
    first = rendered.gzipped
    RECOMPRESSOR.settle()

    # (compared by size: a gzip header holds the time it was made)
    assert first is not None and rendered.gzipped is not None
    assert len(first) == len(gzip.compress(CONTENT, compresslevel=GZIP_FIRST_LEVEL))
    assert len(rendered.gzipped) == len(gzip.compress(CONTENT, compresslevel=GZIP_KEPT_LEVEL))
    assert len(rendered.gzipped) < len(first)
    assert gzip.decompress(first) == gzip.decompress(rendered.gzipped) == CONTENT


def test_a_small_view_keeps_its_one_copy() -> None:
    small = CONTENT[: RECOMPRESS_FROM_BYTES // 2]
    rendered = Rendered(small, "application/json").compressed()
    first = rendered.gzipped
    RECOMPRESSOR.settle()
    assert rendered.gzipped is first and first is not None
    assert len(first) == len(gzip.compress(small, compresslevel=GZIP_FIRST_LEVEL))
