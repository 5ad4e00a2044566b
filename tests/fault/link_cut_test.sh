#!/usr/bin/env bash
# Process-level test of a network partition (`actorlog cluster cut`, the
# loopback-only fault-injection command): the leader of orders-0 is cut
# off from both other nodes (both directions). The majority side fences
# it and elects a new leader from the ISR; acks=all writes through the
# majority go on; after healing, the old leader truncates to the new
# leader's log and rejoins the ISR; every acknowledged record is read back
# exactly once.
BIN_DIR=$1
SRC_DIR=$2
source "$SRC_DIR/tests/fault/lib.sh"

for i in 1 2 3; do start_cluster_node "$i" "${FAST[@]}"; done
for i in 1 2 3; do wait_ready "${PORT[$i]}"; done
retry "$AL" topics create --topic orders --partitions 1 --replication-factor 3 --bootstrap "$(bs 1)" \
  >/dev/null 2>&1 || fail "create topic"
describe_field() { # NODE FIELD
  "$AL" topics describe --topic orders --bootstrap "$(bs "$1")" 2>/dev/null |
    awk -v f="$2:" '/Partition: 0\t/ { for (i = 1; i <= NF; i++) if ($i == f) print $(i + 1) }'
}
full_isr() { [ "$(describe_field "$1" Isr | tr ',' '\n' | grep -c .)" = 3 ]; }
retry full_isr 1 || fail "ISR never filled"

seq 1 1000 | awk '{print "k" $1 % 31 ":a-" $1}' >"$WORK/a.txt"
"$AL" produce --topic orders --key-separator : --acks all --bootstrap "$(bs 1)" <"$WORK/a.txt" \
  || fail "produce before the cut"

L=$(describe_field 1 Leader)
A=$(( L % 3 + 1 )); B=$(( A % 3 + 1 ))
for o in $A $B; do
  "$AL" cluster cut --bootstrap "$(bs "$L")" --peer "$o" >/dev/null || fail "cut $L-$o"
  "$AL" cluster cut --bootstrap "$(bs "$o")" --peer "$L" >/dev/null || fail "cut $o-$L"
done
echo "node $L (leader of orders-0) cut off from nodes $A and $B"
new_leader() { local l; l=$(describe_field "$A" Leader); [ -n "$l" ] && [ "$l" != none ] && [ "$l" != "$L" ]; }
retry new_leader || fail "the majority did not elect a new leader"
echo "majority side elected node $(describe_field "$A" Leader)"

seq 1001 2000 | awk '{print "k" $1 % 31 ":b-" $1}' >"$WORK/b.txt"
retry "$AL" produce --topic orders --key-separator : --acks all --bootstrap "$(bs "$A")" \
  <"$WORK/b.txt" || fail "produce through the majority during the cut"

for o in $A $B; do
  "$AL" cluster cut --bootstrap "$(bs "$L")" --peer "$o" --heal >/dev/null || fail "heal $L-$o"
  "$AL" cluster cut --bootstrap "$(bs "$o")" --peer "$L" --heal >/dev/null || fail "heal $o-$L"
done
retry full_isr "$A" || { "$AL" topics describe --topic orders --bootstrap "$(bs "$A")"; fail "node $L did not rejoin the ISR after healing"; }
echo "healed: node $L rejoined the ISR"

check_all() {
  "$AL" consume --topic orders --from-beginning --max-messages 2000 --timeout-ms 10000 \
    --bootstrap "$(bs "$1")" >"$WORK/out.txt" 2>/dev/null || return 1
  [ "$(wc -l <"$WORK/out.txt")" = 2000 ] && [ "$(sort -u "$WORK/out.txt" | wc -l)" = 2000 ]
}
retry check_all "$L" || fail "records lost or duplicated ($(wc -l <"$WORK/out.txt") read)"
echo "PASS link cut: leader isolated, majority elected a new leader, 2000/2000 records once"
