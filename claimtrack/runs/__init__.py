"""The runs room: replication jobs and their results.

``jobs`` (the queue), ``worker`` and ``ray_backend`` (who runs them), ``launch`` and ``tracker``
(what the app shows of them), ``replication`` (result file → dated evidence) and ``signing``
(which results the store trusts). Talks to ``replicate`` only as a process and through its result
file. May import ``search`` and ``graph``.
"""
