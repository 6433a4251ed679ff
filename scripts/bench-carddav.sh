#!/bin/sh
# bench-carddav.sh: time kith's CardDAV source against vdirsyncer on the same
# Radicale, in the same run, and print the ratios.
#
# One Radicale on 127.0.0.1 with two address books of $CARDS generated cards
# each, and a scan folder (the demo's scans). Timed: kith's first
# `kith --once` (discovery, fetching every card, reading the scans, merging,
# writing every merged card to a vdir target, the report) and its no-change
# `kith --once`; vdirsyncer's first sync of the same books into a local vdir
# (its fetch alone) and its no-change sync. Then the same with a CardDAV
# target on the same Radicale: kith's first run (uploading every merged
# card) beside vdirsyncer uploading the same cards, and kith's no-change run
# beside the floor, the server's own time for one getctag per collection
# (benchgen floor), measured just before each kith run, so that both see
# the same load. No-change figures are medians of $RUNS runs (default 7)
# with their spread; vdirsyncer's of $VDS_RUNS (default 3). Also shown:
# kith's process start alone (`kith --version`) and the no-change sync in
# a running daemon (syncs asked by SIGHUP, timed by its "sync phases" log
# line: no process start, no config or state to open).
# internal/benchgen makes the cards.
#
# With RT=1 (as root) every timed no-change run (kith's, vdirsyncer's, the
# floor's, the daemon's syncs) and Radicale while they run get real-time
# priority (chrt), so that other jobs on a shared machine do not stretch
# them; each such run takes a fraction of a second, first runs and uploads
# keep their priority.
#
# Needs: go, radicale, vdirsyncer, curl (Debian packages radicale,
# vdirsyncer, curl). Usage: [RUNS=7] [RT=1] scripts/bench-carddav.sh [cards-per-book]
set -eu

