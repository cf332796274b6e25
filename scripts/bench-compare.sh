#!/usr/bin/env bash
# bench-compare.sh REV [COUNT]: the hot-path benchmarks (ring, kernel event
# decode, pipeline emit, relay merge) at REV and at the work tree, run in
# turns (REV, tree, REV, …) so that a drifting machine weighs on both
# alike, then compared with benchstat. Run as root (the decode benchmark
# loads no program, but the bpf test binary's setup may).
set -euo pipefail
rev=${1:?usage: bench-compare.sh REV [COUNT]}
count=${2:-6}
top=$(git rev-parse --show-toplevel)
out=${BENCH_OUT:-$(mktemp -d)}
# package|benchmark regexp|extra flags
benches=(
	"./ringbuffer/|.|-test.benchmem"
	"./bpf/|Decode|-test.benchmem"
	"./agent/|PipelineEmit|-test.benchmem"
	"./relay/|RelayMerge|-test.benchtime=2s"
)
base="$out/base"
rm -rf "$base" && git -C "$top" worktree add -q --detach "$base" "$rev"
trap 'git -C "$top" worktree remove --force "$base"' EXIT
for side in base new; do
	dir=$top; [ "$side" = base ] && dir=$base
	for b in "${benches[@]}"; do
		pkg=${b%%|*}
		(cd "$dir" && go test -c -o "$out/$side-$(basename "$pkg").test" "$pkg")
	done
done
for ((i = 0; i < count; i++)); do
	for side in base new; do
		for b in "${benches[@]}"; do
			IFS='|' read -r pkg re flags <<<"$b"
			name=$(basename "$pkg")
			dir=$top; [ "$side" = base ] && dir=$base
			# Test binaries run in their package's directory, as go test runs them.
			(cd "$dir/$pkg" && "$out/$side-$name.test" -test.run '^$' -test.bench "$re" $flags -test.count 1) >>"$out/$side.txt"
		done
	done
done
(cd "$top/tools" && go run golang.org/x/perf/cmd/benchstat -ignore pkg "$out/base.txt" "$out/new.txt") | tee "$out/benchstat.txt"
echo "results in $out" >&2
