#!/usr/bin/env bash
# Starts a single-node Slurm cluster for tests/slurm.rs (Debian's slurm-wlm and munge,
# installed when absent). Run as root. Writes the PIDs of the daemons it started, one per
# line, to the file named by $1, so the test stops those and only those.
# Exit codes: 0 the cluster is up; 3 it cannot be had here (the reason on stdout).
set -euo pipefail
started=${1:?usage: start.sh PID_FILE}
: > "$started"

skip() { echo "$*"; exit 3; }
[ "$(id -u)" = 0 ] || skip "not root: cannot install or start Slurm"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || skip "no slurm-wlm and no apt-get to install it"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 \
        || skip "apt-get could not install slurm-wlm and munge"
fi

marker="# written by archsim's tests/slurm/start.sh"
conf=/etc/slurm/slurm.conf
if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
    # Someone else's cluster: use it as it is if it answers.
    sinfo >/dev/null 2>&1 || skip "$conf is not ours and its cluster does not answer"
    exit 0
fi

host=$(hostname -s)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
[ -f /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 400 /etc/munge/munge.key
# No cgroup.conf: Slurm 22.05 has no CgroupPlugin=disabled, and with one slurmd will not start.
cat > "$conf" <<CONF
$marker
ClusterName=archsim-test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ReturnToService=2
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

# Starts daemon $1 unless it runs: $2 is its PID file, the rest its command. Records the
# PID the daemon wrote (not the PID of the process that forked it).
start() {
    local name=$1 pidfile=$2; shift 2
    pgrep -x "$name" >/dev/null && return 0
    rm -f "$pidfile"
    "$@"
    for _ in $(seq 50); do
        if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            cat "$pidfile" >> "$started"
            return 0
        fi
        sleep 0.1
    done
    echo "$name did not start"; tail -n 20 "/var/log/slurm/$name.log" 2>/dev/null || true
    exit 1
}
start munged /run/munge/munged.pid runuser -u munge -- /usr/sbin/munged
start slurmctld /run/slurmctld.pid /usr/sbin/slurmctld
start slurmd /run/slurmd.pid /usr/sbin/slurmd

# The node shows `unk` for a few seconds before it is idle.
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(timeout 5 sinfo -h -N -o '%t' 2>/dev/null | head -n1 || true)
    case "$state" in idle|mix|alloc) exit 0 ;; esac
    sleep 0.5
done
echo "the node never became idle within 60 s (state: ${state:-no answer})"
exit 1
