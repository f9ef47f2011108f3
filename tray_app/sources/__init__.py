"""Adapters that talk HTTP or read credentials; the only place that imports requests.

requests imports charset_normalizer (compiled modules, over 2 MiB resident) for one thing: guessing the
encoding of a text answer that names none (Response.text, .apparent_encoding). Nothing here asks for
text: http.py reads the bytes and decodes JSON itself. So it is kept out before any module of this
package imports requests, which then assumes UTF-8 where it would have guessed (its documented
fallback) and would only warn that no detector is installed. A process that imported requests first
keeps its detector.
"""

import sys
import warnings

if "requests" not in sys.modules:
    sys.modules.setdefault("charset_normalizer", None)  # type: ignore[arg-type]  # None: "not importable"
    warnings.filterwarnings("ignore", "Unable to find acceptable character detection", module="requests")
