#!/bin/bash
# sma::mpi across simulated hosts on one machine (issue 28):
#
#   mpi_hosts.sh SMA_MPI CHECK SMA MUTANT_SMA_MPI MUTANT_CHECK
#
# (the built sma-mpi, tests' sma_mpi_check, sma, and the same two built
# with SMA_MPI_MUTANT_ONE_SEGMENT). Each host is its own network, mount
# (private /dev/shm tmpfs), IPC, UTS and pid namespace; hosts and the
# head (where mpirun runs, its own network, IPC and UTS namespace) are
# joined by veth pairs on a bridge. All of it lives inside a "world"
# namespace (network, mount, pid) that this script creates with
# `unshare --kill-child`: the bridge, the addresses (10.28.0.0/24) and
# the routes exist only there, no traffic leaves it, and when the world's
# first process dies, for any reason, the kernel ends every process in it
# and with them every namespace, interface and mount. Open MPI starts its
# daemons through tests/mpi_hosts_agent.sh (nsenter, where ssh would be)
# and carries data over TCP on the veth interfaces only (self and vader
# inside a host).
#
# Checks: the demo is bit-identical on 2 and 3 hosts; the layout tests
# pass there; while a job runs each host's /dev/shm holds exactly its
# node's segments and no host opens another's; the bytes on each host's
# interface are the halo rows and gathered rows that must cross (counted
# by mpi_check); without TCP the job fails; a node spanning hosts fails
# with SMA_ENOTSHARED; after a rank is killed `sma gc` on each host
# reclaims that host's segments; the mutant fails these checks (and passes
# on one host with fake nodes, where nothing can tell); and when the test
# is interrupted nothing is left, also when the script itself gets
# SIGKILL: each world's unshare runs under `setpriv --pdeathsig KILL`, so
# the kernel ends it (and with it the world) when the script dies, and a
# keeper process removes the script's /tmp directory once the script and
# its worlds are gone (directories of runs whose script is proven dead
# are removed at the next start). Exit 0 passed, 1 failed (also when a
# command it needs is missing), 77 skipped (the kernel refuses
# namespaces or CAP_NET_ADMIN).
#
# SMA_MPI_HOSTS_MEASURE=1 adds the measurements of docs/mpi.md (the demo's
# time and wire bytes on 1, 2 and 3 hosts) to the output.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self=$here/mpi_hosts.sh
agent=$here/mpi_hosts_agent.sh
demo=$1 check=$2 cli=$3 mutant_demo=$4 mutant_check=$5
net=10.28.0
failures=0

say() { printf 'mpi_hosts: %s\n' "$*"; }
fail() { say "FAIL: $*"; failures=$((failures + 1)); }
pass() { say "ok: $*"; }

# ---- inside the world ------------------------------------------------------

# The pid of unshare's forked child (the namespace's first process).
child_of() {
  local parent=$1 pid=""
  for _ in $(seq 200); do
    pid=$(tr -d ' \n' < "/proc/$parent/task/$parent/children" 2>/dev/null || true)
    [[ -n $pid ]] && break
    sleep 0.05
  done
  printf '%s' "$pid"
}

# start_host NAME INDEX: its namespaces, anchored by a sleeping process
# whose pid the agent reads from $state/NAME.pid; a veth pair to the bridge.
start_host() {
  local name=$1 index=$2 up pid
  if [[ $name == head ]]; then # mpirun's: no /dev/shm of its own needed
    unshare -n -i -u -f --kill-child /bin/sh -c "hostname $name && touch $state/$name.up && exec sleep infinity" &
  else # its init reaps the ranks orphaned by a killed orted: a zombie would count as alive
    unshare -n -m -i -u -p -f --mount-proc --kill-child /bin/bash -c \
      "hostname $name && mount -t tmpfs -o size=256m,mode=1777 tmpfs /dev/shm &&
       mount -t sysfs sysfs /sys && touch $state/$name.up && while :; do sleep 3600 & wait; done" &
  fi
  up=$!
  pid=$(child_of "$up")
  [[ -n $pid ]] || { say "cannot start $name"; return 1; }
  for _ in $(seq 100); do # hostname and mounts are in place
    [[ -e $state/$name.up ]] && break
    sleep 0.05
  done
  echo "$pid" > "$state/$name.pid"
  ip link add "v$name" type veth peer name sma0 netns "$pid" &&
    ip link set "v$name" master smabr up &&
    nsenter -t "$pid" -n ip link set lo up &&
    nsenter -t "$pid" -n ip addr add "$net.$index/24" dev sma0 &&
    nsenter -t "$pid" -n ip link set sma0 up || return 1
  echo "$net.$index $name" >> "$state/hosts"
  for ns in net mnt ipc uts pid; do readlink "/proc/$pid/ns/$ns"; done >> "$out/namespaces"
}

