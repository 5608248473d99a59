#!/bin/bash
# Open MPI's remote launcher for tests/mpi_hosts.sh (--mca plm_rsh_agent):
# called as `mpi_hosts_agent.sh HOST COMMAND...` where ssh would be, it
# runs COMMAND (an orted command line meant for a shell, as ssh passes it)
# inside HOST's network, mount, IPC, UTS and pid namespaces. The host's
# anchor process id is in $SMA_MPI_HOSTS_STATE/HOST.pid; nothing else is
# reachable through this agent.
set -eu
host=$1
shift
while [[ $host == -* ]]; do host=$1; shift; done # ssh-style options: none expected
pidfile=${SMA_MPI_HOSTS_STATE:?not run by mpi_hosts.sh}/$host.pid
[[ -r $pidfile ]] || { echo "mpi_hosts_agent: no simulated host '$host'" >&2; exit 255; }
exec nsenter -t "$(cat "$pidfile")" -n -m -i -u -p --wd="$PWD" /bin/sh -c "$*"
