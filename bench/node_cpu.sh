#!/bin/bash
# Stands in for actorlog-node in `actorlog-bench --node-binary bench/node_cpu.sh`:
# runs the real node ($AL_NODE, default build-bench/runtime/actorlog-node),
# forwards SIGTERM to it, and when it exits appends its CPU time (user and
# system, from the shell's `times`) to $AL_NODE_CPU_LOG (default
# /tmp/actorlog-node-cpu.log), one line per node process. Node CPU for a
# fixed volume is a per-record cost that a loaded machine does not distort
# the way it distorts records/s.
node=${AL_NODE:-build-bench/runtime/actorlog-node}
log=${AL_NODE_CPU_LOG:-/tmp/actorlog-node-cpu.log}
"$node" "$@" &
pid=$!
trap 'kill -TERM $pid' TERM INT
wait $pid
wait $pid
rc=$?
times_file=$(mktemp)
times >"$times_file" # not in a pipeline: a subshell would report its own times
cpu=$(tail -1 "$times_file" | awk '{ split($1, u, "m"); split($2, s, "m"); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
rm -f "$times_file"
echo "$(date -u +%FT%TZ) node cpu ${cpu}s exit $rc" >> "$log"
exit $rc
