"""The TCP keepalives a PostgreSQL server is asked to use on our sessions, which may hold locks.

A session advisory lock goes when its connection goes (studio/db/advisory.py, studio/dagster_storage.py).
A run on another box that dies with its box, or behind a network that fails, never closes its socket:
the server keeps the session, and its lock, until TCP keepalive gives up, which Linux's defaults make
more than two hours, and work that needs the lock waits that long. With these the server probes a
silent connection after 30 s and drops it after 3 probes 10 s apart go unanswered: about a minute.
Connections over a Unix socket ignore them.
"""

SERVER_KEEPALIVES = {"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3"}
