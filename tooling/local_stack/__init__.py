"""The embedded local stack: real Apache Kafka (KRaft) and TimescaleDB as plain processes.

No Docker engine needed. Kafka runs from Maven Central jars on the machine's
JDK; TimescaleDB runs from a Debian trixie root filesystem made with
debootstrap, entered with ``chroot`` inside a private mount namespace.
Downloads are cached under ``~/.cache/scada-pipeline/``; data, logs and pid
files live under ``$SCADA_HOME``.
"""
