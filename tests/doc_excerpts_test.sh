#!/usr/bin/env bash
# Checks that every code block of a doc marked as an excerpt is a verbatim copy
# of the file it names, so that code quoted in the docs is code the build
# compiles and the tests run. The marker is the line right above the fence:
#   <!-- excerpt: <path from the source root> -->
# A first line "// not compiled: ..." in the block (the docs snippet test's
# marker for blocks it does not compile on their own) is not part of the copy.
# Usage: doc_excerpts_test.sh SOURCE_DIR DOC.md...
set -u
src=$1
shift
status=0
for doc in "$@"; do
  tmp=$(mktemp -d)
  # Writes each excerpt to $tmp/<n> and its path to $tmp/<n>.path.
  awk -v dir="$tmp" '
    /^<!-- excerpt: .* -->$/ { path = $0; sub(/^<!-- excerpt: /, "", path); sub(/ -->$/, "", path); next_is = 1; next }
    next_is && /^```/ { n++; file = dir "/" n; printf "%s", path > (file ".path"); close(file ".path");
                        printf "" > file; inb = 1; first = 1; next_is = 0; next }
    inb && /^```$/ { inb = 0; close(file); next }
    inb { if (first && $0 ~ /^\/\/ not compiled:/) { first = 0; next } first = 0; print >> file; next }
    { next_is = 0 }
  ' "$doc"
  count=0
  for f in "$tmp"/*.path; do
    [ -e "$f" ] || continue
    count=$((count + 1))
    block=${f%.path}
    target=$src/$(cat "$f")
    if [ ! -f "$target" ]; then
      echo "FAIL: $doc: excerpt $(basename "$block") names $(cat "$f"), which does not exist"
      status=1
      continue
    fi
    # Verbatim: the block's lines appear, consecutively, in the file.
    if ! awk 'NR == FNR { b[++nb] = $0; next } { f[++nf] = $0 }
              END {
                for (i = 1; i + nb - 1 <= nf; i++) {
                  for (j = 1; j <= nb && f[i + j - 1] == b[j]; j++) {}
                  if (j > nb && nb > 0) exit 0
                }
                exit 1
              }' "$block" "$target"
    then
      echo "FAIL: $doc: excerpt $(basename "$block") is not a verbatim part of $(cat "$f");" \
           "copy the current code into the doc"
      status=1
    fi
  done
  rm -rf "$tmp"
  if [ "$count" = 0 ]; then
    echo "FAIL: $doc: no excerpt markers found"
    status=1
  else
    echo "$doc: $count excerpts checked"
  fi
done
[ "$status" = 0 ] && echo PASS
exit "$status"
