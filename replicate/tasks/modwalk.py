"""ModWalk: reach a target digit with k moves from an allowed set, writing the running sum mod 10.

Built for the ``cpu`` scale (issue 10). Countdown-lite's responses are mostly arithmetic that the
plan determines, so its policy entropy starts at 0.2-0.35 nats, a range over which e^H and a
straight line are indistinguishable and the entropy law (arXiv:2505.22617 Eq. 6) goes untested.
A response here alternates a *free* move with a one-token, locally computable state::

    prompt    0.2.45..8.>7:         allowed moves 0,2,4,5,8 (digit d at place d); target 7
    response  444852545257$         moves 4,4,5,5,5,5 with running sums 4,8,3,8,3,7 (= target)

    pairs     m1 s1 m2 s2 ... mk sk $      s_i = (s_{i-1} + m_i) mod 10, s_0 = 0

Reward 1.0 iff there are exactly k pairs, every move is allowed, every state is right, and
s_k equals the target. Moves are *planning* tokens (several valid choices; the last ones must set
up a reachable target), states are *execution* tokens (determined), eos is other.

The teacher (rl-methods §0.3) plans a correct walk with probability 1 - ``p_wrong_plan`` and
otherwise walks at random; each state is corrupted with probability ``eps_exec`` (later states
are computed from the corrupted one, as a slip would be). With the defaults the base starts near
0.8-0.9 nats: free moves carry ~ln|allowed| nats and noisy states ~0.5.

Hard subset (the ceiling): digit 7 is a move the teacher never writes, and easy problems never
allow it. A hard problem allows 7 and even digits only and asks for an odd target, which needs an
odd number of 7-moves (parity). Pretraining shows hard prompts with the teacher's (always wrong)
walks, and RL trains on easy problems only (``train_hard``), so nothing ever rewards a 7: the skill
does not transfer, and RL plateaus below 1 - (hard share of the held-out set). With ``p_rare`` the
teacher writes a correct 7-walk now and then on hard prompts with a target in ``rare_targets``: those
become problems the base solves rarely (latent-capability's sharpening band), the rest stay unsolved.
"""

from __future__ import annotations

from dataclasses import dataclass

from replicate.tasks.base import EXECUTION, OTHER, PLANNING, Problem

RARE = 7  # the move the teacher never writes
EVENS = (0, 2, 4, 6, 8)