CARDS=${1:-2000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
export BENCH_PW="bench-pw"
RAD_PID=

KITH_PID=

cleanup() {
	[ -n "$KITH_PID" ] && kill "$KITH_PID" 2>/dev/null && wait "$KITH_PID" 2>/dev/null
	[ -n "$RAD_PID" ] && kill "$RAD_PID" 2>/dev/null && wait "$RAD_PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

# date, not python: a python start would add ~25 ms to every figure.
now() { date +%s.%N; }
elapsed() { python3 -c "print('%.3f' % ($2 - $1))"; }
ratio() { python3 -c "print('%.1f' % ($1 / $2) if $2 > 0 else 'inf')"; }
RUNS=${RUNS:-7}
VDS_RUNS=${VDS_RUNS:-3}
# median FILE: the median of the numbers in FILE, one a line.
median() { python3 -c "import statistics,sys; print('%.3f' % statistics.median(float(l) for l in open(sys.argv[1])))" "$1"; }
# spread FILE: the smallest and the largest number in FILE.
spread() { python3 -c "import sys; v=[float(l) for l in open(sys.argv[1])]; print('%.3f-%.3f' % (min(v), max(v)))" "$1"; }
# phase_seconds [PHASE]: for each "sync phases" log line on stdin, the
# seconds of PHASE, or of all its phases when none is named (Go durations:
# 1m2.5s, 350ms, 80µs).
phase_seconds() {
	python3 -c '
import re, sys
unit = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}
want = sys.argv[1]
for line in sys.stdin:
    total = 0.0
    for name, d in re.findall(r"\b([a-z_]+)=([0-9][0-9.hmsµun]*)", line):
        if not want or name == want:
            total += sum(float(v) * unit[u] for v, u in re.findall(r"([0-9.]+)(ms|µs|us|ns|h|m|s)", d))
    print("%.3f" % total)
' "${1:-}"
}
# rt_on, rt_off: with RT set, Radicale and this shell (so every command it
# starts, the clock's `date` too) get real-time priority, and back.
rt_on() { [ -z "${RT:-}" ] || { chrt -a -f -p 50 "$RAD_PID" && chrt -f -p 50 $$; }; }
rt_off() { [ -z "${RT:-}" ] || { chrt -a -o -p 0 "$RAD_PID" && chrt -o -p 0 $$; }; }
# timed FILE CMD...: runs CMD and appends its wall time (s) to FILE.
timed() {
	f=$1; shift
	a=$(now)
	"$@"
	b=$(now)
	elapsed "$a" "$b" >> "$f"
}

echo "building benchgen and kith…" >&2
(cd "$ROOT" && go build -o "$W/benchgen" ./internal/benchgen && go build -o "$W/kith" .)

printf 'kith:%s\n' "$BENCH_PW" > "$W/htpasswd"
: > "$W/radicale.conf"
radicale --config "$W/radicale.conf" --storage-filesystem-folder "$W/storage" \
	--server-hosts "127.0.0.1:$PORT" --auth-type htpasswd \
	--auth-htpasswd-filename "$W/htpasswd" --auth-htpasswd-encryption plain \
	--auth-delay 0 --logging-level warning >"$W/radicale.log" 2>&1 &
RAD_PID=$!
i=0
until curl -s -o /dev/null "$URL/"; do
	i=$((i + 1)); [ $i -gt 200 ] && { cat "$W/radicale.log"; exit 1; }
	sleep 0.1
done

echo "generating 2 books of $CARDS cards…" >&2
curl -s -o /dev/null -u "kith:$BENCH_PW" -X PROPFIND -H 'Depth: 0' "$URL/kith/"
for book in friends work; do
	curl -sf -o /dev/null -u "kith:$BENCH_PW" -X MKCOL -H 'Content-Type: application/xml' "$URL/kith/$book/" --data \
		"<?xml version=\"1.0\"?><D:mkcol xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:carddav\"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>$book</D:displayname></D:prop></D:set></D:mkcol>"
	"$W/benchgen" gen -dir "$W/storage/collection-root/kith/$book" -n "$CARDS" -prefix "$book"
done
# Let Radicale see the files once (its item cache), so neither tool pays for it.
curl -s -o /dev/null -u "kith:$BENCH_PW" -X PROPFIND -H 'Depth: 1' "$URL/kith/friends/"
curl -s -o /dev/null -u "kith:$BENCH_PW" -X PROPFIND -H 'Depth: 1' "$URL/kith/work/"

echo "timing kith…" >&2
mkdir -p "$W/scans" "$W/merged"
cp -r "$ROOT/internal/demo/data/scans/." "$W/scans/"
cat > "$W/kith.toml" <<CONF
state_dir = "$W/kith-state"
default_region = "DE"
log_level = "debug"

[[source]]
name = "radicale"
kind = "carddav"
url = "$URL/"
username = "kith"
password_env = "BENCH_PW"

[[source]]
name = "scans"
kind = "scans"
path = "$W/scans"

[[target]]
name = "merged"
kind = "vdir"
path = "$W/merged"
CONF
kith_once() { # config output-prefix
	"$W/kith" --config "$1" --once >"$W/$2.out" 2>"$W/$2.log" || { cat "$W/$2.log"; exit 1; }
}
# no_change PREFIX: fails unless that run wrote nothing and took the
# no-change path (its "sync phases" line has no load phase).
no_change() {
	grep -q " 0 cards written" "$W/$1.out" && ! grep 'msg="sync phases"' "$W/$1.log" | grep -q ' load=' ||
		{ echo "kith's no-change run $1 did not take the no-change path: $(cat "$W/$1.out")" >&2; grep 'sync phases' "$W/$1.log" >&2; exit 1; }
}
t0=$(now)
kith_once "$W/kith.toml" kith1
t1=$(now)
kith_first=$(elapsed "$t0" "$t1")
echo "kith first:     $(cat "$W/kith1.out")" >&2
rt_on
for i in $(seq "$RUNS"); do
	timed "$W/kith-same.t" kith_once "$W/kith.toml" kith2
	no_change kith2
done
rt_off
kith_same=$(median "$W/kith-same.t")
echo "kith no-change: $(cat "$W/kith2.out")" >&2
grep -h "sync phases" "$W/kith1.log" "$W/kith2.log" >&2 || true

echo "timing vdirsyncer…" >&2
mkdir -p "$W/vdir"
cat > "$W/vdirsyncer.conf" <<CONF
[general]
status_path = "$W/vdirsyncer-status/"

[pair books]
a = "books_remote"
b = "books_local"
collections = ["from a"]
conflict_resolution = "a wins"

[storage books_remote]
type = "carddav"
url = "$URL/"
username = "kith"
password = "$BENCH_PW"
read_only = true

[storage books_local]
type = "filesystem"
path = "$W/vdir/"
fileext = ".vcf"
CONF
yes | vdirsyncer -c "$W/vdirsyncer.conf" discover books >/dev/null 2>&1
t0=$(now)
vdirsyncer -c "$W/vdirsyncer.conf" sync books >/dev/null 2>&1
t1=$(now)
vds_first=$(elapsed "$t0" "$t1")
rt_on
for i in $(seq "$VDS_RUNS"); do
	timed "$W/vds-same.t" vdirsyncer -c "$W/vdirsyncer.conf" sync books >/dev/null 2>&1
done
rt_off
vds_same=$(median "$W/vds-same.t")
got=$(find "$W/vdir" -name '*.vcf' | wc -l)
[ "$got" -eq $((2 * CARDS)) ] || echo "warning: vdirsyncer wrote $got cards, want $((2 * CARDS))" >&2

echo "timing kith with a CardDAV target…" >&2
# The same sources, the merged set written to a CardDAV collection on the
# same account (the source reads only its two books).
sed -e "s|$W/kith-state|$W/kith-dav-state|" -e '/^\[\[target\]\]/,$d' "$W/kith.toml" > "$W/kith-dav.toml"
sed -i 's|^url = "'"$URL"'/"$|&\naddressbooks = ["friends", "work"]|' "$W/kith-dav.toml"
cat >> "$W/kith-dav.toml" <<CONF
[[target]]
name = "merged"
kind = "carddav"
url = "$URL/kith/merged/"
username = "kith"
password_env = "BENCH_PW"
CONF
t0=$(now)
kith_once "$W/kith-dav.toml" kithdav1
t1=$(now)
kithdav_first=$(elapsed "$t0" "$t1")
# The second run lists the target's changes (kith's own writes) once; from
# the third on a run in which nothing changed asks each collection its ctag.
kith_once "$W/kith-dav.toml" kithdav2
merged=$(grep -o '[0-9]* cards written' "$W/kithdav1.out" | awk '{print $1}')
# The first run's merge_write phase: merging and uploading every card.
kithdav_upload=$(grep 'msg="sync phases"' "$W/kithdav1.log" | head -n 1 | phase_seconds merge_write)
kithdav_upload=${kithdav_upload:-0}
MAXPAR=4
echo "kith dav first:     $(cat "$W/kithdav1.out")" >&2
# Each no-change run beside the floor measured just before it (the median of
# three rounds of one getctag per collection, one after another), and the
# same getctags asked at once (as kith asked them before its probes to one
# server went one after another).
colls="$URL/kith/friends/ $URL/kith/work/ $URL/kith/merged/"
rt_on
for i in $(seq "$RUNS"); do
	# shellcheck disable=SC2086
	"$W/benchgen" floor -rounds 3 -user kith -password-env BENCH_PW $colls >> "$W/floor.t"
	# shellcheck disable=SC2086
	"$W/benchgen" floor -rounds 3 -parallel -user kith -password-env BENCH_PW $colls >> "$W/floor-par.t"
	timed "$W/kithdav-same.t" kith_once "$W/kith-dav.toml" kithdav3
	no_change kithdav3
	timed "$W/start.t" "$W/kith" --version >/dev/null
done
rt_off
echo "kith dav no-change: $(cat "$W/kithdav3.out")" >&2
kithdav_same=$(median "$W/kithdav-same.t")
floor=$(median "$W/floor.t")
floor_par=$(median "$W/floor-par.t")
start=$(median "$W/start.t")
pair_ratios=$(paste "$W/floor.t" "$W/kithdav-same.t" | python3 -c "import sys,statistics as s; r=[float(b)/float(a) for a,b in (l.split() for l in sys.stdin)]; print('%.1f, %.1f-%.1f' % (s.median(r), min(r), max(r)))")

echo "timing kith's daemon…" >&2
# The same config as a daemon: its first sync, then $RUNS syncs asked by
# SIGHUP (a reload of the unchanged config), each timed by its "sync
# phases" line.
"$W/kith" --config "$W/kith-dav.toml" 2>"$W/daemon.log" &
KITH_PID=$!
wait_syncs() { # count
	i=0
	until [ "$(grep -c 'msg="sync done"' "$W/daemon.log")" -ge "$1" ]; do
		i=$((i + 1)); [ $i -gt 600 ] && { cat "$W/daemon.log" >&2; exit 1; }
		sleep 0.1
	done
}
wait_syncs 1
rt_on
[ -z "${RT:-}" ] || chrt -a -f -p 50 "$KITH_PID"
for i in $(seq "$RUNS"); do
	kill -HUP "$KITH_PID"
	wait_syncs $((i + 1))
done
rt_off
kill "$KITH_PID"; wait "$KITH_PID" || true
KITH_PID=
grep 'msg="sync phases"' "$W/daemon.log" | tail -n "$RUNS" | phase_seconds > "$W/daemon.t"
[ "$(wc -l < "$W/daemon.t")" -eq "$RUNS" ] || { echo "daemon: $(wc -l < "$W/daemon.t") timed syncs, want $RUNS" >&2; cat "$W/daemon.log" >&2; exit 1; }
if grep 'msg="sync done"' "$W/daemon.log" | tail -n "$RUNS" | grep -v ' 0 cards written' >&2 ||
	grep 'msg="sync phases"' "$W/daemon.log" | tail -n "$RUNS" | grep ' load=' >&2; then
	echo "the daemon's syncs did not all take the no-change path" >&2; exit 1
fi
daemon_same=$(median "$W/daemon.t")

echo "timing vdirsyncer uploading the same cards…" >&2
mkdir -p "$W/upload/merged"
cp "$W/merged/"*.vcf "$W/upload/merged/"
curl -sf -o /dev/null -u "kith:$BENCH_PW" -X MKCOL -H 'Content-Type: application/xml' "$URL/kith/vds-upload/" --data \
	'<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>'
cat > "$W/vdirsyncer-up.conf" <<CONF
[general]
status_path = "$W/vdirsyncer-up-status/"

[pair up]
a = "up_local"
b = "up_remote"
collections = null
conflict_resolution = "a wins"

[storage up_local]
type = "filesystem"
path = "$W/upload/merged/"
fileext = ".vcf"

[storage up_remote]
type = "carddav"
url = "$URL/kith/vds-upload/"
username = "kith"
password = "$BENCH_PW"
CONF
yes | vdirsyncer -c "$W/vdirsyncer-up.conf" discover up >/dev/null 2>&1
t0=$(now)
vdirsyncer -c "$W/vdirsyncer-up.conf" sync up >"$W/vds-up.log" 2>&1 || { cat "$W/vds-up.log"; exit 1; }
t1=$(now)
vds_up=$(elapsed "$t0" "$t1")

echo "cards: 2 books x $CARDS on Radicale $(radicale --version), vdirsyncer $(vdirsyncer --version 2>/dev/null | awk '{print $NF}'); load average $(cut -d' ' -f1-3 /proc/loadavg)${RT:+; timed no-change runs at real-time priority}"
echo "no-change figures: median of $RUNS runs (vdirsyncer: $VDS_RUNS), smallest-largest in brackets"
printf '%-24s %22s %22s %8s\n' "" "kith --once (s)" "vdirsyncer (s)" "ratio"
printf '%-24s %22s %22s %8sx\n' "first run (fetch all)" "$kith_first" "$vds_first" "$(ratio "$vds_first" "$kith_first")"
printf '%-24s %22s %22s %8sx\n' "no-change run" "$kith_same ($(spread "$W/kith-same.t"))" "$vds_same ($(spread "$W/vds-same.t"))" "$(ratio "$vds_same" "$kith_same")"
printf '%-24s %22s %22s %8sx\n' "upload to CardDAV" "$kithdav_first" "$vds_up" "$(ratio "$vds_up" "$kithdav_first")"
printf '%-24s %22s %22s %8sx\n' "  the upload alone" "$kithdav_upload" "$vds_up" "$(ratio "$vds_up" "$kithdav_upload")"
echo "  (kith's whole first run also fetches both books and saves its state; the upload alone is its"
echo "   merge_write phase: merging, then every card PUT with If-None-Match, $MAXPAR at once)"
echo "CardDAV target ($merged merged cards), no-change, 2 books + the target:"
printf '  %-52s %8s s (%s)\n' "kith --once" "$kithdav_same" "$(spread "$W/kithdav-same.t")"
printf '  %-52s %8s s (%s)\n' "  of which process start (kith --version)" "$start" "$(spread "$W/start.t")"
printf '  %-52s %8s s (%s)\n' "kith daemon, a no-change sync (SIGHUP)" "$daemon_same" "$(spread "$W/daemon.t")"
printf '  %-52s %8s s (%s)\n' "floor: the 3 getctags one after another" "$floor" "$(spread "$W/floor.t")"
printf '  %-52s %8s s (%s)\n' "the 3 getctags asked at once" "$floor_par" "$(spread "$W/floor-par.t")"
printf '  %-52s %8s s (%s)\n' "vdirsyncer no-change, the sources alone" "$vds_same" "$(spread "$W/vds-same.t")"
printf '  kith --once / floor: %sx (per run: median %s)\n' "$(ratio "$kithdav_same" "$floor")" "$pair_ratios"
printf '  daemon sync / floor: %sx\n' "$(ratio "$daemon_same" "$floor")"
printf '  vdirsyncer / kith --once: %sx\n' "$(ratio "$vds_same" "$kithdav_same")"
