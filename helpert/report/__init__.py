"""Report: what a user reads of a comparison - terminal views (:mod:`.show`, :mod:`.tables`), the
self-contained HTML report (:mod:`.html`) and the plots (:mod:`.plot`). The last stage of the flow: it
reads runs through :class:`helpert.compare.ComparedRun` and never computes a metric itself.
"""
