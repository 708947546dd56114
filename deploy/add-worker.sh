#!/usr/bin/env bash
# Make this machine an onboarding worker: one command and two files.
#
#   sudo deploy/add-worker.sh fleet.toml worker.env [WORKERS]
#
# Installs the robot in /opt/onboard (its virtualenv and a Chromium), the settings in
# /etc/onboard, and starts WORKERS worker units (default 1; each runs 2 browsers). Run it
# from a clone of the project. It needs the queue's database to be reachable and the
# evidence location (evidence_dir in fleet.toml) to be mounted.
set -euo pipefail
settings=${1:?usage: add-worker.sh fleet.toml worker.env [WORKERS]}
secrets=${2:?usage: add-worker.sh fleet.toml worker.env [WORKERS]}
workers=${3:-1}
here=$(cd "$(dirname "$0")/.." && pwd)

id onboard >/dev/null 2>&1 || useradd --system --home /opt/onboard --shell /usr/sbin/nologin onboard
install -d -o onboard -g onboard -m 0750 /opt/onboard
cp -a "$here"/. /opt/onboard/
chown -R onboard:onboard /opt/onboard
(cd /opt/onboard && make setup)
install -d -m 0755 /etc/onboard
install -m 0644 "$settings" /etc/onboard/fleet.toml
install -m 0600 "$secrets" /etc/onboard/worker.env
install -m 0644 "$here"/deploy/onboard-worker@.service /etc/systemd/system/
systemctl daemon-reload
for n in $(seq 1 "$workers"); do
    systemctl enable --now "onboard-worker@$n"
done
# The workers' own log says whether they reached the queue (secrets stay in worker.env).
sleep 3
for n in $(seq 1 "$workers"); do
    systemctl is-active --quiet "onboard-worker@$n" || {
        journalctl -u "onboard-worker@$n" -n 20 --no-pager
        exit 1
    }
done
echo "worker machine ready: $workers worker(s)"
