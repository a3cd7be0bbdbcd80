"""Hard isolation for the dashboard: each computation runs in a worker process with OS limits.

The engine's own checks (``check_deadline``, the size limits) stop most bad input early with a
clear message, but they are cooperative: a loop that forgets to check, or one NumPy call on a huge
array, would hold a core and the server's memory.  So the dashboard runs each computation
(read, build, evaluate, differentiate, render, explain, check, prove/solve/train) through
:func:`run`, which

* starts a fresh process from a *fork server* (a small clean Python that imported the package once:
  starting a worker costs a few milliseconds, and nothing of the server's threads or memory is shared);
* sets hard limits in it before the work: CPU time ``time_budget_s + CPU_GRACE_S`` (``RLIMIT_CPU``)
  and address space ``max_worker_memory_mib`` (``RLIMIT_AS``); the engine's cooperative budget in
  the worker counts the worker's CPU time (a busy server does not refuse an honest computation
  that waited for a core); the server kills a worker after ``WALL_FACTOR`` budgets plus
  ``WALL_GRACE_S`` of wall time (one that sleeps or waits);
* lowers its priority after ``RENICE_AFTER_S`` seconds (``nice``), so that the quick edits of a
  class go first while a visitor's long computation waits for spare CPU;
* returns the function's result, re-raises its :class:`InputError` as it was, and turns an overrun
  into one :class:`LimitError` line naming the limit (``time_budget_s`` or ``max_worker_memory_mib``);
* runs at most ``max_workers`` at a time (a bounded pool: a burst of requests waits for a slot, at
  most three time budgets, then is told the server is busy), and at most one per ``key`` (a session):
  a new request of the same session stops the one it replaces; a session whose last computation ran
  long starts its next ones at low priority for a minute.

The function and its arguments go to the worker by pickling, so ``fn`` must be a module-level
function.  ``GRAPHVIZ_BP_WORKERS=0`` runs everything in the calling thread instead (for debugging).
"""
from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import threading
import time

from ..core.errors import InputError, LimitError
from ..core.limits import Limits, current as current_limits, time_budget

CPU_GRACE_S = 2.0       # CPU seconds beyond the budget before the kernel stops the worker
WALL_FACTOR, WALL_GRACE_S = 4, 5.0   # the server kills a worker after 4 budgets + 5 s of wall time
RENICE_AFTER_S = 1.0    # a computation running longer than this yields the CPU to quick ones
SLOT_WAIT_BUDGETS = 3   # a request waits for a free worker at most this many time budgets
LOW_PRIORITY = 15       # nice value of a long computation (and of a session that just had one)
# imported once by the fork server, so that a worker starts with them (SymPy alone takes 0.6 s)
PRELOAD = ["numpy", "sympy", "networkx", "graphviz_bp", "graphviz_bp.app.worker", "graphviz_bp.app.jobs",
           "graphviz_bp.algorithms.symbolic", "graphviz_bp.showing.render", "graphviz_bp.showing.explain",
           "graphviz_bp.showing.check", "graphviz_bp.app.worker_warmup"]

_lock = threading.Lock()
_ctx = None
_slots: threading.BoundedSemaphore | None = None
_slot_count = 0
_running: dict = {}     # key -> the process of that session's running computation
_heavy: dict = {}       # key -> when that session's last computation ran long or was stopped
HEAVY_FOR_S = 60.0      # ... its computations then start at low priority for this long


def enabled() -> bool:
    return os.environ.get("GRAPHVIZ_BP_WORKERS", "1") != "0"


_tls = threading.local()


def _preparation_data(name):
    """multiprocessing's start-up data for a child, without the main module when we start it: the
    worker needs only this module, and the dashboard's main module is the Streamlit page (which must
    not run again in a worker)."""
    data = _ORIGINAL_PREPARATION(name)
    if getattr(_tls, "starting", False):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


def _install_preparation_hook():
    global _ORIGINAL_PREPARATION
    from multiprocessing import spawn
    if spawn.get_preparation_data is not _preparation_data:
        _ORIGINAL_PREPARATION = spawn.get_preparation_data
        spawn.get_preparation_data = _preparation_data


_ORIGINAL_PREPARATION = None


def _context():
    """The fork server, started once per server process (one thread at a time)."""
    global _ctx
    with _lock:
        if _ctx is None:
            # one BLAS thread per worker: the pool, not BLAS, decides how many cores are busy;
            # and OpenBLAS reserves much address space per thread, which RLIMIT_AS would count
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ.setdefault(var, "1")
            _install_preparation_hook()
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _ctx = ctx
        return _ctx


def _slots_for(limits: Limits) -> threading.BoundedSemaphore:
    global _slots, _slot_count
    with _lock:
        if _slots is None or _slot_count != limits.max_workers:
            _slots, _slot_count = threading.BoundedSemaphore(limits.max_workers), limits.max_workers
        return _slots


# --- the worker side ---------------------------------------------------------------------------------

def _set_limits(limits: Limits) -> None:
    import resource
    cpu = int(math.ceil(limits.time_budget_s + CPU_GRACE_S))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))     # soft: SIGXCPU, hard: SIGKILL
    mem = limits.max_worker_memory_mib << 20
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        mem = min(mem, hard)
    resource.setrlimit(resource.RLIMIT_AS, (mem, hard))


