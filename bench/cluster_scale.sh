#!/usr/bin/env bash
# Partitions on a three-node cluster (issue 15, item 4): starts three
# actorlog-node processes from configs/cluster-3 (ports and data dirs
# moved), creates N partitions with replication factor 3 as topics of 100
# partitions, and reports per node: threads, RSS and open files after
# creation, and the node's CPU while idle with them (% of one core over
# 10 s, from 20 s after creation). Then the time to create them (until a
# produce with acks=all to the last topic is acknowledged), and for a
# kill -9 of all three nodes and a restart: the time until a produce with
# acks=all is acknowledged again (first_write_s) and until every node's
# metrics show all N partitions led somewhere (all_led_s). Prints the
# machine's own limits beside the figures.
#
# Usage: bench/cluster_scale.sh [--bin DIR] [--partitions N] [--help]
#   --bin DIR         folder with actorlog and actorlog-node (default build/runtime)
#   --partitions N    partitions in all (default 1000; each node holds N replicas)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/runtime
n=1000
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --partitions) n=$2; shift 2 ;;
    --help|-h) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster_scale.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
source bench/scale_lib.sh
work=$(mktemp -d /tmp/actorlog-cluster-scale.XXXXXX)
declare -A cport pport kport mport pid
for i in 1 2 3; do
  cport[$i]=$(free_port) pport[$i]=$(free_port) kport[$i]=$(free_port) mport[$i]=$(free_port)
done
voters="1@127.0.0.1:${pport[1]},2@127.0.0.1:${pport[2]},3@127.0.0.1:${pport[3]}"
cleanup() {
  for i in 1 2 3; do [ -n "${pid[$i]:-}" ] && kill -9 "${pid[$i]}" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

start() { # $1: node
  local i=$1
  "$node" --config "configs/cluster-3/node$i.ini" --override "data.dir=$work/n$i" \
    --override "caf.listener=127.0.0.1:${cport[$i]}" --override "peer.listener=127.0.0.1:${pport[$i]}" \
    --override "listeners=PLAINTEXT://127.0.0.1:${kport[$i]}" --override "controller.quorum.voters=$voters" \
    --override "metrics.port=${mport[$i]}" --override "max.broker.partitions=$((n + 100))" \
    --override log.level=warn >>"$work/n$i.log" 2>&1 &
  pid[$i]=$!
  disown "${pid[$i]}" # no "Killed" lines from the shell
}
gone() { # waits (bounded) until process $1 is gone
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
}
bs() { echo "127.0.0.1:${cport[$1]}"; }
wait_ready() {
  for _ in $(seq 1 600); do
    [ "$("$al" cluster describe --bootstrap "$(bs 1)" 2>/dev/null | grep -c 'alive')" -ge 3 ] && return 0
    sleep 0.2
  done
  return 1
}
led_count() { # partitions (of the scale topics) this node leads, from its metrics
  /usr/bin/python3 - "${mport[$1]}" <<'PY' 2>/dev/null || echo 0
import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=60).read().decode()
print(sum(1 for l in text.splitlines()
          if l.startswith('actorlog_partition_leader{topic="scale-') and l.endswith(" 1")))
PY
}
probe() { # an acknowledged acks=all write to the last topic
  echo probe | "$al" produce --topic "scale-$topics" --acks all --bootstrap "$(bs 1)" >/dev/null 2>&1
}

print_machine
for i in 1 2 3; do start "$i"; done
wait_ready || { echo "cluster did not start"; tail -5 "$work"/n*.log; exit 1; }
topics=$(( (n + 99) / 100 ))
note=ok
t0=$(now_ms)
for t in $(seq 1 "$topics"); do
  if ! "$al" topics create --topic "scale-$t" --partitions 100 --replication-factor 3 \
    --bootstrap "$(bs 1)" >/dev/null 2>"$work/create.err"; then
    note="create of scale-$t failed: $(head -c 120 "$work/create.err")"
    break
  fi
  [ $((t % 10)) = 0 ] && echo "  $((t * 100)) partitions created" >&2
done
for _ in $(seq 1 600); do probe && break; sleep 0.2; done
created=$(( $(now_ms) - t0 ))
echo "  created in $(secs $created) s; idle for 30 s before measuring" >&2
sleep 20
declare -A t1
for i in 1 2 3; do t1[$i]=$(awk '{ print $14 + $15 }' "/proc/${pid[$i]}/stat"); done
sleep 10
printf '%-6s %-9s %-8s %-9s %-7s %s\n' node partitions threads rss_mib fds idle_cpu_pct
for i in 1 2 3; do
  if kill -0 "${pid[$i]}" 2>/dev/null; then
    t2=$(awk '{ print $14 + $15 }' "/proc/${pid[$i]}/stat")
    printf '%-6s %-9s %-8s %-9s %-7s %s\n' "$i" "$n" "$(status_of "${pid[$i]}" Threads)" \
      "$(( $(status_of "${pid[$i]}" VmRSS) / 1024 ))" "$(ls "/proc/${pid[$i]}/fd" | wc -l)" \
      "$(( (t2 - t1[$i]) * 100 / $(getconf CLK_TCK) / 10 ))"
  else
    printf '%-6s died (see %s)\n' "$i" "$work/n$i.log"; note="node $i died"
  fi
done
for i in 1 2 3; do kill -9 "${pid[$i]}" 2>/dev/null || true; done
for i in 1 2 3; do gone "${pid[$i]}"; done
t0=$(now_ms)
for i in 1 2 3; do start "$i"; done
first_write=- all_led=-
if wait_ready; then
  for _ in $(seq 1 1200); do
    if probe; then first_write=$(secs $(( $(now_ms) - t0 ))); break; fi
    sleep 0.1
  done
  for _ in $(seq 1 600); do
    total=0
    for i in 1 2 3; do total=$((total + $(led_count "$i"))); done
    if [ "$total" -ge "$n" ]; then all_led=$(secs $(( $(now_ms) - t0 ))); break; fi
    sleep 0.5
  done
fi
printf '%-10s %-10s %-14s %-10s %s\n' partitions created_s first_write_s all_led_s note
printf '%-10s %-10s %-14s %-10s %s\n' "$n" "$(secs $created)" "$first_write" "$all_led" "$note"
