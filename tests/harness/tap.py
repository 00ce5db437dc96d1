"""TAP output for the Python integration tests: one numbered line per check,
diagnostics as comments, and sections whose unreached checks fail.

    from tap import check, diag, section, results, timings
"""
import time
import traceback

results = []   # one bool per check made
timings = {}   # seconds per section


def diag(text):
    for line in str(text).rstrip().splitlines():
        print("# " + line, flush=True)


def check(ok, what, detail=""):
    ok = bool(ok)
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {what}", flush=True)
    if not ok and detail:
        diag(detail)
    return ok


def skip(what, reason):
    """A check that could not be made here: reported as a TAP skip, never as a pass."""
    results.append(True)
    print(f"ok {len(results)} - {what} # SKIP {reason}", flush=True)


def section(name, planned, fn, *args):
    """One group of `planned` checks; if it breaks off, the checks it did not reach fail."""
    start = len(results)
    t0 = time.monotonic()
    try:
        fn(*args)
    except Exception:
        tb = traceback.format_exc()
        done = len(results) - start
        for i in range(max(planned - done, 1)):
            check(False, f"{name}: not reached ({i + 1})", tb if i == 0 else "")
    timings[name] = time.monotonic() - t0
    done = len(results) - start
    if done != planned:
        diag(f"section {name}: {done} checks, {planned} planned")
