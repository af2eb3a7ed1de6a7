"""PostgreSQL 17 + TimescaleDB from a Debian trixie root filesystem, as a local process.

The server runs chrooted into the cached root filesystem, inside a private
mount namespace (``unshare --mount``) where the data directory under
``$SCADA_HOME`` is bind-mounted in. The mounts vanish with the process, so a
crash leaves nothing mounted, and two state directories can share one root
filesystem.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from base.errors import StackError
from base.settings import LOCAL_DATABASE_PORT
from tooling.local_stack.processes import ManagedProcess

PORT = LOCAL_DATABASE_PORT
DATA_MOUNT = "/srv/scada-pgdata"  # where the data directory appears inside the root filesystem
BIN = "/usr/lib/postgresql/17/bin"

SERVER_SETTINGS = {
    "port": str(PORT),
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "shared_preload_libraries": "timescaledb",
    "timescaledb.telemetry_level": "off",
    "max_connections": "200",
    "shared_buffers": "512MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "wal_compression": "on",
    "max_worker_processes": "16",
    "timescaledb.max_background_workers": "4",
    "log_min_duration_statement": "2000",
    # Short OLTP-style statements; JIT compilation costs more than it saves here.
    "jit": "off",
    "log_line_prefix": "%m [%p] %q%u@%d ",
}


@dataclass(frozen=True)
class TimescaleServer:
    home: Path
    rootfs: Path
    port: int = PORT

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.home / "timescaledb" / "data"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            name="timescaledb",
            pidfile=self.home / "run" / "timescaledb.pid",
            logfile=self.home / "logs" / "timescaledb.log",
            # The postmaster's own command line, after chroot: unique to the port.
            marker=f"{BIN}/postgres -D {DATA_MOUNT} -p {self.port}",
        )

    def prepare(self) -> None:
        """Create and ``initdb`` the data directory once."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        uid, gid = _postgres_ids(self.rootfs)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chown(self.data_dir, uid, gid)
        self.data_dir.chmod(0o700)
        result = subprocess.run(
            self._in_rootfs(
                [
                    f"{BIN}/initdb",
                    "-D",
                    DATA_MOUNT,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise StackError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def start(self) -> int:
        config = {**SERVER_SETTINGS, "port": str(self.port)}
        settings = [arg for k, v in config.items() for arg in ("-c", f"{k}={v}")]
        return self.process.start(
            self._in_rootfs([f"{BIN}/postgres", "-D", DATA_MOUNT, "-p", str(self.port), *settings])
        )

    def _in_rootfs(self, argv: list[str]) -> list[str]:
        """``argv`` run as the rootfs's postgres user, chrooted, with our mounts, pid preserved."""
        root = shlex.quote(str(self.rootfs))
        script = " && ".join(
            [
                f"mkdir -p {root}{DATA_MOUNT}",
                f"mount --bind {shlex.quote(str(self.data_dir))} {root}{DATA_MOUNT}",
                f"mount -t proc proc {root}/proc",
                f"mount --rbind /dev {root}/dev",
                f"exec chroot --userspec=postgres:postgres {root} {shlex.join(argv)}",
            ]
        )
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]


def _postgres_ids(rootfs: Path) -> tuple[int, int]:
    for line in (rootfs / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "postgres":
            return int(fields[2]), int(fields[3])
    raise StackError(f"no postgres user in {rootfs}; delete it to have it rebuilt")
