"""claimtrack replication engine: tiny Llama, synthetic verifiable tasks, GRPO with entropy
instrumentation, and experiments that re-test ML-paper claims (rl-methods.md §0, §a).

Stands alone (stdlib, torch, transformers, numpy, scipy; matplotlib optional) and talks to
claimtrack only through ``result.json``. Entry point::

    python -m replicate list
    python -m replicate run entropy-law --scale smoke --seeds 1 --device cpu --out /tmp/el
"""

__all__: list[str] = []
