"""Experiment registry: experiment name -> module and the corpus claim ids it tests.

A new experiment is a module ``replicate/experiments/<name>.py`` with the interface of the others
(NAME, CLAIMS, SCALES, THRESHOLDS, CRITERION_TEXT, analyse, or its own ``run``) and one line here.
Claim ids are the corpus's (corpus/data/claims.yaml); a test checks that they exist there.
"""

from __future__ import annotations

import importlib

EXPERIMENTS = {
    "entropy-law": {"module": "replicate.experiments.entropy_law", "claims": ["entropy-law"], "section": "rl-methods §a.1, §a.4 E-a1"},
    "entropy-covariance": {"module": "replicate.experiments.entropy_covariance", "claims": ["entropy-covariance"], "section": "rl-methods §a.2, §a.4 E-a2"},
    "entropy-interventions": {"module": "replicate.experiments.entropy_interventions", "claims": ["clip-kl-cov-preserve-entropy", "gppo-gradient-preservation", "dapo-clip-higher"], "section": "rl-methods §a.3, §a.4 E-a3, §b, §f2"},
    "latent-capability": {"module": "replicate.experiments.latent_capability", "claims": ["rl-narrows-pass-at-k", "prorl-expands-boundary"], "section": "rl-methods §d"},
    "two-phase": {"module": "replicate.experiments.two_phase", "claims": ["two-phase-dynamics", "planning-token-entropy-rises", "hicra-planning-credit"], "section": "rl-methods §c"},
    "calibration": {"module": "replicate.experiments.calibration", "claims": ["brier-reward-calibrates", "binary-reward-hurts-calibration"], "section": "rl-methods §e"},
    "reward-variance": {"module": "replicate.experiments.reward_variance", "claims": ["dapo-dynamic-sampling", "dro-variance-dual-use", "dro-faster-training"], "section": "rl-methods §f1, §f2"},
    "critique": {"module": "replicate.experiments.critique", "claims": ["critique-breaks-plateau", "scalar-reward-plateau"], "section": "rl-methods §g"},
}

def load(name: str):
    """Import the experiment module for ``name``; raises KeyError for an unknown experiment."""
    return importlib.import_module(EXPERIMENTS[name]["module"])