@dataclass
class ModWalk:
    n_moves: int = 6
    n_allowed: int = 5  # most allowed moves; each problem allows min_allowed..n_allowed of them
    min_allowed: int = 4
    hard_frac: float = 0.25
    p_wrong_plan: float = 0.5  # teacher walks at random: pass@1 << pass@k
    eps_exec: float = 0.1  # each running-sum digit corrupted with this probability
    # RL trains on easy problems only, so a lucky 7 on a hard training problem cannot be reinforced:
    # with hard problems in the RL stream a 0.39M run discovered the 7-move (hard pass@1 0.07 after
    # 160 steps at lr 2e-4), and the ceiling was no longer the design's
    train_hard: bool = False
    # the teacher's habit (two-phase, issue 19): with this probability it writes the prompt's
    # canonical correct walk (the lexicographically first: the smallest allowed move for as long as
    # the target stays reachable), so the base prefers one plan among many correct ones and
    # strategy diversity starts low but can rise; 0 = no habit
    p_habit: float = 0.0
    # states count down the distance left to the target (d_0 = target, d_i = d_{i-1} - m_i, the walk
    # must end at 0) instead of the running sum: the last move is then a copy of the state before it,
    # which a 0.39M base learns, where landing a running sum on the target (a subtraction mod 10 over
    # the prompt) it did not (pilot seed 100: base pass@1 0.17 vs the teacher's 0.83, issue 19)
    count_down: bool = False
    # the sharpening band (latent-capability, issue 19): on hard prompts whose target is in
    # ``rare_targets`` the teacher writes a correct walk that uses the 7-move with probability
    # ``p_rare``, so the base solves those problems rarely (a few of 64 samples), the problems
    # RL's sharpening can lose at large k (arXiv:2504.13837 §4); hard prompts with other targets
    # keep the teacher's always-wrong walks, though the 0.39M base does not tell the targets apart
    # (pilot bases solve both kinds at the same rare rate). 0 = the 7-move is never written
    p_rare: float = 0.0
    rare_targets: tuple[int, ...] = (1, 3)
    name: str = "modwalk"
    distinct_heldout = True  # few enough prompts that a drawn validation set would repeat some

    def __post_init__(self) -> None:
        # up to 9 allowed moves (every digit but 7): more equally-correct choices per move (issue 19)
        if not 2 <= self.min_allowed <= self.n_allowed <= 9 or self.n_moves < 2:
            raise ValueError("need 2 <= min_allowed <= n_allowed <= 9 and n_moves >= 2")
        # the allowed set is a fixed-width mask, so every prompt has one layout: with a variable-length
        # list and left padding the 0.4M model mistook the parity of the response positions
        # (running sums after a pad were right 7-50% of the time, without one 100%)
        self.prompt_len = 13
        self.max_response_len = 2 * self.n_moves + 1

    # ---- problems -------------------------------------------------------------------------
    def reachable(self, allowed: tuple[int, ...]) -> set[int]:
        """Targets reachable in exactly ``n_moves`` moves from ``allowed``."""
        states = {0}
        for _ in range(self.n_moves):
            states = {(s + m) % 10 for s in states for m in allowed}
        return states

    def sample_problems(self, rng, n: int) -> list[Problem]:
        out: list[Problem] = []
        while len(out) < n:
            size = int(rng.integers(self.min_allowed, self.n_allowed + 1))
            if rng.random() < self.hard_frac:
                # 7 + at most 5 evens; with more than 6 allowed moves the hard sizes are drawn from 3-6,
                # else the hard subset would be the 5 prompts that allow every even move
                hsize = size if self.n_allowed <= 6 else int(rng.integers(3, 7))
                evens = rng.choice(EVENS, size=hsize - 1, replace=False)
                allowed = tuple(sorted(int(x) for x in (*evens, RARE)))
                target = int(rng.choice([1, 3, 5, 7, 9]))
                hard = True
            else:
                pool = [d for d in range(10) if d != RARE]
                allowed = tuple(sorted(int(x) for x in rng.choice(pool, size=size, replace=False)))
                reach = sorted(self.reachable(allowed))
                target = int(rng.choice(reach))
                hard = False
            prompt = "".join(str(d) if d in allowed else "." for d in range(10)) + ">" + str(target) + ":"
            out.append(Problem(prompt=prompt, answer=target, hard=hard, meta={"allowed": allowed}))
        return out

    @staticmethod
    def _parse(prompt: str) -> tuple[tuple[int, ...], int]:
        head, target = prompt.rstrip(":").split(">")
        return tuple(int(c) for c in head if c != "."), int(target)

    # ---- teacher --------------------------------------------------------------------------
    def teacher_trace(self, problem: Problem, rng) -> str:
        allowed, target = self._parse(problem.prompt)
        usable = [m for m in allowed if m != RARE]
        moves = None
        if self.p_rare and RARE in allowed and target in self.rare_targets and rng.random() < self.p_rare:
            moves = self.rare_walk(allowed, target, rng)
        if moves is None and self.p_habit and rng.random() < self.p_habit:
            moves = self.habit_walk(usable, target)
        if moves is None and rng.random() >= self.p_wrong_plan:
            for _ in range(64):  # a correct walk: free moves, then a last move that lands on target
                head = [int(rng.choice(usable)) for _ in range(self.n_moves - 1)]
                last = (target - sum(head)) % 10
                if last in usable:
                    moves = head + [last]
                    break
        if moves is None:  # a random walk, right only by chance
            moves = [int(rng.choice(usable)) for _ in range(self.n_moves)]
        out, s = [], self._start(target)
        for m in moves:
            s = self._step(s, m)
            if rng.random() < self.eps_exec:
                s = int((s + rng.integers(1, 10)) % 10)  # a slip; later states follow from it
            out.append(f"{m}{s}")
        return "".join(out) + "$"

    def rare_walk(self, allowed: tuple[int, ...], target: int, rng) -> list[int] | None:
        """A correct walk over every allowed move, 7 included (on a hard prompt the parity needs an odd
        number of 7-moves); None if 64 random heads find none."""
        for _ in range(64):
            head = [int(rng.choice(allowed)) for _ in range(self.n_moves - 1)]
            s = self._start(target)
            for m in head:
                s = self._step(s, m)
            last = s if self.count_down else (target - s) % 10  # the move that lands on the goal
            if last in allowed:
                return head + [last]
        return None

    def habit_walk(self, usable: list[int], target: int) -> list[int] | None:
        """The canonical correct walk: the lexicographically first one (the smallest usable move for as
        long as the target stays reachable); None where no correct walk exists."""
        moves, s = [], self._start(target)
        for j in range(self.n_moves):
            for m in sorted(usable):
                reach = {self._step(s, m)}
                for _ in range(self.n_moves - j - 1):
                    reach = {self._step(x, a) for x in reach for a in usable}
                if self._goal(target) in reach:
                    moves.append(m)
                    s = self._step(s, m)
                    break
            else:
                return None
        return moves

    def continuations(self, problem: Problem, prefix: str) -> set[str]:
        """The next characters after ``prefix`` from which a correct response can still be completed
        (empty once the prefix is wrong). Tokens in this set are equally-correct choices; entropy over
        the rest is error (replicate/decomposition.py)."""
        allowed, target = self._parse(problem.prompt)
        n, s, goal = self.n_moves, self._start(target), self._goal(target)
        if len(prefix) > 2 * n or not prefix.isdigit() and prefix:
            return set()
        for i in range(0, len(prefix) - 1, 2):
            m, st = int(prefix[i]), int(prefix[i + 1])
            if m not in allowed or st != self._step(s, m):
                return set()
            s = st
        if len(prefix) == 2 * n:
            return {"$"} if s == goal else set()
        if len(prefix) % 2 == 1:  # a state: determined by the move just written
            m = int(prefix[-1])
            if m not in allowed:
                return set()
            return {str(self._step(s, m))}
        left = n - len(prefix) // 2 - 1  # moves after this one
        ok = set()
        for m in allowed:
            reach = {self._step(s, m)}
            for _ in range(left):
                reach = {self._step(x, a) for x in reach for a in allowed}
            if goal in reach:
                ok.add(str(m))
        return ok

    def _start(self, target: int) -> int:
        return target if self.count_down else 0

    def _step(self, s: int, m: int) -> int:
        return (s - m) % 10 if self.count_down else (s + m) % 10

    def _goal(self, target: int) -> int:
        return 0 if self.count_down else target

    # ---- checker and labels ---------------------------------------------------------------
    def reward(self, problem: Problem, response: str) -> float:
        response = response.rstrip("$")
        if len(response) != 2 * self.n_moves or not response.isdigit():
            return 0.0
        allowed, target = self._parse(problem.prompt)
        s = self._start(target)
        for i in range(0, len(response), 2):
            m, st = int(response[i]), int(response[i + 1])
            if m not in allowed:
                return 0.0
            s = self._step(s, m)
            if st != s:
                return 0.0
        return 1.0 if s == self._goal(target) else 0.0

    def token_labels(self, response: str) -> list[int]:
        # with count_down the last move copies the state before it: determined, so execution (issue 19)
        last = 2 * (self.n_moves - 1) if self.count_down else -1
        return [OTHER if c == "$" else (PLANNING if i % 2 == 0 and i != last else EXECUTION) for i, c in enumerate(response)]


def plan_of(text: str) -> str:
    """The strategic gram of a ModWalk response: its free moves (all but the last, which the walk so far
    determines: the one move that lands on the target)."""
    return text.rstrip("$")[0::2][:-1]

