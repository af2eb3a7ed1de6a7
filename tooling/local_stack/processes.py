"""Starting, finding and stopping the detached processes of the local stack.

A process is known by a pid file and a marker string that must appear in its
command line, so that a pid reused by an unrelated process is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from base.errors import StackError


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    pidfile: Path
    logfile: Path
    marker: str
    """A string unique to this process's command line (its data directory, say)."""

    def pid(self) -> int | None:
        """The pid if the process is running and is ours, else ``None``."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return None
        if self.marker not in cmdline or state == "Z":
            return None
        return pid

    def has_exited(self) -> bool:
        """True once the process in the pid file is gone (or a zombie), for one just started.

        Not :meth:`pid`: while a process runs ``exec`` (``unshare`` → ``sh`` → ``chroot`` →
        ``postgres``) its command line is briefly another one's, or empty, and a check
        of the marker then reported a starting server as dead (one CI run in two).
        """
        try:
            pid = int(self.pidfile.read_text().strip())
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            return True
        return state == "Z"

    def start(self, argv: list[str], *, env: dict[str, str] | None = None) -> int:
        """Start ``argv`` detached (own session, reparented to init); return its pid."""
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        # The shell forks the command into the background and exits at once, so the
        # process outlives the CLI and nobody is left holding a Popen for it.
        launcher = subprocess.run(
            ["sh", "-c", 'exec 0</dev/null; "$@" >>"$LOGFILE" 2>&1 & echo $!', "sh", *argv],
            env={**(env or os.environ), "LOGFILE": str(self.logfile)},
            capture_output=True,
            text=True,
            check=True,
            start_new_session=True,
        )
        pid = int(launcher.stdout.strip())
        self.pidfile.write_text(f"{pid}\n")
        return pid

    def stop(self, *, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> bool:
        """Signal the process, wait for it to exit (SIGKILL after ``timeout``); True if it ran."""
        return bool(stop_all([self], sig=sig, timeout=timeout))

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def stop_all(
    processes: list[ManagedProcess], *, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0
) -> list[str]:
    """Signal all at once and wait; SIGKILL what outlives ``timeout``. Return the names stopped.

    Signalling together matters for a KRaft quorum: brokers stopped one by one
    lose their quorum midway and then wait out their shutdown timeout.
    """
    running = {p.name: (p, pid) for p in processes if (pid := p.pid()) is not None}
    for process in processes:
        if process.name not in running:
            process.pidfile.unlink(missing_ok=True)
    for _, pid in running.values():
        _signal(pid, sig)
    if not _all_exited(running, timeout):
        for _, pid in running.values():
            _signal(pid, signal.SIGKILL)
        if not _all_exited(running, 10.0):
            raise StackError(f"{', '.join(running)} did not exit after SIGKILL")
    for process, _ in running.values():
        process.pidfile.unlink(missing_ok=True)
    return list(running)


def _all_exited(running: dict[str, tuple[ManagedProcess, int]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(p.pid() is not None for p, _ in running.values()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
