#!/usr/bin/env bash
# Compare Weft with Lua 5.4, LuaJIT, Python 3 and Go on the scripts in
# benches/scripts/. See benches/README.md.
#
#   benches/compare.sh                 # every benchmark
#   benches/compare.sh fib loop        # only the named ones
#
# Environment:
#   RUNS=3        timed runs per peer (the median is reported)
#   WEFT=...      the weft binary (default target/release/weft, relative to the
#                 repository root)
#   TIMEOUT=600   seconds before a single run is killed (it then shows "-")
#   PEERS="weft lua5.4 luajit python3 go"   which peers to run
#   OUT=/tmp/weft-bench-out                 where each peer's stdout/stderr is kept
#   NO_HYPERFINE=1  time with date +%s%N even when hyperfine is installed
#
# For each benchmark and peer: one checked run (its stdout is compared with
# scripts/NAME.expected, or, for the timing-dependent benchmarks, the "exact:"
# lines of scripts/NAME.expected.txt must appear in it), then RUNS timed runs.
# A peer that is not installed, has no script for the benchmark, fails, or
# times out shows "-"; a time followed by "!" means the output was wrong.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1
scripts="$here/scripts"

RUNS=${RUNS:-3}
WEFT=${WEFT:-target/release/weft}
TIMEOUT=${TIMEOUT:-600}
PEERS=${PEERS:-"weft lua5.4 luajit python3 go"}
OUT=${OUT:-/tmp/weft-bench-out}
GOBIN=/tmp/weft-bench-go

ALL="fib loop binarytrees nbody spectralnorm fannkuch strings_maps richards skynet pingpong sieve parked parallel gcpause"

if [ $# -gt 0 ]; then
	benches="$*"
else
	benches=$ALL
fi
for b in $benches; do
	if ! ls "$scripts/$b".* >/dev/null 2>&1; then
		echo "compare.sh: unknown benchmark '$b' (known: $ALL)" >&2
		exit 2
	fi
done

case $WEFT in /*) ;; */*) WEFT="$root/$WEFT" ;; esac

use_hyperfine=0
if [ -z "${NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null 2>&1; then
	use_hyperfine=1
fi
have_timeout=0
command -v timeout >/dev/null 2>&1 && have_timeout=1

mkdir -p "$OUT" "$GOBIN"
notes=()

# peer_installed PEER
peer_installed() {
	case $1 in
	weft) [ -x "$WEFT" ] ;;
	go) command -v go >/dev/null 2>&1 ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

# script_for BENCH PEER -> path of the source file (empty if none)
script_for() {
	local ext
	case $2 in
	weft) ext=weft ;;
	lua5.4 | luajit) ext=lua ;;
	python3) ext=py ;;
	go) ext=go ;;
	esac
	if [ -f "$scripts/$1.$ext" ]; then echo "$scripts/$1.$ext"; fi
}

# command_for BENCH PEER SRC -> sets the array CMD
command_for() {
	case $2 in
	weft) CMD=("$WEFT" run "$3") ;;
	lua5.4) CMD=(lua5.4 "$3") ;;
	luajit) CMD=(luajit "$3") ;;
	python3) CMD=(python3 "$3") ;;
	go) CMD=("$GOBIN/$1") ;;
	esac
}

# build_go BENCH SRC: build once (again only when the source is newer)
build_go() {
	local bin="$GOBIN/$1"
	if [ ! -x "$bin" ] || [ "$2" -nt "$bin" ]; then
		(cd /tmp && go build -o "$bin" "$2") >"$OUT/$1.go.build" 2>&1 || return 1
	fi
	return 0
}

# check_output BENCH FILE -> 0 when the output is as expected (or nothing to check)
check_output() {
	local exp="$scripts/$1.expected" notes_file="$scripts/$1.expected.txt" line
	if [ -f "$exp" ]; then
		cmp -s "$exp" "$2"
		return
	fi
	if [ -f "$notes_file" ]; then
		while IFS= read -r line; do
			grep -qxF -- "$line" "$2" || return 1
		done < <(sed -n 's/^ *exact: //p' "$notes_file")
	fi
	return 0
}

# median of the numbers on stdin
median() {
	sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]
		else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# time_runs BENCH PEER -> median seconds on stdout, or nothing on failure