# in_host NAME COMMAND...: COMMAND inside the host (its /dev/shm and pids).
in_host() {
  local name=$1
  shift
  nsenter -t "$(cat "$state/$name.pid")" -n -m -i -u -p --wd="$PWD" "$@"
}

# mpi HOSTS RANKS_PER_HOST [mpirun options] -- PROGRAM ARGS...: mpirun in
# the head, over the given hosts ("host1 host2"), TCP on sma0 only.
mpi() {
  local hosts=$1 per=$2 np=0 h
  shift 2
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  : > "$state/hostfile"
  for h in $hosts; do echo "$h slots=$per" >> "$state/hostfile"; np=$((np + per)); done
  # In the background: the world's trap then runs as soon as a signal comes.
  in_head env -u SMA_MPI_RANKS_PER_NODE mpirun --allow-run-as-root --oversubscribe --timeout 90 \
    --hostfile "$state/hostfile" -np "$np" \
    --mca plm_rsh_agent "$agent" --mca plm_rsh_no_tree_spawn 1 \
    --mca oob_tcp_if_include sma0 --mca btl_tcp_if_include sma0 --mca btl "${btl:-tcp,self,vader}" \
    "${opts[@]}" "$@" &
  wait $!
}
in_head() { nsenter -t "$(cat "$state/head.pid")" -n -i -u --wd="$PWD" "$@"; }

# Bytes through every host's interface so far (tx + rx), "host1 N host2 N".
wire_bytes() {
  local h
  for h in ${1:-host1 host2 host3}; do
    printf '%s %s ' "$h" $(($(in_host "$h" cat /sys/class/net/sma0/statistics/tx_bytes) +
                            $(in_host "$h" cat /sys/class/net/sma0/statistics/rx_bytes)))
  done
}

# Names of this test's segments in a host's /dev/shm, sorted.
segments_on() {
  in_host "$1" "$cli" ls --json --prefix "$2" |
    /usr/bin/python3 -c 'import json,sys; print("\n".join(sorted(s["name"] for s in json.load(sys.stdin))))'
}

# check_demo BINARY HOSTS NODES: bit-identical, with the expected layout.
check_demo() {
  local bin=$1 hosts=$2 nodes=$3 log=$state/demo.log
  mpi "$hosts" 2 -- "$bin" demo --size 512 --prefix "mhd$nodes" > "$log" 2>&1
  local rc=$?
  grep -q "verified: bit-identical" "$log" && grep -q "layout: $nodes nodes" "$log" && [[ $rc == 0 ]] &&
    return 0
  sed 's/^/    /' "$log" | head -20
  return 1
}

# check_layouts CHECK HOSTS NODES RANKS_PER_HOST
check_layouts() {
  local log=$state/layouts.log
  mpi "$2" "$4" -- "$1" layouts "mhl$3" "$3" > "$log" 2>&1 && grep -q ", 0 failed" "$log" && return 0
  sed 's/^/    /' "$log" | head -20
  return 1
}

