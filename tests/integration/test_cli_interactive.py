"""`paddock cli`'s interactive shell, driven through a pseudo-terminal: a
private tmux server (its own socket in a temp dir, no config file) runs
`paddock cli -server ...` in a 160x50 pane; keys are typed with send-keys
and the rendered screen is read with capture-pane.

Checked on the screen: the banner and zkCli's prompt
(`[zk: 127.0.0.1:PORT(CONNECTED) N] `), TAB completion of a command name and
of a znode path (a unique match is filled in; two TABs list the choices),
the up arrow recalling earlier lines, `history` and `redo`, a watch event
printed while the prompt waits (the prompt is drawn again below it), and
`quit` ending the process with status 0.

Every wait polls the screen with a deadline; the tmux server and the pane's
process are stopped by their PIDs.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

PADDOCK = os.environ.get("PADDOCK_BIN")

pytestmark = [
    pytest.mark.skipif(not PADDOCK, reason="paddock cli needs PADDOCK_BIN"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


class Tmux:
    """One tmux server with one pane running argv."""

    def __init__(self, argv, width=160, height=50):
        self.dir = tempfile.mkdtemp(prefix="paddock-it-tmux-")
        self.sock = os.path.join(self.dir, "sock")
        self.tmux(["new-session", "-d", "-x", str(width), "-y", str(height),
                   " ".join(argv), ";", "set-option", "remain-on-exit", "on"])
        self.server_pid = int(self.query("#{pid}"))
        self.pane_pid = int(self.query("#{pane_pid}"))  # sh, paddock's parent

    def tmux(self, args, check=True):
        return subprocess.run(["tmux", "-f", "/dev/null", "-S", self.sock] + args,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=10, check=check).stdout.decode()

    def query(self, fmt):
        return self.tmux(["display-message", "-p", fmt]).strip()

    def keys(self, *keys):
        self.tmux(["send-keys"] + list(keys))

    def type(self, text):
        self.tmux(["send-keys", "-l", text])

    def screen(self):
        return self.tmux(["capture-pane", "-p", "-J", "-S", "-200"])

    def wait_for(self, predicate, what, timeout=15.0):
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %s; screen:\n%s"
                                     % (what, text))
            time.sleep(0.1)

    def wait_text(self, text, timeout=15.0):
        return self.wait_for(lambda s: text in s, repr(text), timeout)

    def close(self):
        # the shell's child (paddock cli, if it is still there) first
        children = []
        try:
            with open("/proc/%d/task/%d/children" % (self.pane_pid, self.pane_pid)) as f:
                children = [int(p) for p in f.read().split()]
        except OSError:
            pass
        for pid in children + [self.pane_pid, self.server_pid]:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def last_line(screen):
    """The last line with text, without trailing blanks."""
    lines = [line.rstrip() for line in screen.split("\n") if line.strip()]
    return lines[-1] if lines else ""


def run_cli(port, *args):
    return subprocess.run([PADDOCK, "cli", "-server", "127.0.0.1:%d" % port]
                          + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30)


def test_interactive_shell(server, base):
    for node in ("alpha", "beta"):
        assert run_cli(server.port, "create", "%s/%s" % (base, node)
                       ).returncode == 0
    prompt = "[zk: 127.0.0.1:%d(CONNECTED) %%d] " % server.port
    # The shell reports the exit status on the screen (tmux's own
    # pane_dead_status is not always set when the pane's tty closes first).
    t = Tmux(["sh", "-c", "'%s cli -server 127.0.0.1:%d; "
              "echo \"[paddock cli exited with $?]\"'" % (PADDOCK, server.port)])
    try:
        s = t.wait_text(prompt % 0)
        assert s.startswith("Connecting to 127.0.0.1:%d\n"
                            "Welcome to ZooKeeper!\n" % server.port), s
        assert "WatchedEvent state:SyncConnected type:None path:null" in s

        # a command name: one match, completed with a space after it
        t.type("getAllCh")
        t.keys("Tab")
        t.wait_for(lambda s: last_line(s) == (prompt % 0) + "getAllChildrenNumber",
                   "command completion")
        t.type(base)
        t.keys("Enter")
        s = t.wait_text(prompt % 1)
        assert "\n2\n" in s, s

        # a znode path: one match filled in
        t.type("ls %s/al" % base)
        t.keys("Tab")
        t.wait_for(lambda s: last_line(s) == (prompt % 1) + "ls %s/alpha" % base,
                   "path completion")
        t.keys("Enter")
        t.wait_text(prompt % 2)

        # two matches: a second TAB lists them; ^U drops the line
        t.type("get %s/" % base)
        t.keys("Tab", "Tab")
        t.wait_for(lambda s: "%s/alpha %s/beta" % (base, base)
                   in s.split(prompt % 2, 1)[-1], "the list of matches")
        t.keys("C-u")

        # the quota commands are in the list
        t.type("listq")
        t.keys("Tab")
        t.wait_for(lambda s: last_line(s) == (prompt % 2) + "listquota",
                   "quota command completion")
        t.keys("C-u")

        # history, the up arrow, redo
        t.type("history")
        t.keys("Enter")
        s = t.wait_text(prompt % 3)
        assert ("0 - getAllChildrenNumber %s\n1 - ls %s/alpha\n2 - history\n"
                % (base, base)) in s, s
        t.keys("Up", "Up")
        t.wait_for(lambda s: last_line(s) == (prompt % 3) + "ls %s/alpha" % base,
                   "the up arrow")
        t.keys("Enter")
        t.wait_text(prompt % 4)
        t.type("redo 0")
        t.keys("Enter")
        s = t.wait_text(prompt % 5)
        assert s.split(prompt % 4)[-1].startswith("redo 0\n2\n"), s

        # an event while the prompt waits: printed, then the prompt again
        t.type("get -w %s/alpha" % base)
        t.keys("Enter")
        t.wait_text(prompt % 6)
        t.type("ls")  # half a line typed when the event comes
        assert run_cli(server.port, "set", "%s/alpha" % base, "x"
                       ).returncode == 0
        s = t.wait_for(
            lambda s: last_line(s) == (prompt % 6) + "ls",
            "the prompt drawn again after the event")
        assert ("WATCHER::\n\nWatchedEvent state:SyncConnected "
                "type:NodeDataChanged path:%s/alpha\n" % base) in s, s
        t.keys("C-u")

        t.type("quit")
        t.keys("Enter")
        t.wait_text("[paddock cli exited with 0]")
    finally:
        t.close()
