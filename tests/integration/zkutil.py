"""Small helpers shared by the test modules."""

import threading
import time


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value (returned) or time out."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


class Recorder:
    """Collects kazoo watch callbacks (WatchedEvent) in arrival order."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait(self, n=1, timeout=10.0):
        """Wait until at least n events were recorded; return them all."""
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.events) >= n, timeout)
            evs = list(self.events)
        assert ok, "expected %d events, got %r" % (n, evs)
        return evs

    def settle(self, wait=0.3):
        """Give stray events `wait` seconds to arrive; return them all."""
        time.sleep(wait)
        with self.cond:
            return list(self.events)

    def simple(self):
        """[(type, path)] with kazoo's EventType names."""
        with self.cond:
            return [(e.type, e.path) for e in self.events]
