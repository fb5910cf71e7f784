#!/usr/bin/env bash
# Extracts the fenced code blocks of README.md and docs/*.md for the docs
# snippet test (tests/docs/CMakeLists.txt compiles what this writes).
#
# The convention (also in README.md, "Contributing"):
#   ```cpp with `int main(`        a complete program: compiled and linked
#   ```cpp without main            a fragment: compiled as the body of a function
#                                  (its own #include lines go above it), after
#                                  the includes and declarations of
#                                  tests/docs/contexts/<name>.h, where <name> comes
#                                  from a line `<!-- snippet context: <name> -->`
#                                  just before the fence (default: "default")
#   ```cpp whose first line is `// not compiled: <why>`   skipped (and listed)
#   ```sh, ```cmake, ```text, ...  not C++: not compiled here (cmake blocks are
#                                  built against the installed tree by tests/install)
#   ``` with no language           an error: every block says what it is
#
# Usage: extract_snippets.sh SOURCE_DIR OUT_DIR
# Writes OUT_DIR/<doc>_<line>.cc (programs), OUT_DIR/<doc>_<line>.frag.cc
# (fragments), OUT_DIR/<doc>_<line>.cmake (cmake blocks), OUT_DIR/skipped.txt,
# and OUT_DIR/index.txt ("<kind> <file> <source>:<line>" per block). Files are
# rewritten only when their content changes. Exit 1 on an untagged block.
set -euo pipefail
src=$1
out=$2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
docs=("$src/README.md")
for f in "$src"/docs/*.md; do docs+=("$f"); done
: >"$tmp/index.txt"
: >"$tmp/skipped.txt"
for doc in "${docs[@]}"; do
  rel=${doc#"$src"/}
  stem=$(echo "$rel" | sed 's/\.md$//; s/[^A-Za-z0-9]/_/g')
  awk -v rel="$rel" -v stem="$stem" -v dir="$tmp" -v ctxdir="$src/tests/docs/contexts" '
    function flush_block(   file, kind, first) {
      if (lang == "cpp") {
        first = block_first
        if (first ~ /^\/\/ not compiled:/) {
          sub(/^\/\/ not compiled: */, "", first)
          print rel ":" start ": " first >> (dir "/skipped.txt")
          print "skipped - " rel ":" start >> (dir "/index.txt")
          return
        }
        if (body ~ /int main\(/) {
          file = stem "_" start ".cc"
          printf "#line %d \"%s\"\n%s", start + 1, rel, body > (dir "/" file)
          kind = "program"
        } else {
          file = stem "_" start ".frag.cc"
          if (context == "") context = "default"
          # A fragment'"'"'s own #include lines go above the function.
          printf "// context: %s\n#include \"contexts/%s.h\"\n%s\nvoid otelweb_docs_snippet_%s_%d() {\n#line %d \"%s\"\n%s}\n", \
                 context, context, incs, stem, start, start + 1, rel, frag > (dir "/" file)
          kind = "fragment"
        }
        close(dir "/" file)
        print kind " " file " " rel ":" start >> (dir "/index.txt")
      } else if (lang == "cmake") {
        file = stem "_" start ".cmake"
        printf "%s", body > (dir "/" file)
        close(dir "/" file)
        print "cmake " file " " rel ":" start >> (dir "/index.txt")
      }
    }
    BEGIN { in_block = 0; context = ""; prev = "" }
    {
      if (!in_block && $0 ~ /^```/) {
        lang = $0
        sub(/^```/, "", lang)
        sub(/[ \t].*$/, "", lang)
        if (lang == "") {
          print rel ":" NR ": a code block without a language: tag it (```text, ```sh, ```cpp, ...)" > "/dev/stderr"
          bad = 1
        }
        if (prev ~ /^<!-- snippet context: [A-Za-z0-9_-]+ -->$/) {
          context = prev
          sub(/^<!-- snippet context: /, "", context)
          sub(/ -->$/, "", context)
        } else {
          context = ""
        }
        in_block = 1; start = NR; body = ""; frag = ""; incs = ""; block_first = ""; nlines = 0
        next
      }
      if (in_block && $0 ~ /^```[ \t]*$/) {
        flush_block()
        in_block = 0
        prev = $0
        next
      }
      if (in_block) {
        if (nlines == 0) block_first = $0
        nlines++
        body = body $0 "\n"
        if ($0 ~ /^#include/) { incs = incs $0 "\n"; frag = frag "\n" } else { frag = frag $0 "\n" }
        next
      }
      if ($0 !~ /^[ \t]*$/) prev = $0
    }
    END { exit bad ? 1 : 0 }
  ' "$doc" || status=1
done

# Copy what changed (so unchanged snippets are not rebuilt).
for f in "$tmp"/*; do
  b=$(basename "$f")
  cmp -s "$f" "$out/$b" 2>/dev/null || cp "$f" "$out/$b"
done
# Remove snippets that no longer exist.
for f in "$out"/*.cc "$out"/*.cmake; do
  [ -e "$f" ] || continue
  [ -e "$tmp/$(basename "$f")" ] || rm -f "$f"
done
exit $status
