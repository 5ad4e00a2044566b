# Shared helpers for the process-level fault tests: start/stop real
# actorlog-node processes from configs/, wait with bounds, check output.
# Usage: source lib.sh; needs BIN_DIR (folder with actorlog, actorlog-node)
# and SRC_DIR (repo root).
set -euo pipefail

AL="$BIN_DIR/actorlog"
NODE="$BIN_DIR/actorlog-node"
WORK=$(mktemp -d /tmp/actorlog-fault.XXXXXX)
PIDS=()

cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
}

# A free loopback port (best effort: bind port 0, read it, release it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_node NAME CONFIG PORT [overrides...]: starts a node in the background
# (actorlog clients on PORT, its peer listener and its Kafka listener on free
# ports: LAST_PEER_PORT, LAST_KAFKA_PORT).
start_node() {
  local name=$1 config=$2 port=$3 peer kafka
  shift 3
  peer=$(free_port)
  kafka=$(free_port)
  "$NODE" --config "$SRC_DIR/$config" --override "data.dir=$WORK/$name" \
    --override "listeners=PLAINTEXT://127.0.0.1:$kafka" \
    --override "caf.listener=127.0.0.1:$port" --override "peer.listener=127.0.0.1:$peer" \
    --override "controller.quorum.voters=1@127.0.0.1:$peer" --override fault.injection.enable=true \
    "$@" >>"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
  LAST_PEER_PORT=$peer
  LAST_KAFKA_PORT=$kafka
}

# wait_ready PORT: until the broker answers (at most 20 s).
wait_ready() {
  local port=$1
  for _ in $(seq 1 100); do
    if "$AL" cluster describe --bootstrap "127.0.0.1:$port" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  fail "node on port $port did not become ready within 20 s"
}

# Three nodes from configs/cluster-3 on free ports: start_cluster_node I
# [overrides...] starts node I (data in $WORK/nI, log in $WORK/nI.log);
# PORT[I] and PID[I] say where it listens for clients and which process it
# is; PEER_PORT[I] is its peer listener (the quorum voters' ports). Fault
# injection (link cuts) is on: these are test clusters.
CLUSTER_PORTS=($(free_port) $(free_port) $(free_port) $(free_port) $(free_port) $(free_port)
               $(free_port) $(free_port) $(free_port))
declare -A PORT PEER_PORT KAFKA_PORT PID
for i in 1 2 3; do
  PORT[$i]=${CLUSTER_PORTS[$((i - 1))]}
  PEER_PORT[$i]=${CLUSTER_PORTS[$((i + 2))]}
  KAFKA_PORT[$i]=${CLUSTER_PORTS[$((i + 5))]}
done
VOTERS="1@127.0.0.1:${PEER_PORT[1]},2@127.0.0.1:${PEER_PORT[2]},3@127.0.0.1:${PEER_PORT[3]}"
start_cluster_node() {
  local i=$1
  shift
  "$NODE" --config "$SRC_DIR/configs/cluster-3/node$i.ini" --override "data.dir=$WORK/n$i" \
    --override "caf.listener=127.0.0.1:${PORT[$i]}" --override "peer.listener=127.0.0.1:${PEER_PORT[$i]}" \
    --override "listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT[$i]}" \
    --override "controller.quorum.voters=$VOTERS" --override fault.injection.enable=true \
    --override metrics.port=0 "$@" >>"$WORK/n$i.log" 2>&1 &
  PIDS+=($!)
  PID[$i]=$!
}

# Failure detection in seconds rather than Kafka's defaults, for tests that
# kill or cut nodes: start_cluster_node I "${FAST[@]}".
FAST=(--override broker.session.timeout.ms=2000 --override broker.heartbeat.interval.ms=300
      --override replica.lag.time.max.ms=3000)

# bs I: node I's bootstrap address; kbs I: its Kafka listener's.
bs() { echo "127.0.0.1:${PORT[$1]}"; }
kbs() { echo "127.0.0.1:${KAFKA_PORT[$1]}"; }

# retry CMD...: runs CMD until it succeeds, for up to 30 s.
retry() {
  for _ in $(seq 1 150); do "$@" && return 0; sleep 0.2; done
  return 1
}
