"""Job execution: the durable queue lives in the database; workers claim and run jobs.

:mod:`lexo.jobs.queue` is the protocol and registry of the two ways jobs reach workers:
``embedded`` (:mod:`lexo.jobs.embedded`, threads polling the job table) and ``celery``
(:mod:`lexo.jobs.celery`, Celery workers fed through a Redis or RabbitMQ broker). Either way
the job row is the truth and a worker owns a job only through its lease.
"""
