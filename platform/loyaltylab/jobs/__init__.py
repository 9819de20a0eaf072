"""Background jobs: a ``Job`` row per run (status, percent, stage) and a huey queue to run it.

The embedded default keeps the queue in a SQLite file (``var/jobs.db``) consumed by threads of
``loyaltylab serve``; with ``LOYALTYLAB_REDIS_URL`` the queue lives in Redis and
``loyaltylab worker`` processes consume it on any number of machines.
"""

DEFAULT_QUEUE = "loyaltylab"
