#!/usr/bin/env bash
# ctest package:deb: the Debian packages of this build (CPack, as
# scripts/package makes them, with this build's prefix), unpacked into a
# scratch root with dpkg -x: the installed actorlog-node answers --version
# and accepts the shipped config, the unit, the user and the data dir are
# there, actorlog-dev holds the headers, the CMake package and the
# pkg-config files, and the node the unit runs (the installed binary, the
# shipped single.ini) serves produce and consume and stops cleanly on SIGTERM.
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$build/deb-test
rm -rf "$work"
mkdir -p "$work"
cd "$work"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

version=$(sed -n 's/^#define ACTORLOG_VERSION "\(.*\)"$/\1/p' "$build/include/actorlog/version.hpp")
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
echo "== cpack -G DEB (actorlog $version, prefix $prefix)"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" >cpack.log 2>&1 || {
  tail -30 cpack.log
  fail "cpack"
}
deb=$work/actorlog_${version}_amd64.deb
dev=$work/actorlog-dev_${version}_amd64.deb
[ -f "$deb" ] && [ -f "$dev" ] || fail "expected $(basename "$deb") and $(basename "$dev"); got: $(ls "$work"/*.deb)"

echo "== dpkg -x into $work/root"
dpkg -x "$deb" root
dpkg -x "$dev" root
root=$work/root

out=$("$root$prefix/bin/actorlog-node" --version)
echo "installed actorlog-node --version: $out"
[ "$out" = "actorlog-node $version" ] || fail "actorlog-node --version said '$out'"
out=$("$root$prefix/bin/actorlog" --version)
[ "$out" = "actorlog $version" ] || fail "actorlog --version said '$out'"

unit=$(find root -name 'actorlog-node@.service')
[ -n "$unit" ] || fail "no actorlog-node@.service in the package"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
echo "unit $unit: ExecStart=$exec_start"
read -r bin _ config_arg <<<"$exec_start"
[ -x "$root$bin" ] || fail "ExecStart names $bin, which the package does not hold"
config=${config_arg//%i/single}
[ -f "$root$config" ] || fail "the unit reads $config_arg; the package has no $config"
grep -q '^User=actorlog$' "$unit" || fail "the unit does not run as the actorlog user"
# systemd's own check of the unit, with ExecStart pointing into the scratch root.
if command -v systemd-analyze >/dev/null; then
  mkdir -p unit-check
  sed "s#^ExecStart=$bin#ExecStart=$root$bin#" "$unit" >"unit-check/actorlog-node@single.service"
  systemd-analyze verify "$work/unit-check/actorlog-node@single.service" >verify.txt 2>&1 ||
    fail "systemd-analyze verify: $(cat verify.txt)"
  if grep -i 'unknown\|invalid\|fail' verify.txt; then fail "systemd-analyze verify complains"; fi
fi
# The shipped config is valid, and its data go where the package keeps data.
"$root$bin" --config "$root$config" --dump-config >single.dump || fail "$config is invalid"
data_dir=$(sed -n 's/^data.dir = //p' single.dump)
state_dir=$(sed -n 's/^WorkingDirectory=//p' "$unit")
[ -d "$root$state_dir" ] || fail "no $state_dir in the package"
case $data_dir in "$state_dir"/*) ;; *) fail "data.dir $data_dir is not under $state_dir" ;; esac

dpkg-deb --info "$deb" >info.txt
grep -q '^ Depends:.*adduser' info.txt || fail "actorlog does not depend on adduser"
grep -q '^ Depends:.*libcaf-core' info.txt || fail "actorlog does not depend on CAF (shlibdeps)"
mkdir -p control
dpkg-deb --control "$deb" control
for script in postinst prerm postrm; do
  sh -n "control/$script" || fail "$script is not valid sh"
done
grep -q 'adduser --system' control/postinst || fail "postinst does not create the actorlog user"
grep -qx "$config" control/conffiles || fail "$config is not a conffile"

for f in include/actorlog/client.hpp include/actorlog/node.hpp include/actorlog/embedded_cluster.hpp \
  include/actorlog/version.hpp include/actorlog/detail/actors/client/producer_client.hpp; do
  [ -f "$root$prefix/$f" ] || fail "actorlog-dev has no $prefix/$f"
done
for f in actorlogConfig.cmake actorlogTargets.cmake actorlogStaticTargets.cmake actorlog.pc \
  libactorlog_client.a libactorlog_node.a libactorlog_client.so libactorlog_node.so; do
  [ -n "$(find "$root$prefix" -name "$f")" ] || fail "no $f in the packages"
done
soname=$(objdump -p "$(find "$root$prefix" -name 'libactorlog_client.so.*.*.*')" | awk '/SONAME/ { print $2 }')
[ "$soname" = "libactorlog_client.so.${version%.*}" ] || fail "libactorlog_client SONAME is '$soname'"
# The node the unit starts: the installed binary with the shipped config
# (only its ports and data dir moved, so tests can run side by side), served
# requests from the installed CLI, stopped with the unit's KillSignal.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
caf_port=$(free_port) peer_port=$(free_port) kafka_port=$(free_port)
"$root$bin" --config "$root$config" --override "data.dir=$work/data" \
  --override "listeners=PLAINTEXT://127.0.0.1:$kafka_port" \
  --override "caf.listener=127.0.0.1:$caf_port" --override "peer.listener=127.0.0.1:$peer_port" \
  --override "controller.quorum.voters=1@127.0.0.1:$peer_port" --override metrics.port=0 \
  >node.log 2>&1 &
node_pid=$!
trap 'kill -9 $node_pid 2>/dev/null || true' EXIT
cli=("$root$prefix/bin/actorlog")
ready=0
for _ in $(seq 1 100); do
  "${cli[@]}" cluster describe --bootstrap "127.0.0.1:$caf_port" >/dev/null 2>&1 && { ready=1; break; }
  sleep 0.2
done
[ "$ready" = 1 ] || { tail -20 node.log; fail "the installed node with $config did not start"; }
seq 1 100 | sed 's/^/order-/' >records.txt
"${cli[@]}" topics create --topic orders --partitions 1 --replication-factor 1 \
  --bootstrap "127.0.0.1:$caf_port" >/dev/null 2>create.err ||
  fail "create a topic on the installed node: $(cat create.err)"
"${cli[@]}" produce --topic orders --acks all --bootstrap "127.0.0.1:$caf_port" <records.txt \
  2>produce.err || fail "produce to the installed node: $(cat produce.err)"
"${cli[@]}" consume --topic orders --from-beginning --max-messages 100 --timeout-ms 10000 \
  --bootstrap "127.0.0.1:$caf_port" >consumed.txt 2>consume.err ||
  fail "consume from the installed node: $(cat consume.err)"
cmp -s records.txt consumed.txt || fail "the installed node gave back $(wc -l <consumed.txt) of 100 records"
kill -TERM "$node_pid"
rc=0
for _ in $(seq 1 100); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
wait "$node_pid" || rc=$?
[ "$rc" = 0 ] || { tail -20 node.log; fail "the installed node exited with $rc after SIGTERM"; }
echo "installed node: started with $config, 100 records produced and consumed, stopped by SIGTERM"
echo "PASS: $(basename "$deb") and $(basename "$dev")"
