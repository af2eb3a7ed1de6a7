"""Fetching what the local stack runs, once, into the download cache.

- Apache Kafka: the broker's jars from Maven Central, resolved by Maven from
  ``kafka-pom.xml`` (Kafka is not packaged by Debian, PyPI or npm).
- The Prometheus JMX exporter's java agent, also from Maven Central, loaded into
  every broker so Prometheus sees partition health and request latency.
- TimescaleDB: a Debian trixie root filesystem with ``postgresql-17`` and
  ``postgresql-17-timescaledb``, made by debootstrap (bookworm has no TimescaleDB,
  and trixie's package needs trixie's libc).

Each lands in a ``.partial`` directory that is renamed when complete, so an
interrupted download is redone instead of half-used.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from base.errors import StackError

Say = Callable[[str], None]

KAFKA_VERSION = "4.4.0"
JMX_EXPORTER = "io.prometheus.jmx:jmx_prometheus_javaagent:1.0.1"
"""The newest version Maven Central serves here (1.1 and later did not resolve)."""
DEBIAN_SUITE = "trixie"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
TIMESCALEDB_PACKAGES = ("postgresql-17", "postgresql-17-timescaledb")


def kafka_libs(cache: Path, say: Say) -> Path:
    """The directory of Kafka's jars, downloading them first if needed."""
    target = cache / f"kafka-{KAFKA_VERSION}"
    libs = target / "libs"
    if (target / ".complete").exists():
        return libs
    _require("mvn", "Maven (Debian package 'maven')")
    partial = _fresh(cache / f"kafka-{KAFKA_VERSION}.partial")
    pom = partial / "pom.xml"
    pom.write_bytes(resources.files("tooling.local_stack").joinpath("kafka-pom.xml").read_bytes())
    say(f"downloading Apache Kafka {KAFKA_VERSION} jars from Maven Central (once) ...")
    started = time.monotonic()
    _run(
        [
            "mvn",
            "-B",
            "-q",
            "-ntp",
            "-f",
            str(pom),
            f"-Dmaven.repo.local={cache / 'm2'}",
            f"-Dkafka.version={KAFKA_VERSION}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial / 'libs'}",
        ],
        what="Maven could not resolve the Kafka jars",
        say=say,
    )
    (partial / ".complete").write_text(f"{KAFKA_VERSION}\n")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    say(f"Kafka jars ready in {time.monotonic() - started:.0f} s: {libs}")
    return libs


def jmx_agent(cache: Path, say: Say) -> Path:
    """The JMX exporter's java agent jar, downloading it first if needed."""
    _, artifact, version = JMX_EXPORTER.split(":")
    jar = cache / "jmx-exporter" / f"{artifact}-{version}.jar"
    if jar.exists():
        return jar
    _require("mvn", "Maven (Debian package 'maven')")
    partial = _fresh(cache / "jmx-exporter.partial")
    say(f"downloading {JMX_EXPORTER} from Maven Central (once) ...")
    _run(
        [
            "mvn",
            "-B",
            "-q",
            "-ntp",
            f"-Dmaven.repo.local={cache / 'm2'}",
            "dependency:copy",
            f"-Dartifact={JMX_EXPORTER}:jar",
            f"-DoutputDirectory={partial}",
        ],
        what="Maven could not resolve the JMX exporter",
        say=say,
    )
    jar.parent.mkdir(parents=True, exist_ok=True)
    (partial / jar.name).replace(jar)  # one rename: a jar that exists is whole
    shutil.rmtree(partial, ignore_errors=True)
    return jar


def timescaledb_rootfs(cache: Path, say: Say) -> Path:
    """The TimescaleDB root filesystem, made with debootstrap first if needed."""
    target = cache / f"timescaledb-{DEBIAN_SUITE}"
    if (target / ".complete").exists():
        return target
    _require("debootstrap", "debootstrap (Debian package 'debootstrap')")
    partial = _fresh(cache / f"timescaledb-{DEBIAN_SUITE}.partial")
    say(
        f"building a Debian {DEBIAN_SUITE} root filesystem with {', '.join(TIMESCALEDB_PACKAGES)} "
        "(once; about a minute and 700 MB) ..."
    )
    started = time.monotonic()
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(TIMESCALEDB_PACKAGES)}",
            DEBIAN_SUITE,
            str(partial),
            DEBIAN_MIRROR,
        ],
        what="debootstrap failed",
        say=say,
        echo=lambda line: line.startswith("I: Retrieving") or line.startswith("I: Installing"),
    )
    (partial / ".complete").write_text(f"{DEBIAN_SUITE}\n")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    say(f"TimescaleDB root filesystem ready in {time.monotonic() - started:.0f} s: {target}")
    return target


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _require(command: str, what: str) -> None:
    if shutil.which(command) is None:
        raise StackError(f"{what} is needed; run `make up` (it installs it) or install it")


def _run(
    argv: list[str], *, what: str, say: Say, echo: Callable[[str], bool] = lambda _: False
) -> None:
    """Run ``argv``, echoing the lines ``echo`` picks; on failure, raise with the output's tail."""
    output: list[str] = []
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            output.append(line)
            if echo(line):
                say(f"  {line}")
    if proc.returncode != 0:
        tail = "\n".join(output[-20:])
        raise StackError(f"{what} (exit {proc.returncode}):\n{tail}")