# check_shm CHECK: while the job holds its segments, each host's /dev/shm
# holds exactly its node's ones and no other host can open them by name;
# mpi_check itself checks the bytes on the wire.
check_shm() {
  local log=$state/hold.log h ok=0 name owner
  rm -f "$state/holding" "$state/release" "$state/segments"
  mpi "host1 host2 host3" 2 -- "$1" hosts mhs sma0 "$state" > "$log" 2>&1 &
  local job=$!
  for _ in $(seq 600); do [[ -e $state/holding ]] && break; kill -0 $job 2>/dev/null || break; sleep 0.1; done
  if [[ -e $state/holding ]]; then
    for h in host1 host2 host3; do
      local want got
      want=$(awk -v h="$h" '$1 == h { print $2 }' "$state/segments" | sort)
      got=$(segments_on "$h" mhs)
      if [[ -z $want || $want != "$got" ]]; then
        say "$h: /dev/shm holds [$got], its node's segments are [$want]"
        ok=1
      fi
      while read -r owner name; do
        [[ $owner == "$h" ]] && continue
        if in_host "$h" "$cli" info "$name" > /dev/null 2>&1; then
          say "$h opened $owner's segment $name"
          ok=1
        fi
      done < "$state/segments"
    done
  else
    say "the job never held its segments"
    ok=1
  fi
  touch "$state/release"
  wait $job || ok=1
  grep '^wire\|failed' "$log" | sed 's/^/    /'
  [[ $ok == 0 ]] || sed 's/^/    /' "$log" | grep -v '^wire' | head -20
  return $ok
}

expect() { expect_ "$@"; }
expect_() { # expect pass|fail WHAT COMMAND...
  local want=$1 what=$2
  shift 2
  local start=$SECONDS
  "$@"
  local rc=$?
  what="$what ($((SECONDS - start)) s)"
  if [[ $want == pass ]]; then
    [[ $rc == 0 ]] && pass "$what" || fail "$what"
  else
    [[ $rc != 0 ]] && pass "$what" || fail "$what"
  fi
}

no_tcp() { # without the TCP transport, hosts share nothing: the job fails
  local log=$state/notcp.log
  btl=self,vader mpi "host1 host2" 2 -- "$demo" demo --size 64 --prefix mhn > "$log" 2>&1 && return 1
  grep -q "unable to reach each other" "$log" && ! grep -q "verified" "$log" && return 0
  sed 's/^/    /' "$log" | head -20
  return 1
}

node_spanning_hosts() { # 4 ranks per node, 2 ranks per host: SMA_ENOTSHARED
  local log=$state/span.log
  mpi "host1 host2" 2 -x SMA_MPI_RANKS_PER_NODE=4 -- "$demo" demo --size 64 --prefix mhp > "$log" 2>&1 &&
    return 1
  grep -q "SMA_ENOTSHARED" "$log" && grep -q "do not share memory" "$log" && return 0
  sed 's/^/    /' "$log" | head -10
  return 1
}

killed_rank_then_gc() { # segments left on every host; gc on each reclaims
  local log=$state/kill.log h ok=0
  mpi "host1 host2" 2 -- "$check" kill mhk > "$log" 2>&1 && { say "the killed job succeeded"; return 1; }
  for h in host1 host2; do
    [[ -n $(segments_on "$h" mhk) ]] || { say "$h: the killed job left no segment"; ok=1; }
  done
  for h in host1 host2; do
    for _ in $(seq 50); do
      in_host "$h" "$cli" gc --prefix mhk > /dev/null || ok=1
      [[ -z $(segments_on "$h" mhk) ]] && break
      sleep 0.1
    done
    [[ -z $(segments_on "$h" mhk) ]] || {
      say "$h: gc left $(segments_on "$h" mhk):"
      in_host "$h" "$cli" gc --dry-run --prefix mhk 2>&1 | sed 's/^/    /'
      in_host "$h" "$cli" ls --prefix mhk 2>&1 | sed 's/^/    /'
      ok=1
    }
  done
  return $ok
}

fake_nodes_pass() { # the mutant passes where every "node" shares /dev/shm
  mpi "host1" 4 -x SMA_MPI_RANKS_PER_NODE=2 -- "$1" demo --size 512 --prefix mhf > "$state/fake.log" 2>&1 &&
    grep -q "verified: bit-identical" "$state/fake.log"
}

