#!/usr/bin/env bash
# A single-node SLURM cluster for the tests, run as root without systemd: a private munged, then
# slurmctld and slurmd in the foreground (backgrounded here) with a private slurm.conf. Partition
# `debug` (default) holds this machine's CPUs.
#   bash .ci/services/slurm.sh start   # starts it (or finds it running); prints `export CURRICULA_TEST_SLURM_CONF=...`
#   bash .ci/services/slurm.sh stop
#   bash .ci/services/slurm.sh running   # exit status 0 when it is up
set -euo pipefail
source "$(dirname "$0")/common.sh"
dir="$(services_dir)/slurm"
conf="$dir/slurm.conf"

running() {
  [ -f "$conf" ] && SLURM_CONF="$conf" timeout 5 sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'
}

start() {
  local tool
  for tool in munged slurmctld slurmd sbatch sinfo; do
    command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
  done
  if running; then
    echo "export CURRICULA_TEST_SLURM_CONF=$conf"
    return 0
  fi
  stop_all
  mkdir -p "$dir"/{munge,state,spool}
  chmod 700 "$dir/munge"
  # munge: a fresh key for this cluster only.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
  wait_for 10 test -S "$dir/munge/munge.socket" || { echo "munged did not start:" >&2; cat "$dir/munge/munged.log" >&2; exit 1; }

  local node cpus mem ctld_port slurmd_port
  node="$(hostname -s)"
  cpus="$(nproc)"
  mem="$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)"
  ctld_port="$(free_port)"
  slurmd_port="$(free_port)"
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port="$(free_port)"; done
  cat >"$conf" <<CONF
ClusterName=curricula-ci
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
JobRequeue=1
MinJobAge=600
MaxArraySize=10001
KillWait=10
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$conf"
  (slurmctld -D -i -f "$conf" >>"$dir/slurmctld.out" 2>&1 & echo $! >"$dir/slurmctld.launcher")
  (slurmd -D -f "$conf" >>"$dir/slurmd.out" 2>&1 & echo $! >"$dir/slurmd.launcher")
  if ! wait_for 60 running; then
    echo "the SLURM cluster did not come up; logs:" >&2
    tail -20 "$dir"/slurmctld.log "$dir"/slurmd.log "$dir"/*.out >&2 || true
    exit 1
  fi
  echo "export CURRICULA_TEST_SLURM_CONF=$conf"
}

stop_all() {
  if [ -f "$conf" ]; then
    SLURM_CONF="$conf" timeout 5 scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
  fi
  stop_pidfile "$dir/slurmd.launcher"
  stop_pidfile "$dir/slurmctld.launcher"
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munge/munged.pid"
}

stop() {
  stop_all
  rm -rf "$dir"
  rmdir "$(services_dir)" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  running) running ;;
  *) echo "usage: $0 start|stop|running" >&2; exit 2 ;;
esac
