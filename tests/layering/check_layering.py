#!/usr/bin/env python3
"""Checks the include layering the architecture promises (docs/ARCHITECTURE.md):

  * storage/ includes nothing from actors/, kafka/ or runtime/;
  * no file compiled into al_machines (the CMake target's sources, passed in
    by ctest) and no header named *_machine.hpp reaches a CAF header, directly
    or through the project headers it includes.

Project includes are written from the repository root ("actors/x/y.hpp");
system includes (<...>) are not followed, except that <caf/...> is the thing
looked for. Prints every violation with the include chain and exits 1.

Usage: check_layering.py <source-dir> [al_machines sources...]
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def includes(root, path, cache):
    if path not in cache:
        try:
            with open(os.path.join(root, path), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            text = ""
        cache[path] = [(kind == "<", name) for kind, name in INCLUDE.findall(text)]
    return cache[path]


def find_caf(root, start, cache):
    """The include chain from `start` to the first CAF header, or None."""
    seen = {start}
    stack = [(start, [start])]
    while stack:
        path, chain = stack.pop()
        for system, name in includes(root, path, cache):
            if system:
                if name.startswith("caf/"):
                    return chain + ["<" + name + ">"]
                continue
            if name not in seen and os.path.exists(os.path.join(root, name)):
                seen.add(name)
                stack.append((name, chain + [name]))
    return None


def main(argv):
    root = os.path.abspath(argv[1])
    cache = {}
    problems = []
    for dirpath, _, files in os.walk(os.path.join(root, "storage")):
        for f in sorted(files):
            if not f.endswith((".cpp", ".hpp")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            for system, name in includes(root, rel, cache):
                if not system and name.split("/")[0] in ("actors", "kafka", "runtime"):
                    problems.append(f"{rel} includes {name}: storage must not depend on it")
    machines = [os.path.relpath(os.path.abspath(p), root) for p in argv[2:]]
    for dirpath, _, files in os.walk(os.path.join(root, "actors")):
        for f in files:
            if f.endswith("_machine.hpp"):
                machines.append(os.path.relpath(os.path.join(dirpath, f), root))
    if len(argv) > 2 and not any(m.endswith("_machine.cpp") for m in machines):
        problems.append("no *_machine.cpp among the al_machines sources given: wrong arguments?")
    for m in sorted(set(machines)):
        chain = find_caf(root, m, cache)
        if chain:
            problems.append(f"{m} reaches CAF: " + " -> ".join(chain))
    for p in problems:
        print("layering:", p)
    print(f"layering: {len(set(machines))} machine files and storage/ checked, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
