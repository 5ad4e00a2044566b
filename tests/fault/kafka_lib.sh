# Kafka-client helpers shared by the tests/fault Kafka tests (single node and
# cluster). Source after lib.sh (uses WORK, AL, fail, retry).

KAFKA_CODECS=(none gzip snappy lz4 zstd)

# lists_brokers BOOTSTRAP I...: kcat -L through BOOTSTRAP lists cluster
# node I at its Kafka listener (kbs I), for every I given (for retry: brokers
# register a moment after wait_ready; kcat's answer is in $WORK/meta.txt).
lists_brokers() {
  local k=$1 j
  shift
  kcat -L -b "$k" -m 10 >"$WORK/meta.txt" 2>&1 || return 1
  for j in "$@"; do grep -Eq "broker $j at $(kbs "$j")( |$)" "$WORK/meta.txt" || return 1; done
}

# stored_codec_records FILE CODEC: prints how many records with a CODEC-*
# payload the segment FILE holds, or nothing when dump-log cannot read all
# of it (missing yet, or a batch being written); the dump is left in
# $WORK/dump.txt.
stored_codec_records() {
  "$AL" dump-log --print-data-log --files "$1" >"$WORK/dump.txt" 2>&1 || return 0
  grep -c "payload: $2-" "$WORK/dump.txt" || true
}

# stored_has FILE CODEC N: FILE holds exactly N records of CODEC (for retry).
stored_has() { [ "$(stored_codec_records "$1" "$2")" = "$3" ]; }

# kcat_codecs BOOTSTRAP DATADIR...: one kcat producer per codec in
# KAFKA_CODECS (idempotent, so acks=all) sends 20 compressible 3 KB records
# to topic codec-CODEC (create it first to choose its replicas, or let the
# broker auto-create it); kcat reads all 20 back from the beginning; then in
# every DATADIR (each node that holds a replica: followers are waited for,
# up to 30 s) the segment codec-CODEC-0/00000000000000000000.log holds those
# 20 records, sound, in batches whose codec bits are CODEC. librdkafka sends
# uncompressed, silently, when the broker does not advertise a feature, and a
# replica that stored recompressed or decompressed batches would show here.
kcat_codecs() {
  local k=$1 codec dir f n got i line
  shift
  line=$(python3 -c "print('x' * 3000)")
  for codec in "${KAFKA_CODECS[@]}"; do
    for i in $(seq 1 20); do echo "$codec-$i-$line"; done |
      kcat -P -b "$k" -t "codec-$codec" -z "$codec" -X enable.idempotence=true -m 20 2>"$WORK/kcat.err" ||
      fail "kcat -P -z $codec: $(cat "$WORK/kcat.err")"
  done
  for codec in "${KAFKA_CODECS[@]}"; do
    n=$(kcat -C -b "$k" -t "codec-$codec" -o beginning -e -q -m 20 -f '%s\n' | grep -c "^$codec-" || true)
    [ "$n" = 20 ] || fail "kcat read $n of 20 records of codec $codec"
    for dir in "$@"; do
      f="$dir/codec-$codec-0/00000000000000000000.log"
      retry stored_has "$f" "$codec" 20 || {
        n=$(stored_codec_records "$f" "$codec")
        fail "$f holds ${n:-no readable} records of kcat's 20 $codec records: $(head -c 2000 "$WORK/dump.txt")"
      }
      got=$(grep -o "compresscodec: [a-z0-9]*" "$WORK/dump.txt" | sort -u | tr '\n' ' ')
      [ "$got" = "compresscodec: $codec " ] || fail "codec-$codec is stored in $f as: $got"
    done
  done
  echo "kcat: 20 records in each of ${KAFKA_CODECS[*]}, read back, stored with that codec in $# replica(s)"
}

# group_offsets_are GROUP TOPIC SUM BOOTSTRAP: `actorlog groups describe`
# through BOOTSTRAP (a CAF client listener) shows GROUP's committed offsets
# on TOPIC summing to SUM (a Kafka client's commits, read by actorlog's CLI).
group_offsets_are() {
  local g=$1 t=$2 want=$3 b=$4 n
  "$AL" groups describe --group "$g" --bootstrap "$b" >"$WORK/$g.txt" 2>&1 ||
    fail "groups describe $g via $b: $(cat "$WORK/$g.txt")"
  n=$(awk -v g="$g" -v t="$t" '$1 == g && $2 == t { s += $4 } END { print s + 0 }' "$WORK/$g.txt")
  [ "$n" = "$want" ] ||
    fail "actorlog groups describe via $b: $g's offsets on $t sum to $n, expected $want: $(cat "$WORK/$g.txt")"
  echo "actorlog groups describe via $b: $g's committed offsets on $t sum to $want"
}
