#!/usr/bin/env bash
# The OTEL_* audit (issue 11): docs/configuration.md lists exactly what the
# code reads. Fails when
#   - a variable name written in the sources (src/, include/; tests excluded)
#     is not documented (literally, or by a documented pattern such as
#     `OTEL_EXPORTER_OTLP_TRACES_*` or `OTEL_CPP_<FRAMEWORK>_EXCLUDED_URLS`);
#   - a documented variable has no row in tests/otel_env_effects.txt naming a
#     test that sets it and shows it taking effect (see below);
#   - a variable documented by name is not read: neither written in the
#     sources, nor composed by them from a prefix literal ("OTEL_BLRP_",
#     "OTEL_EXPORTER_OTLP_", "OTEL_CPP_") and literals for the rest (a
#     framework or signal name, and a suffix such as "_EXCLUDED_URLS").
# Usage: otel_env_audit.sh <source root>
set -u
root=${1:-.}
cd "$root" || exit 2
doc=docs/configuration.md
sources=$(find src include -name '*.cc' -o -name '*.h' | grep -v '_test\.cc$' | grep -v '/testing/')
literals=$(grep -ohE '"[A-Z0-9_]+"' $sources | tr -d '"' | sort -u)
code=$(printf '%s\n' "$literals" | grep -E '^OTEL_' | grep -v '_$' | sort -u)
prefixes=$(printf '%s\n' "$literals" | grep -E '^OTEL_.*_$' | sort -u)
documented=$(grep -oE '`OTEL_[A-Z0-9_<>*]+`' "$doc" | tr -d '`' | sort -u)
fail=0

# Documented patterns as regexes.
patterns=$(printf '%s\n' "$documented" | grep -E '[*<]' | sed -e 's/\*/[A-Z0-9_]+/g' -e 's/<[A-Z]*>/[A-Z0-9]+/g')
is_documented() {
  printf '%s\n' "$documented" | grep -qxF "$1" && return 0
  local p
  for p in $patterns; do
    [[ $1 =~ ^${p}$ ]] && return 0
  done
  # A prefix of documented names (e.g. "OTEL_BSP" in a message).
  printf '%s\n' "$documented" | grep -q "^$1_" && return 0
  return 1
}
for v in $code; do
  if ! is_documented "$v"; then
    echo "FAIL: $v is read by the code but not documented in $doc"
    fail=1
  fi
done

is_literal() { printf '%s\n' "$literals" | grep -qxF "$1"; }
is_read() {
  is_literal "$1" && return 0
  local p rest i head tail
  for p in $prefixes; do
    [[ $1 == "$p"* ]] || continue
    rest=${1#"$p"}
    is_literal "$rest" && return 0
    # rest = NAME_SUFFIX with both parts literal ("CURL" + "_EXCLUDED_URLS",
    # "TRACES" + "ENDPOINT").
    for ((i = 1; i < ${#rest}; i++)); do
      head=${rest:0:i}
      tail=${rest:i}
      if is_literal "$head" && { is_literal "$tail" || { [[ $tail == _* ]] && is_literal "${tail#_}"; }; }; then
        return 0
      fi
    done
  done
  return 1
}
for v in $(printf '%s\n' "$documented" | grep -vE '[*<]'); do
  if ! is_read "$v"; then
    echo "FAIL: $v is documented in $doc but the code does not read it"
    fail=1
  fi
done
# Effects: tests/otel_env_effects.txt names, for every documented name, a test
# that sets it and shows it taking effect. Each row's file must exist, define
# the test (TEST/TEST_F/TEST_P(Suite, Name)) and name the variable (a family
# such as OTEL_BSP_*: one of its members); a row for an undocumented name is
# stale.
effects=tests/otel_env_effects.txt
declare -A is_doc=() has_row=() text=()
for v in $documented; do is_doc[$v]=1; done
while read -r var file test; do
  [[ -z $var || $var == \#* ]] && continue
  has_row[$var]=1
  if [[ -z ${is_doc[$var]:-} ]]; then
    echo "FAIL: $effects names $var, which $doc does not document (stale row)"
    fail=1
    continue
  fi
  if [[ ! -f $file ]]; then
    echo "FAIL: $effects: $var -> $file does not exist"
    fail=1
    continue
  fi
  [[ -n ${text[$file]:-} ]] || text[$file]=$(<"$file")
  suite=${test%%.*}
  name=${test#*.}
  test_re="TEST(_F|_P)?\\($suite, *$name\\)"
  if ! [[ ${text[$file]} =~ $test_re ]]; then
    echo "FAIL: $effects: $var -> $file has no test $test"
    fail=1
  fi
  var_re=${var//\*/[A-Z0-9_]+}
  var_re=${var_re//<FRAMEWORK>/[A-Z0-9_]+}
  if ! [[ ${text[$file]} =~ $var_re ]]; then
    echo "FAIL: $effects: $var -> $file never names the variable"
    fail=1
  fi
done < "$effects"
for v in $documented; do
  if [[ -z ${has_row[$v]:-} ]]; then
    echo "FAIL: $v is documented in $doc but $effects names no test showing it take effect"
    fail=1
  fi
done

[ "$fail" = 0 ] && echo "PASS: $(printf '%s\n' "$code" | wc -l) names in the code, $(printf '%s\n' "$documented" | wc -l) in $doc, each with an effect test"
exit "$fail"
