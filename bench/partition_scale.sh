#!/usr/bin/env bash
# Partitions per node (issue 15): starts one actorlog-node (configs/single,
# ports and data dir moved), creates N partitions as topics of 100
# partitions each, and reports what the node costs with them: threads, RSS
# and open files after creation, the time to create them, and two times
# for a restart after kill -9: until a produce to the last topic is
# acknowledged (first_write_s), and until the node's metrics show every
# partition open and led by it (all_led_s); and the node's CPU while idle
# with them (idle_cpu_pct, % of one core over 10 s, measured from 20 s after
# the creation, once their first checkpoints are written). Prints the machine's own limits
# (cores, the fd and thread limits) beside the figures.
#
# Usage: bench/partition_scale.sh [--bin DIR] [--counts "1000 2000"] [--help]
#   --bin DIR      folder with actorlog and actorlog-node (default build/runtime)
#   --counts LIST  partition counts to try, one fresh node each (default "1000 2000")
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/runtime
counts="1000 2000"
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --counts) counts=$2; shift 2 ;;
    --help|-h) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "partition_scale.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
source bench/scale_lib.sh
work=$(mktemp -d /tmp/actorlog-scale.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

print_machine
printf '%-10s %-10s %-8s %-9s %-7s %-13s %-14s %-10s %-12s %s\n' partitions created_s threads \
  rss_mib fds idle_cpu_pct first_write_s all_led_s idle_threads note

start() { # $1: data dir, $2: partitions limit
  "$node" --config configs/single/node.ini --override "data.dir=$1" \
    --override "listeners=PLAINTEXT://127.0.0.1:$kport" --override "caf.listener=127.0.0.1:$cport" \
    --override "peer.listener=127.0.0.1:$pport" --override "controller.quorum.voters=1@127.0.0.1:$pport" \
    --override metrics.port=$mport --override "max.broker.partitions=$2" --override log.level=warn \
    >>"$work/node.log" 2>&1 &
  pid=$!
}
wait_ready() {
  for _ in $(seq 1 600); do
    "$al" cluster describe --bootstrap "127.0.0.1:$cport" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
led_count() { # partitions whose actor answered the metrics scrape, led by this node
  /usr/bin/python3 - "$mport" <<'PY' 2>/dev/null || echo 0
import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=30).read().decode()
print(sum(1 for l in text.splitlines() if l.startswith("actorlog_partition_leader{") and l.endswith(" 1")))
PY
}

for n in $counts; do
  kport=$(free_port) cport=$(free_port) pport=$(free_port) mport=$(free_port)
  data=$work/data-$n
  note=ok
  start "$data" $((n + 10))
  wait_ready || { echo "node did not start"; tail -5 "$work/node.log"; exit 1; }
  idle_threads=$(status_of "$pid" Threads)
  topics=$(( (n + 99) / 100 ))
  t0=$(now_ms)
  for t in $(seq 1 "$topics"); do
    if ! "$al" topics create --topic "scale-$t" --partitions 100 --replication-factor 1 \
      --bootstrap "127.0.0.1:$cport" >/dev/null 2>"$work/create.err"; then
      note="create of scale-$t failed: $(head -c 120 "$work/create.err")"
      break
    fi
    [ $((t % 5)) = 0 ] && echo "  $n: $((t * 100)) partitions created" >&2
  done
  # Until the last topic takes an acknowledged write (its partitions are up).
  echo probe | "$al" produce --topic "scale-$topics" --acks all --bootstrap "127.0.0.1:$cport" \
    >/dev/null 2>&1 || note="produce after create failed"
  created=$(( $(now_ms) - t0 ))
  sleep 2 # let every partition actor finish opening
  idle_cpu=-
  if kill -0 "$pid" 2>/dev/null; then
    sleep 18
    t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    sleep 10
    t2=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    idle_cpu=$(( (t2 - t1) * 100 / $(getconf CLK_TCK) / 10 ))
    threads=$(status_of "$pid" Threads)
    rss=$(( $(status_of "$pid" VmRSS) / 1024 ))
    fds=$(ls "/proc/$pid/fd" | wc -l)
  else
    threads=- rss=- fds=- note="node died (see node.log)"
  fi
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  t0=$(now_ms)
  start "$data" $((n + 10))
  restart=- all_led=-
  if wait_ready; then
    for _ in $(seq 1 600); do
      if echo probe | "$al" produce --topic "scale-$topics" --acks all \
        --bootstrap "127.0.0.1:$cport" >/dev/null 2>&1; then
        restart=$(awk -v ms=$(( $(now_ms) - t0 )) 'BEGIN { printf "%.1f", ms / 1000 }')
        break
      fi
      sleep 0.1
    done
    for _ in $(seq 1 600); do
      if [ "$(led_count)" -ge "$n" ]; then
        all_led=$(awk -v ms=$(( $(now_ms) - t0 )) 'BEGIN { printf "%.1f", ms / 1000 }')
        break
      fi
      sleep 0.2
    done
  fi
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
  printf '%-10s %-10s %-8s %-9s %-7s %-13s %-14s %-10s %-12s %s\n' "$n" \
    "$(awk -v ms=$created 'BEGIN { printf "%.1f", ms / 1000 }')" "$threads" "$rss" "$fds" \
    "$idle_cpu" "$restart" "$all_led" "$idle_threads" "$note"
done
