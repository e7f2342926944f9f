"""Job execution: the durable queue lives in the database; workers claim and run jobs."""
