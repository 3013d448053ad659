"""The present room: what people read, derived from the graph as of a date.

``views`` and ``charts`` (the app's data), ``board``, ``reading`` (the inquiry's honest read),
``prompt`` (research prompts), ``exports``, ``diff`` (what changed), ``inquiries`` (a user's own
question → an inquiry) and ``interactive``. May import every room but ``cli``; the app (``app/``)
imports this room and the ones below it.
"""
