#!/usr/bin/env bash
# Installs the Debian packages the local stack and the test suite need, and only
# those that are missing, so a second run costs nothing. Run as root (or via sudo).
#   java        Kafka broker (Maven Central jars)      openjdk-17-jre-headless
#   mvn         resolves Kafka's jars                   maven
#   debootstrap TimescaleDB's trixie root filesystem    debootstrap
#   unshare     private mount namespace for it          util-linux
#   kcat, psql  what operators poke the stack with      kcat, postgresql-client
#   venv        the project's virtualenv                python3-venv
#   npm         bundles the dashboard's assets          nodejs, npm
#   prometheus, promtool, alertmanager, amtool, node and PostgreSQL exporters:
#               the monitoring stack and its rule tests  prometheus, prometheus-alertmanager,
#                                                        prometheus-node-exporter,
#                                                        prometheus-postgres-exporter
# With the argument `browser`, also what the browser tests drive:
#   chromium    Debian's Chromium (Playwright launches /usr/bin/chromium), with
#               fonts-liberation (a recommends, skipped by --no-install-recommends)
set -euo pipefail

need=()
command -v java >/dev/null        || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null         || need+=(maven)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v unshare >/dev/null     || need+=(util-linux)
command -v kcat >/dev/null        || need+=(kcat)
command -v psql >/dev/null        || need+=(postgresql-client)
command -v curl >/dev/null        || need+=(curl)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
command -v npm >/dev/null         || need+=(nodejs npm)
command -v promtool >/dev/null    || need+=(prometheus)
command -v amtool >/dev/null      || need+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null     || need+=(prometheus-node-exporter)
command -v prometheus-postgres-exporter >/dev/null || need+=(prometheus-postgres-exporter)
if [ "${1:-}" = browser ]; then
    [ -x /usr/bin/chromium ]      || need+=(chromium fonts-liberation)
fi

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "==> installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# On a systemd host the packages start their own services on 0.0.0.0 and on the
# ports the local stack uses; the stack runs its own, on 127.0.0.1. Only the units
# installed just now are switched off: a Prometheus the machine already ran stays.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    units=()
    for package in "${need[@]}"; do
        case "$package" in prometheus*) units+=("$package") ;; esac
    done
    if [ ${#units[@]} -gt 0 ]; then
        $sudo systemctl disable --now "${units[@]}" >/dev/null 2>&1 || true
    fi
fi
