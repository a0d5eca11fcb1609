"""Several ``mailtrack run`` processes on one database: who reads which mailbox, and the run loop.

``leases`` keeps one reader per mailbox (a lease row each worker renews and
another takes over when it lapses) and the list of live workers; ``node`` is
the loop one process runs: read the mailboxes it holds, process whatever mail
is waiting whoever archived it, deliver the outbox, send reminders and digests.
"""
