"""The local job worker: runs queued replication jobs as processes (``claimtrack worker``).

    Worker(store).run()                    # poll forever
    Worker(store).run(once=True)           # until nothing is queued or running, then return

Per job: claim it under a lease (``jobs.claim_next``), start ``python -m replicate run ...`` in
its own process group, copy its output to ``runs/<job-id>/log.txt``, and every heartbeat renew
the lease with the last ``PROGRESS {...}`` line. On exit 0 the result is imported and the job
completed in one transaction; otherwise the job fails with the last line of stderr. A cancel
kills the process group. Expired leases of dead workers are reaped on start and on every poll.

The child gets ``PR_SET_PDEATHSIG`` (Linux), so a worker killed with ``kill -9`` takes its
replication with it instead of leaving an orphan that writes into the job's folder.

Timings (seconds) come from the arguments or ``CLAIMTRACK_JOB_LEASE_S`` (default 20),
``CLAIMTRACK_JOB_HEARTBEAT_S`` (5) and ``CLAIMTRACK_JOB_POLL_S`` (2): a dead worker's job is
recovered within lease + poll seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from claimtrack.runs import jobs
from claimtrack.runs.command import replicate_command
from claimtrack.graph.errors import ClaimtrackError
from claimtrack.runs.jobs import Job
from claimtrack.graph.store import Store

PROGRESS_PREFIX = "PROGRESS "
PROGRESS_EVERY_S = 0.5  # write progress to the store at most this often
KILL_GRACE_S = 3.0

# Runs in the child before exec: die with the parent (SIGKILL on parent death), and give up at
# once if the parent already died between fork and prctl.
_LAUNCHER = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)\n"
    "if os.getppid() != int(sys.argv[1]): sys.exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


def lease_s() -> float:
    return _env_float("CLAIMTRACK_JOB_LEASE_S", 20.0)


def heartbeat_s() -> float:
    return _env_float("CLAIMTRACK_JOB_HEARTBEAT_S", 5.0)


def poll_s() -> float:
    return _env_float("CLAIMTRACK_JOB_POLL_S", 2.0)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def replicate_argv(job: Job, out_dir: Path, cmd: list[str] | None = None) -> list[str]:
    return [*(cmd or replicate_command()), "run", job.experiment, "--scale", job.scale,
            "--seeds", str(job.seeds), "--device", job.device, "--out", str(out_dir)]


def parse_progress(line: str) -> dict | None:
    """The payload of a ``PROGRESS {...}`` line, or None (claimtrack.runs.launch reads logs with it)."""
    if not line.startswith(PROGRESS_PREFIX):
        return None
    try:
        payload = json.loads(line[len(PROGRESS_PREFIX):])
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


class Process:
    """A replicate run: its own process group, output streamed line by line to a log file."""

    def __init__(self, argv: list[str], log: IO[str]) -> None:
        if sys.platform.startswith("linux"):
            argv = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *argv]
        self.lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self.last_stderr = ""
        self._log, self._log_lock = log, threading.Lock()
        self.popen = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True, bufsize=1, errors="replace", start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._open = 2
        for name, stream in (("out", self.popen.stdout), ("err", self.popen.stderr)):
            threading.Thread(target=self._pump, args=(name, stream), daemon=True).start()

    def _pump(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            with self._log_lock:
                self._log.write(line)
                self._log.flush()
            if name == "err" and line.strip():
                self.last_stderr = line.strip()
            self.lines.put((name, line.rstrip("\n")))
        self.lines.put((name, None))

    def next_line(self, timeout: float) -> tuple[str, str | None] | None:
        """The next (stream, line) or (stream, None) at end of stream; None on timeout."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def kill(self) -> None:
        """SIGTERM the whole process group, SIGKILL it if it is still there after a grace."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.popen.wait(KILL_GRACE_S)
                return
            except subprocess.TimeoutExpired:
                continue

    def error_line(self) -> str:
        rc = self.popen.returncode
        if rc is not None and rc < 0:
            last = f" (last stderr: {self.last_stderr})" if self.last_stderr else ""
            return f"killed by signal {-rc}{last}"
        return self.last_stderr or f"replicate exited with code {rc}"


def run_process(argv: list[str], log: IO[str], *, on_progress: Callable[[dict], None],
                tick: Callable[[Process], bool], tick_s: float) -> Process:
    """Run argv to its end. ``tick`` is called about every ``tick_s`` seconds and after progress;
    when it returns False the process group is killed. Returns the finished Process."""
    proc = Process(argv, log)
    open_streams, last_tick, exited_at = 2, time.monotonic(), None
    try:
        while True:
            item = proc.next_line(timeout=min(0.2, tick_s))
            if item is not None:
                name, line = item
                if line is None:
                    open_streams -= 1
                elif name == "out" and (payload := parse_progress(line)) is not None:
                    on_progress(payload)
            if proc.popen.poll() is not None:
                exited_at = exited_at or time.monotonic()
                # Done when both pipes closed (or a stray grandchild still holds them open).
                if not open_streams or time.monotonic() - exited_at > 5:
                    break
            if time.monotonic() - last_tick >= tick_s:
                last_tick = time.monotonic()
                if not tick(proc):
                    proc.kill()
                    break
    except BaseException:
        proc.kill()
        raise
    proc.popen.wait()
    return proc


class _Stop(BaseException):
    """SIGTERM/SIGINT: stop after giving the current job back. A BaseException, so that no
    ``except Exception`` on the way (a retry loop, a library) swallows the stop (issue 22)."""


class Worker:
    """Runs queued jobs one at a time in this process."""

    def __init__(self, store: Store, *, worker_id: str | None = None, lease: float | None = None,
                 heartbeat: float | None = None, poll: float | None = None,
                 echo: Callable[[str], None] = lambda msg: None) -> None:
        self.store = store
        self.id = worker_id or worker_name()
        self.lease = lease or lease_s()
        self.heartbeat = min(heartbeat or heartbeat_s(), self.lease / 3)
        self.poll = poll or poll_s()
        self.echo = echo

    def reap(self) -> None:
        for job in jobs.reap_expired(self.store):
            self.echo(f"job {job.id}: {job.state} ({job.error or 'result recovered'})")

    def run(self, *, once: bool = False, max_jobs: int | None = None) -> int:
        """Run jobs until stopped, ``max_jobs`` have run, or (``once``) nothing is queued or
        running. Returns how many jobs ran. SIGTERM gives the current job back to the queue."""
        done = 0
        previous = self._install_signals()
        try:
            while max_jobs is None or done < max_jobs:
                try:
                    self.reap()
                    job = jobs.claim_next(self.store, self.id, self.lease)
                    idle = job is None and once and not self.store.query("SELECT 1 FROM jobs WHERE state='running' LIMIT 1")
                except _Stop:
                    raise
                except Exception as exc:  # noqa: BLE001 - a transient error (e.g. the store is locked) never ends the loop
                    print(f"worker {self.id}: {type(exc).__name__}: {exc}; retrying in {self.poll:g}s",
                          file=sys.stderr, flush=True)
                    time.sleep(self.poll)
                    continue
                if job is not None:
                    try:
                        self.run_job(job)
                    except (ClaimtrackError, OSError) as exc:
                        # Keep serving; the job fails with the reason (or, if even that cannot
                        # be written, its lease runs out and the next reaper deals with it).
                        self.echo(f"job {job.id}: worker error: {exc}")
                        with contextlib.suppress(ClaimtrackError, OSError):
                            jobs.finish(self.store, job, self.id, "failed", error=f"worker error: {exc}")
                    done += 1
                    continue
                self.daily_watch()
                if idle:
                    break
                time.sleep(self.poll)
        except _Stop:
            self.echo(f"worker {self.id}: stopped")
        finally:
            self.stop_watch()
            self._restore_signals(previous)
        return done

    def daily_watch(self) -> None:
        """With ``CLAIMTRACK_WATCH=1``, start ``claimtrack watch --daily`` (once a day, issue 12) as a
        child process and never wait for it: a slow API cannot delay a queued job (issue 22). The
        child decides whether today's watch is due and keeps its own deadline
        (``CLAIMTRACK_WATCH_DEADLINE_S``); one still running 30 s past it is killed here, and
        ``stop_watch`` ends it with the worker."""
        if os.environ.get("CLAIMTRACK_WATCH") != "1":
            return
        proc = getattr(self, "_watch", None)
        if proc is not None and proc.poll() is None:
            if time.monotonic() - self._watch_started > _env_float("CLAIMTRACK_WATCH_DEADLINE_S", 600.0) + 30:
                self.echo(f"watch: the daily watch (pid {proc.pid}) ran past its deadline; stopped")
                self.stop_watch()
            return  # still running
        today = time.strftime("%Y-%m-%d")
        if getattr(self, "_watch_day", None) == today:
            return
        self._watch_day = today
        self._watch = subprocess.Popen([sys.executable, "-m", "claimtrack", "watch", "--daily"],
                                       stdin=subprocess.DEVNULL)
        self._watch_started = time.monotonic()
        self.echo(f"watch: started the daily watch (pid {self._watch.pid})")

    def stop_watch(self) -> None:
        proc = getattr(self, "_watch", None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)  # SIGTERM to the worker ends it and its watch within 5 s
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def run_job(self, job: Job) -> Job | None:
        """Run one claimed job to its end; returns it as it ended (None if its lease was lost)."""
        out = job.out_dir()
        shutil.rmtree(out, ignore_errors=True)  # a stale attempt folder never leaks a result
        out.mkdir(parents=True)
        argv = replicate_argv(job, out)
        jobs.append_log(job, f"== attempt {job.attempts} on {self.id} at {jobs.stamp(jobs.now())}: "
                             f"{shlex.join(argv)}")
        self.echo(f"job {job.id}: running {job.experiment} --scale {job.scale} (attempt {job.attempts})")
        state = {"progress": None, "written": 0.0, "lost": False, "cancel": False}

        def on_progress(payload: dict) -> None:
            state["progress"] = payload

        def tick(proc: Process) -> bool:
            # Heartbeat: renew the lease with the latest progress when one is due or progress is
            # new; otherwise only look for a cancel. False stops the run.
            if state["progress"] is None and time.monotonic() - state["written"] < self.heartbeat:
                state["cancel"] = bool(self.store.query(
                    "SELECT 1 FROM jobs WHERE id=? AND cancel_requested=1", (job.id,)))
                return not state["cancel"]
            fresh = jobs.renew(self.store, job, self.id, self.lease,
                               progress=state["progress"], pid=proc.popen.pid)
            state["progress"], state["written"] = None, time.monotonic()
            if fresh is None:
                state["lost"] = True
                return False
            state["cancel"] = fresh.cancel_requested
            return not fresh.cancel_requested

        with job.log_path.open("a", encoding="utf-8") as log:
            try:
                proc = run_process(argv, log, on_progress=on_progress, tick=tick,
                                   tick_s=min(self.heartbeat, PROGRESS_EVERY_S))
            except _Stop:
                jobs.release(self.store, job, self.id, "worker stopped; requeued")
                jobs.append_log(job, f"== worker {self.id} stopped; job requeued")
                raise
        if state["progress"] is not None:
            jobs.renew(self.store, job, self.id, self.lease, progress=state["progress"])
        if state["lost"]:
            jobs.append_log(job, f"== worker {self.id} lost the lease; its process was killed")
            self.echo(f"job {job.id}: lease lost, process killed")
            return None
        if state["cancel"]:
            ended = jobs.finish(self.store, job, self.id, "cancelled", error="cancelled by request")
        elif proc.popen.returncode == 0:
            result = out / "result.json"
            ended = jobs.finish(self.store, job, self.id, "completed",
                                result=result if result.exists() else None)
        else:
            ended = jobs.finish(self.store, job, self.id, "failed", error=proc.error_line())
        if ended is not None:
            jobs.append_log(job, f"== {ended.state}" + (f": {ended.error}" if ended.error else ""))
            self.echo(f"job {job.id}: {ended.state}" + (f" ({ended.error})" if ended.error else ""))
        return ended

    def _install_signals(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def stop(signum, frame):
            raise _Stop()

        return {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def _restore_signals(self, previous: dict) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
