"""Distractor claims and papers for the search benchmarks (bench/search_eval.py, search_latency.py).

Realistic hard negatives, generated (seeded, no download): claims written like the shipped ones,
from the same vocabulary (entropy, pass@k, GRPO, calibration, agentic search, reward variance,
planning tokens ...), attached to made-up papers with arXiv-shaped ids, titles with acronym
nicknames ("TAPO: ...") and authors drawn from a pool of common surnames. Names the evaluation
queries look for (KL-Cov, HICRA, ProRL, ...) and first-author/year pairs the author queries use
are never generated, so a hit on a distractor is always a miss, never a second right answer.

    python bench/search_corpus.py --n 5000    # prints three samples
"""

from __future__ import annotations

import argparse
import datetime as dt
import random

SURNAMES = """Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Zheng
Liang Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Lu Du Ye Wei Smith
Johnson Brown Kim Lee Park Singh Kumar Gupta Patel Shah Nguyen Tran Garcia Martinez Rossi Muller
Schmidt Novak Ivanov Cohen Levy Sato Suzuki Tanaka Yue Cui Damani Khatri Agarwal Matsutani""".split()
# (surname, year) pairs an evaluation query names: never a distractor's first author in that year
RESERVED_FIRST = {("Yue", "2025"), ("Cui", "2025"), ("Wu", "2025"), ("Damani", "2025"),
                  ("Khatri", "2025"), ("Agarwal", "2025")}
RESERVED_NAMES = {"klcov", "clipcov", "hicra", "gppo", "cliphigher", "dapo", "rlcr", "critiquegrpo",
                  "nothinking", "entrocraft", "scalerl", "dro", "ragen", "ragen2", "prorl", "grpo"}
SYL = ["ta", "po", "re", "mix", "ve", "lo", "sa", "gen", "tri", "ka", "no", "va", "qu", "zen", "ar",
       "bo", "lu", "mi", "ster", "ion", "ex", "pl", "or", "de", "fi"]
PHENOMENA = ["entropy collapse", "reward hacking", "length bias", "mode collapse", "overthinking",
             "pass@k degradation", "calibration drift", "template collapse", "exploration decay",
             "advantage vanishing", "gradient conflict", "format overfitting", "answer diversity loss",
             "policy drift from the reference model", "verbosity growth", "self-reflection inflation"]
SETTINGS = ["single-turn math RLVR", "code generation with unit-test rewards", "multi-turn agent RL",
            "agentic web search", "tool-use RL", "RL on unverifiable tasks", "long-context QA",
            "theorem proving", "instruction following", "multimodal reasoning", "small models (<2B)",
            "distillation followed by RL", "preference optimisation", "process-reward RL"]
CAUSES = ["low reward variance within prompt groups", "the PPO clip silencing rare tokens",
          "the KL penalty to the reference policy", "token-level loss aggregation",
          "stale off-policy rollouts", "a narrow training curriculum", "binary correctness rewards",
          "high-entropy forking tokens", "the base model's prior", "format rewards",
          "learning-rate warmup", "response-length normalisation", "sampling temperature",
          "the size of the rollout group", "the verifier's false positives"]
EFFECTS = ["raises pass@1", "improves pass@k at large k", "keeps policy entropy higher",
           "speeds up training", "improves calibration", "reduces response length",
           "stabilises long runs", "improves out-of-domain accuracy", "reduces hallucination",
           "increases answer diversity", "delays the performance plateau"]
BASELINES = ["GRPO", "PPO", "RLOO", "REINFORCE++", "DPO", "SFT", "vanilla policy gradient", "Dr. GRPO"]
BENCHES = ["AIME 2024", "AIME 2025", "MATH-500", "GSM8K", "LiveCodeBench", "HumanEval", "GPQA",
           "HotpotQA", "WebShop", "ALFWorld", "Countdown", "OlympiadBench", "Minerva Math"]
TOPICS = ["entropy-collapse", "planning", "latent-capability", "reward-information", "calibration",
          "reward-variance", "compute-scaling", "agentic-exploration", "entropy-diagnostic", "other"]
KINDS = ["empirical-law", "mechanism", "intervention-effect", "deflationary", "observation"]