# measure HOSTS PER [mpirun options]: the demo's time and the bytes
# through every host's interface (the whole job: launch, wire-up, halos,
# gather), then a halo exchange's cost per call against its bytes.
measure() {
  local hosts=$1 per=$2 before after h
  shift 2
  before=($(wire_bytes "$hosts"))
  mpi "$hosts" "$per" "$@" -- "$demo" demo --size 2048 --prefix mhm > "$state/measure.log" 2>&1
  after=($(wire_bytes "$hosts"))
  say "measure: [$hosts] x $per ranks $*: $(grep -E 'ranks:|bytes sent|verified|FAILED' "$state/measure.log" | tr -s ' ' | tr '\n' ';')"
  for ((h = 0; h < ${#after[@]}; h += 2)); do
    say "measure:   ${after[h]} interface bytes (tx+rx) for the whole job: $((after[h + 1] - before[h + 1]))"
  done
  mpi "$hosts" "$per" "$@" -- "$check" halo-cost mhc > "$state/measure.log" 2>&1
  grep '^halo-cost' "$state/measure.log" | sed 's/^/    /'
}

world_teardown() {
  local f
  for f in "$state"/*.pid; do [[ -e $f ]] && kill "$(cat "$f")" 2>/dev/null; done
  ip link del smabr 2>/dev/null
  return 0
}

world() {
  state=$out/state
  mkdir -p "$state"
  # Open MPI splits plm_rsh_agent at spaces, as a command line: a copy
  # where the clone's path (which may hold one) is not part of it.
  cp "$agent" "$state/agent.sh" && agent=$state/agent.sh || exit 1
  trap 'world_teardown' EXIT
  trap 'exit 130' INT TERM
  for ns in net mnt pid; do readlink "/proc/self/ns/$ns"; done >> "$out/namespaces"
  mount -t sysfs sysfs /sys || exit 1 # the world's interfaces
  ip link set lo up && ip link add smabr type bridge && ip link set smabr up || exit 1
  printf '127.0.0.1 localhost\n' > "$state/hosts"
  start_host head 1 && start_host host1 11 && start_host host2 12 || exit 1
  [[ ${SMA_MPI_HOSTS_SCENARIO:-} == interrupt ]] || start_host host3 13 || exit 1
  mount --bind "$state/hosts" /etc/hosts || exit 1 # the world's own: names of the hosts
  export SMA_MPI_HOSTS_STATE=$state
  touch "$out/started"

  if [[ ${SMA_MPI_HOSTS_SCENARIO:-} == interrupt ]]; then # held until killed
    mpi "host1 host2" 2 -- "$check" hosts mhi sma0 "$state"
    exit 1
  fi

  if [[ -n ${SMA_MPI_HOSTS_ONLY:-} ]]; then # while developing: only these checks
    expect() { [[ $2 =~ $SMA_MPI_HOSTS_ONLY ]] || return 0; expect_ "$@"; }
  fi
  expect pass "demo on 2 hosts: bit-identical, 2 nodes" check_demo "$demo" "host1 host2" 2
  expect pass "demo on 3 hosts: bit-identical, 3 nodes" check_demo "$demo" "host1 host2 host3" 3
  # (2 ranks a host take 4 times longer on 2 busy cores: once is enough)
  expect pass "layout tests on 2 hosts x 1 rank" check_layouts "$check" "host1 host2" 2 1
  expect pass "layout tests on 3 hosts x 2 ranks" check_layouts "$check" "host1 host2 host3" 3 2
  expect pass "3 hosts: each /dev/shm holds its node's segments only; wire bytes are the rows" \
    check_shm "$check"
  expect pass "negative control: without TCP the job fails" no_tcp
  expect pass "a node spanning hosts fails with SMA_ENOTSHARED" node_spanning_hosts
  expect pass "a rank killed: sma gc on each host reclaims its segments" killed_rank_then_gc
  expect pass "the mutant passes on one host with fake nodes (nothing there can tell)" \
    fake_nodes_pass "$mutant_demo"
  expect fail "the mutant fails the demo on 2 hosts" check_demo "$mutant_demo" "host1 host2" 2
  expect fail "the mutant fails the /dev/shm and wire checks on 3 hosts" check_shm "$mutant_check"
  if [[ ${SMA_MPI_HOSTS_MEASURE:-} == 1 ]]; then
    local r # 1 rank a host: 2 busy cores, and more ranks only measure the scheduler
    for r in 1 2; do # alternating, 2 rounds
      measure "host1" 2
      measure "host1" 2 -x SMA_MPI_RANKS_PER_NODE=1
      measure "host1 host2" 1
      measure "host1" 3
      measure "host1" 3 -x SMA_MPI_RANKS_PER_NODE=1
      measure "host1 host2 host3" 1
    done
  fi
  exit $((failures > 0))
}

# ---- outside: the world, its interruption, and what is left after ----------

if [[ ${SMA_MPI_HOSTS_ROLE:-} == world ]]; then
  out=$SMA_MPI_HOSTS_OUT
  world
fi

# run_world DIR [SCENARIO]: in the background; its unshare's pid in $world_pid.
# (unshare ignores SIGINT and SIGTERM while it waits: its child is signalled.)
# setpriv gives unshare a parent-death signal, kept across the exec: when
# this script dies, even by SIGKILL (no trap runs), the kernel kills
# unshare, whose --kill-child then ends the world's first process and so
# every process of the world. Without it unshare would be re-parented and
# go on running the checks.
run_world() {
  mkdir -p "$1"
  SMA_MPI_HOSTS_ROLE=world SMA_MPI_HOSTS_OUT=$1 SMA_MPI_HOSTS_SCENARIO=${2:-} \
    setpriv --pdeathsig KILL \
    unshare -n -m -p -f --kill-child --mount-proc bash "$self" "$demo" "$check" "$cli" \
    "$mutant_demo" "$mutant_check" &
  world_pid=$!
  echo "$world_pid $(start_time "$world_pid")" >> "$tmp/worlds"
}

# The namespaces of every process that runs: not of a zombie, which runs
# nothing (where pid 1 does not reap, as a container job's `tail -f
# /dev/null`, a killed world's processes stay as zombies).
namespaces_in_use() {
  local p s
  for p in /proc/[0-9]*; do
    read -r s < "$p/stat" 2>/dev/null || continue
    s=${s##*) }
    [[ ${s%% *} == Z ]] || find "$p/ns" -maxdepth 1 -type l -printf '%l\n' 2>/dev/null
  done
}

# Nothing of a world is left: no process in any of its namespaces, no
# interface or segment of it out here.
nothing_left() {
  local dir=$1 left
  for _ in $(seq 100); do
    left=$(namespaces_in_use | sort -u | comm -12 - <(sort -u "$dir/namespaces"))
    [[ -z $left ]] && break
    sleep 0.1
  done
  [[ -z $left ]] || { say "a process still runs in a namespace of the test: $left"; return 1; }
  [[ $(ip -o link show | cut -d: -f2 | sort) == "$links_before" ]] ||
    { say "interfaces changed out here"; return 1; }
  [[ -z $(ls /dev/shm | grep -E 'mh[a-z][0-9]?' ) ]] || { say "segments out here"; return 1; }
  return 0
}

# start_time PID: the process's start time (clock ticks after boot; with
# the pid, it names one process even after the pid is reused), empty when
# there is no such process or it is a zombie (it runs nothing any more).
start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) } # the fields after the command name, which may hold blanks
  set -- $stat
  [[ $1 == Z ]] || printf '%s' "${20}"
}

# alive PID START: that very process still runs.
alive() { [[ -n $2 && $(start_time "$1") == "$2" ]]; }

# keeper DIR: once this script (its pid and start time in DIR/owner) and
# every world it started (DIR/worlds) are gone, removes DIR. It outlives
# the script: after a SIGKILL no trap of the script runs.
keeper() {
  local dir=$1 pid start
  read -r pid start < "$dir/owner"
  while alive "$pid" "$start"; do sleep 0.2; done
  while [[ -d $dir ]]; do
    local running=0
    if [[ -e $dir/worlds ]]; then
      while read -r pid start; do alive "$pid" "$start" && running=1; done < "$dir/worlds"
    fi
    [[ $running == 0 ]] && rm -rf "$dir" 2>/dev/null
    sleep 0.2
  done
}

# Directories of earlier runs whose script is proven gone (an owner file
# naming a process that no longer runs): their keeper was killed too.
# Without an owner file nothing proves the run dead: kept.
remove_dead_runs() {
  local dir pid start
  for dir in /tmp/sma-mpi-hosts.*; do
    [[ -f $dir/owner ]] || continue
    read -r pid start < "$dir/owner" || continue
    alive "$pid" "$start" || rm -rf "$dir"
  done
}

# Every command the script needs, checked one by one: a missing tool is
# a broken test machine (a failure that names it), not a kernel that
# refuses namespaces (a skip).
need_commands() {
  local c missing=0
  for c in unshare nsenter setpriv ip mount mktemp mpirun; do
    command -v "$c" > /dev/null || { say "FAIL: the command $c is missing (needed to simulate hosts)"; missing=1; }
  done
  [[ -x /usr/bin/python3 ]] || { say "FAIL: /usr/bin/python3 is missing"; missing=1; }
  return $missing
}

probe() { # namespaces, a bridge and a veth pair, a tmpfs: or skip
  unshare -n -m -p -f --kill-child --mount-proc /bin/sh -c \
    'ip link add smaprobe type bridge && ip link add smaprobe0 type veth peer name smaprobe1 &&
     unshare -n -m -i -u -p -f --mount-proc /bin/sh -c "mount -t tmpfs tmpfs /dev/shm && hostname probe"' \
    > /dev/null 2>&1
}

need_commands || exit 1
if ! probe; then
  say "SKIP: this machine refuses network/mount/IPC/UTS/pid namespaces or CAP_NET_ADMIN"
  exit 77
fi

remove_dead_runs
tmp=$(mktemp -d /tmp/sma-mpi-hosts.XXXXXX)
echo "$$ $(start_time $$)" > "$tmp/owner"
keeper "$tmp" < /dev/null > /dev/null 2>&1 &
world_pid=
trap 'kill -KILL "$world_pid" 2>/dev/null; rm -rf "$tmp"' EXIT # unshare ignores TERM; --kill-child ends the world
trap 'exit 130' INT TERM
links_before=$(ip -o link show | cut -d: -f2 | sort)

run_world "$tmp/checks"
wait "$world_pid"
rc=$?
expect pass "nothing is left after the test" nothing_left "$tmp/checks"
[[ $rc == 0 ]] || failures=$((failures + 1))

# interrupt SIGNAL WHO: a world whose job holds its segments gets SIGNAL:
# "init" is the world's first process (its trap tears down), "unshare"
# the process that owns the world (SIGKILL: nothing of the test runs
# after, the kernel must end it all).
interrupt() {
  local dir=$tmp/interrupt-$2 target
  run_world "$dir" interrupt
  for _ in $(seq 600); do [[ -e $dir/state/holding ]] && break; sleep 0.1; done
  [[ -e $dir/state/holding ]] || { say "the job to interrupt never started"; return 1; }
  target=$world_pid
  [[ $2 == init ]] && target=$(child_of "$world_pid")
  kill "-$1" "$target"
  wait "$world_pid"
  nothing_left "$dir"
}
expect pass "nothing is left when the world's first process gets SIGTERM mid-job" interrupt TERM init
expect pass "nothing is left when the world's owner gets SIGKILL mid-job" interrupt KILL unshare

say "$([[ $failures == 0 ]] && echo passed || echo "FAILED (see above)")"
exit $((failures > 0))
