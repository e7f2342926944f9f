"""The documents and the job queue behind one object, for callers not moved yet.

Deprecated: use :class:`lexo.store.documents.Documents`, :class:`lexo.store.job_queue.JobQueue`
and :class:`lexo.store.corrections.Corrections` (``runtime.documents``, ``runtime.queue``,
``runtime.corrections``). ``lexo.cli`` and ``lexo.web`` still read ``runtime.repo``.
"""

from __future__ import annotations

from lexo.store.documents import Documents
from lexo.store.job_queue import JobQueue


class Repository(Documents, JobQueue):
    """Every method of :class:`Documents` and :class:`JobQueue` over one database."""
