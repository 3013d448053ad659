"""Experiment registry: experiment name -> module and the corpus claim ids it tests.

``EXPERIMENTS`` lists what runs now. ``PLANNED`` maps the rl-methods sections (b)-(g) to the claim
ids the corpus uses, so the next engineer adds ``replicate/experiments/<name>.py`` with the same
interface (NAME, CLAIMS, SCALES, THRESHOLDS, CRITERION_TEXT, analyse) and moves it up.
"""

from __future__ import annotations

import importlib

EXPERIMENTS = {
    "entropy-law": {"module": "replicate.experiments.entropy_law", "claims": ["entropy-law"], "section": "rl-methods §a.1, §a.4 E-a1"},
    "entropy-covariance": {"module": "replicate.experiments.entropy_covariance", "claims": ["entropy-covariance"], "section": "rl-methods §a.2, §a.4 E-a2"},
}

PLANNED = {
    "entropy-interventions": {"claims": ["clip-kl-cov-preserve-entropy", "gppo-gradient-preservation", "dapo-clip-higher"], "section": "§a.3/E-a3, §b, §f2"},
    "latent-capability": {"claims": ["rl-narrows-pass-at-k", "prorl-expands-boundary", "latent-reasoning-deployed"], "section": "§d"},
    "two-phase": {"claims": ["two-phase-dynamics", "hicra-planning-credit"], "section": "§c"},
    "calibration": {"claims": ["binary-reward-hurts-calibration", "brier-reward-calibrates"], "section": "§e"},
    "reward-variance": {"claims": ["dro-variance-dual-use", "dapo-dynamic-sampling"], "section": "§f1, §f2"},
    "critique": {"claims": ["critique-breaks-plateau"], "section": "§g"},
}


def load(name: str):
    """Import the experiment module for ``name``; raises KeyError for an unknown experiment."""
    return importlib.import_module(EXPERIMENTS[name]["module"])