time_runs() {
	local json="$OUT/$1.$2.json" i t0 t1
	if [ $use_hyperfine = 1 ]; then
		local quoted="" a
		for a in "${CMD[@]}"; do quoted+="$(printf '%q' "$a") "; done
		hyperfine -N --runs "$RUNS" --output=pipe --style none \
			--export-json "$json" "$quoted" >"$OUT/$1.$2.hyperfine" 2>&1 || return 1
		if command -v jq >/dev/null 2>&1; then
			jq -r '.results[0].median' "$json" | awk '{ printf "%.3f\n", $1 }'
		else
			sed -n 's/.*"median": *\([0-9.eE+-]*\).*/\1/p' "$json" | head -1 | awk '{ printf "%.3f\n", $1 }'
		fi
		return 0
	fi
	local times=""
	for ((i = 0; i < RUNS; i++)); do
		t0=$(date +%s%N)
		run_limited >/dev/null 2>&1 || return 1
		t1=$(date +%s%N)
		times+="$(((t1 - t0) / 1000000))"$'\n'
	done
	printf '%s' "$times" | awk 'NF { printf "%.3f\n", $1 / 1000 }' | median
}

run_limited() {
	if [ $have_timeout = 1 ]; then
		timeout "$TIMEOUT" "${CMD[@]}"
	else
		"${CMD[@]}"
	fi
}

ratio() {
	case "$1$2" in *-* | *n/a* | "") echo "-" ;; *)
		awk -v a="${1%!}" -v b="${2%!}" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "-" }' ;;
	esac
}

declare -A cell
for b in $benches; do
	for p in $PEERS; do
		src=$(script_for "$b" "$p")
		if [ -z "$src" ]; then cell[$b,$p]="n/a"; continue; fi
		if ! peer_installed "$p"; then cell[$b,$p]="-"; continue; fi
		if [ "$p" = go ] && ! build_go "$b" "$src"; then
			cell[$b,$p]="-"
			notes+=("go $b: build failed (see $OUT/$b.go.build)")
			continue
		fi
		command_for "$b" "$p" "$src"
		printf '%-13s %-8s ' "$b" "$p" >&2
		out="$OUT/$b.$p.out"
		run_limited >"$out" 2>"$OUT/$b.$p.err"
		rc=$?
		if [ $rc != 0 ]; then
			cell[$b,$p]="-"
			if [ $rc = 124 ]; then why="timed out after ${TIMEOUT}s"; else why="exit $rc"; fi
			notes+=("$p $b: $why (see $OUT/$b.$p.err)")
			echo "failed ($why)" >&2
			continue
		fi
		mark=""
		if ! check_output "$b" "$out"; then
			mark="!"
			notes+=("$p $b: output differs from the expected (see $out)")
		fi
		t=$(time_runs "$b" "$p")
		if [ -z "$t" ]; then
			cell[$b,$p]="-"
			notes+=("$p $b: a timed run failed")
			echo "timed run failed" >&2
			continue
		fi
		cell[$b,$p]="$t$mark"
		echo "${t}s$mark" >&2
	done
done

echo
echo "median wall time in seconds over $RUNS run(s)$([ $use_hyperfine = 1 ] && echo ' (hyperfine)')"
fmt='%-13s | %9s | %9s | %9s | %9s | %9s | %8s | %8s\n'
printf "$fmt" benchmark weft lua5.4 luajit python3 go weft/lua weft/go
printf "$fmt" ------------- --------- --------- --------- --------- --------- -------- --------
for b in $benches; do
	row=()
	for p in weft lua5.4 luajit python3 go; do
		case " $PEERS " in *" $p "*) row+=("${cell[$b,$p]:--}") ;; *) row+=("-") ;; esac
	done
	printf "$fmt" "$b" "${row[@]}" "$(ratio "${row[0]}" "${row[1]}")" "$(ratio "${row[0]}" "${row[4]}")"
done
echo
echo '"-": not installed, failed or timed out; "n/a": no script for that peer; "!": wrong output.'
echo "Lua timings for skynet, pingpong and sieve are sequential coroutine versions."

# The timing-dependent benchmarks report their own measurements: show them.
for b in $benches; do
	[ -f "$scripts/$b.expected.txt" ] || continue
	for p in $PEERS; do
		f="$OUT/$b.$p.out"
		case ${cell[$b,$p]:--} in -|n/a) continue ;; esac
		echo
		echo "$b ($p):"
		sed 's/^/    /' "$f"
	done
done

if [ ${#notes[@]} -gt 0 ]; then
	echo
	echo "notes:"
	for n in "${notes[@]}"; do echo "  $n"; done
fi
exit 0
