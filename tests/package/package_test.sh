#!/usr/bin/env bash
# ctest package:install: actorlog used the way a user uses it.
#  1. `cmake --install` this build into a prefix under the build dir;
#  2. take the README's embedding example out of README.md as it is;
#  3. configure tests/package (a project of its own: find_package(actorlog))
#     against that prefix, build the example (shared and static) and cluster_test;
#  4. build the example once more with pkg-config alone;
#  5. run cluster_test: al::embedded_cluster (3 nodes of the installed
#     actorlog-node), produce, consume in a group, commit, kill and restart
#     a node, and the README example against that cluster.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$build/package-test
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

step() { echo "== $*"; }

step "cmake --install $build --prefix $prefix (runtime, development, static)"
for component in runtime development static; do
  cmake --install "$build" --prefix "$prefix" --component "$component" >"$work/install-$component.log"
done

step "README.md's example -> $work/readme_example.cpp"
awk '/tests\/package\/package_test.sh compiles the next block/ { want = 1; next }
     want && /^```cpp$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$src/README.md" >"$work/readme_example.cpp"
if [ ! -s "$work/readme_example.cpp" ]; then
  echo "no marked cpp block in README.md" >&2
  exit 1
fi

step "configure and build tests/package against $prefix (find_package(actorlog))"
cmake -S "$src/tests/package" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DREADME_EXAMPLE="$work/readme_example.cpp" >"$work/configure.log" || {
  cat "$work/configure.log"
  exit 1
}
cmake --build "$work/build" -j2
[ -x "$work/build/readme_example_static" ] || { echo "actorlog::client_static missing" >&2; exit 1; }

step "the README example with pkg-config alone"
pc_dir=$(dirname "$(find "$prefix" -name actorlog.pc | head -1)")
# shellcheck disable=SC2046
PKG_CONFIG_PATH=$pc_dir c++ -o "$work/readme_example_pkgconfig" "$work/readme_example.cpp" \
  $(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags --libs actorlog-node)

step "cluster_test (al::embedded_cluster finds the installed actorlog-node)"
# Neither $ACTORLOG_NODE nor $PATH may lead it to another actorlog-node.
cd "$work"
env -u ACTORLOG_NODE PATH=/usr/bin:/bin "$work/build/cluster_test"
