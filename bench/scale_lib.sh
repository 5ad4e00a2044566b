# Shared by bench/partition_scale.sh and bench/cluster_scale.sh (sourced
# after `bin` is set): the binaries, free ports, clocks, /proc readings and
# the machine's own limits.
al=$bin/actorlog
node=$bin/actorlog-node
[ -x "$al" ] && [ -x "$node" ] || { echo "no actorlog/actorlog-node in $bin (build first)" >&2; exit 2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
status_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
print_machine() {
  echo "machine: $(nproc) cores, open files $(ulimit -Sn) soft / $(ulimit -Hn) hard," \
    "threads max $(cat /proc/sys/kernel/threads-max), pid max $(cat /proc/sys/kernel/pid_max)"
}