def _child(conn, fn, args, kwargs, limits: Limits) -> None:
    try:
        _set_limits(limits)
        # the budget counts this process's CPU time: on a busy server an honest computation that
        # waits for a core is not refused (the server's wall-clock backstop stays)
        with time_budget(limits.time_budget_s, clock=time.process_time):
            result = fn(*args, **kwargs)
        message = ("ok", result)
    except InputError as exc:
        message = ("input", (type(exc) is LimitError, exc.message, exc.line, exc.column, exc.kind))
    except MemoryError:
        message = ("memory", None)
    except RecursionError:
        message = ("input", (True, "the program is nested too deeply to process", None, None, "limit"))
    except BaseException as exc:     # noqa: BLE001 - a bug: reported as one line, logged by the server
        import traceback
        message = ("bug", f"{type(exc).__name__}: {exc}"[:500], traceback.format_exc()[-4000:])
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("memory", None))
    except Exception as exc:         # noqa: BLE001 - an unpicklable result is a bug of the caller
        conn.send(("bug", f"the result could not be sent back: {type(exc).__name__}: {exc}"[:500], ""))
    conn.close()


# --- the server side ---------------------------------------------------------------------------------

class WorkerBug(RuntimeError):
    """The computation failed in a way that is not the input's fault; ``details`` holds its traceback."""

    def __init__(self, message, details=""):
        super().__init__(message)
        self.details = details


def _rebuild(payload) -> InputError:
    is_limit, message, line, column, kind = payload
    if is_limit:
        return LimitError(message, line, column)
    return InputError(message, line, column, kind=kind)


def _overrun(limits: Limits, field: str, what: str) -> LimitError:
    try:
        limits.refuse(field, what)
    except LimitError as exc:
        return exc
    raise AssertionError("refuse always raises")


def run(fn, *args, limits: Limits | None = None, key=None, **kwargs):
    """``fn(*args, **kwargs)`` in a worker process under the hard limits (see the module doc).

    >>> run(pow, 2, 10)
    1024
    """
    limits = limits or current_limits()
    if not enabled():
        with time_budget(limits.time_budget_s):
            return fn(*args, **kwargs)
    ctx = _context()
    slots = _slots_for(limits)
    if key is not None:
        stop(key)                        # the session asked again: its previous answer is not wanted
    if not slots.acquire(timeout=SLOT_WAIT_BUDGETS * limits.time_budget_s + WALL_GRACE_S):
        raise LimitError(f"the server is busy: all {limits.max_workers} workers (max_workers) are computing; "
                         f"try again in a few seconds")
    try:
        return _run_in(ctx, fn, args, kwargs, limits, key)
    finally:
        slots.release()


def stop(key) -> None:
    """Stop the running computation of ``key`` (a session), if any."""
    with _lock:
        proc = _running.pop(key, None)
    if proc is not None and proc.is_alive():
        proc.kill()


def _renice(pid) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, LOW_PRIORITY)
    except OSError:
        pass
    return True


def _run_in(ctx, fn, args, kwargs, limits, key):
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs, limits), daemon=True)
    _tls.starting = True
    try:
        proc.start()
    finally:
        _tls.starting = False
    send.close()
    if key is not None:
        with _lock:
            _running[key] = proc
    started = time.monotonic()
    deadline = started + WALL_FACTOR * limits.time_budget_s + WALL_GRACE_S
    reniced, message, killed = False, None, False
    if key is not None and started - _heavy.get(key, -HEAVY_FOR_S) < HEAVY_FOR_S:
        reniced = _renice(proc.pid)      # a visitor who just sent a long one waits behind the class
    try:
        while True:
            if receive.poll(0.02):
                try:
                    message = receive.recv()
                except (EOFError, OSError):
                    message = None
                break
            now = time.monotonic()
            if not proc.is_alive() and not receive.poll(0):
                break
            if not reniced and now - started > RENICE_AFTER_S:
                reniced = _renice(proc.pid)
            if now > deadline:
                killed = True
                proc.kill()
                break
    finally:
        receive.close()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        if key is not None:
            with _lock:
                if _running.get(key) is proc:
                    del _running[key]
    elapsed = time.monotonic() - started
    if key is not None and (elapsed > RENICE_AFTER_S or message is None):
        _heavy[key] = time.monotonic()
        if len(_heavy) > 10_000:        # sessions come and go: forget the oldest
            for k in sorted(_heavy, key=_heavy.get)[:5_000]:
                _heavy.pop(k, None)
    if message is not None:
        status = message[0]
        if status == "ok":
            return message[1]
        if status == "input":
            raise _rebuild(message[1])
        if status == "memory":
            raise _overrun(limits, "max_worker_memory_mib", "the computation's memory")
        raise WorkerBug(message[1], message[2])
    code = proc.exitcode
    if killed:
        raise _overrun(limits, "time_budget_s", f"the computation (stopped after {elapsed:.0f} s)")
    if code == -signal.SIGXCPU or code == -signal.SIGKILL and elapsed >= limits.time_budget_s:
        raise _overrun(limits, "time_budget_s", f"the computation (stopped after "
                                                f"{limits.time_budget_s + CPU_GRACE_S:.0f} s of CPU time)")
    if code == -signal.SIGKILL and key is not None:
        raise LimitError("the computation was stopped: a newer request of the same page replaced it")
    # a worker that died without a word ran out of memory where Python could not say so
    raise _overrun(limits, "max_worker_memory_mib", f"the computation's memory (the worker ended with "
                                                    f"exit status {code})")