def _acronym(rng: random.Random) -> str:
    while True:
        name = "".join(rng.choice(SYL) for _ in range(rng.randint(2, 3)))
        style = rng.random()
        name = name.upper() if style < 0.5 else name.capitalize() + rng.choice(["RL", "PO", "-R1", ""])
        if name.replace("-", "").lower() not in RESERVED_NAMES:
            return name


def _statement(rng: random.Random, method: str) -> str:
    p, s, c, e = (rng.choice(PHENOMENA), rng.choice(SETTINGS), rng.choice(CAUSES), rng.choice(EFFECTS))
    b, bench = rng.choice(BASELINES), rng.choice(BENCHES)
    x = rng.choice([1.5, 2, 3.1, 4, 5.7, 7, 9.2, 12])
    return rng.choice([
        f"In {s}, {p} is driven by {c} rather than by model size; {method} targets it and {e} "
        f"over {b} by {x} points on {bench}.",
        f"{method} {e} relative to {b} on {bench} ({x} points) because it counteracts {c}.",
        f"{p.capitalize()} in {s} appears within the first few hundred steps and is explained by "
        f"{c}; removing it with {method} {e}.",
        f"Scaling {s} with {b} shows {p}; {method}, which reweights updates by {c}, {e} and "
        f"matches {b} with {x}x less compute.",
        f"Contrary to common belief, {c} does not cause {p} in {s}: ablating it changes {bench} "
        f"accuracy by under {x} points, while {method} {e}.",
        f"The gains of RL in {s} come from {c}; measured on {bench}, {p} sets a ceiling that "
        f"{method} lifts by {x} points.",
    ])


def distractors(n_claims: int, *, seed: int = 13, claims_per_paper: int = 5):
    """(papers, claims) as plain dicts (claimtrack.graph.models fields), deterministic for a seed."""
    rng = random.Random(seed)
    papers, claims = [], []
    n_papers = max(1, n_claims // claims_per_paper)
    for j in range(n_papers):
        year = rng.choice([2024, 2025, 2026])
        month = rng.randint(1, 12)
        day = dt.date(year, month, rng.randint(1, 28))
        pid = f"{year % 100:02d}{month:02d}.{(j * 7919) % 100000:05d}"  # 7919 is prime: unique
        authors = []
        while len(authors) < rng.randint(2, 6):
            a = f"{rng.choice('ABCDEFGHJKLMNPQRSTWXYZ')}. {rng.choice(SURNAMES)}"
            if not authors and (a.split()[-1], str(year)) in RESERVED_FIRST:
                continue
            authors.append(a)
        method = _acronym(rng)
        topic = rng.choice(TOPICS)
        title = f"{method}: {rng.choice(EFFECTS).capitalize()} by Addressing {rng.choice(PHENOMENA).title()} in {rng.choice(SETTINGS)}"
        abstract = " ".join(_statement(rng, method) for _ in range(3))
        papers.append({"arxiv_id": pid, "title": title, "authors": authors, "first_submitted": day,
                       "abstract": abstract, "primary_category": "cs.LG"})
        for i in range(claims_per_paper):
            if len(claims) >= n_claims:
                break
            claims.append({"id": f"distractor-{j:05d}-{i}", "statement": _statement(rng, method),
                           "topic": topic, "kind": rng.choice(KINDS), "sources": [pid],
                           "first_asserted": day,
                           "scope": f"{rng.choice(SETTINGS)}; {rng.choice(BENCHES)}"})
    return papers, claims


def pad_store(store, n_claims: int, *, seed: int = 13) -> int:
    """Add ``n_claims`` distractor claims (and their papers) to a store; returns how many."""
    from claimtrack.graph.models import Claim, Paper

    papers, claims = distractors(n_claims, seed=seed)
    real = {r["arxiv_id"] for r in store.query("SELECT arxiv_id FROM papers")}
    clash = {p["arxiv_id"] for p in papers} & real
    papers = [p for p in papers if p["arxiv_id"] not in clash]  # never overwrite a real paper
    claims = [c for c in claims if c["sources"][0] not in clash]
    with store.transaction():
        for p in papers:
            store.upsert_paper(Paper(**p))
        for c in claims:
            store.upsert_claim(Claim(**c))
    return len(claims)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    ps, cs = distractors(args.n)
    print(f"{len(ps)} papers, {len(cs)} claims; samples:")
    for c in cs[:3]:
        print("-", c["statement"])
    print("-", ps[0]["title"], ps[0]["authors"])
