#!/usr/bin/env bash
# ctest package:deb: the Debian packages of this build (CPack, as
# scripts/package makes them, with this build's prefix), unpacked into a
# scratch root with dpkg -x: the installed actorlog-node answers --version
# and accepts the shipped config, the unit, the user and the data dir are
# there, and actorlog-dev holds the headers, the CMake package and the
# pkg-config files.
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
echo "PASS: $(basename "$deb") and $(basename "$dev")"
