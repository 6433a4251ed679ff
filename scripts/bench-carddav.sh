#!/bin/sh
# bench-carddav.sh: time kith's CardDAV source against vdirsyncer on the same
# Radicale, in the same run, and print the ratios.
#
# One Radicale on 127.0.0.1 with two address books of $CARDS generated cards
# each, and a scan folder (the demo's scans). Timed: kith's first
# `kith --once` (discovery, fetching every card, reading the scans, merging,
# writing every merged card to a vdir target, the report) and a no-change
# `kith --once`; vdirsyncer's first sync of the same books into a local vdir
# (its fetch alone) and a no-change sync. Then the same with a CardDAV
# target on the same Radicale: kith's first run (uploading every merged
# card) beside vdirsyncer uploading the same cards, and kith's no-change run
# beside the floor, the server's own time for one getctag per collection
# (benchgen floor). internal/benchgen makes the cards.
#
# Needs: go, radicale, vdirsyncer, curl (Debian packages radicale,
# vdirsyncer, curl). Usage: scripts/bench-carddav.sh [cards-per-book]
set -eu

CARDS=${1:-2000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
export BENCH_PW="bench-pw"
RAD_PID=

cleanup() {
	[ -n "$RAD_PID" ] && kill "$RAD_PID" 2>/dev/null && wait "$RAD_PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

# date, not python: a python start would add ~25 ms to every figure.
now() { date +%s.%N; }
elapsed() { python3 -c "print('%.3f' % ($2 - $1))"; }
ratio() { python3 -c "print('%.1f' % ($1 / $2) if $2 > 0 else 'inf')"; }

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
t0=$(now)
"$W/kith" --config "$W/kith.toml" --once >"$W/kith1.out" 2>"$W/kith1.log" || { cat "$W/kith1.log"; exit 1; }
t1=$(now)
"$W/kith" --config "$W/kith.toml" --once >"$W/kith2.out" 2>"$W/kith2.log" || { cat "$W/kith2.log"; exit 1; }
t2=$(now)
kith_first=$(elapsed "$t0" "$t1")
kith_same=$(elapsed "$t1" "$t2")
echo "kith first:     $(cat "$W/kith1.out")" >&2
echo "kith no-change: $(cat "$W/kith2.out")" >&2
grep -h "sync phases" "$W/kith1.log" "$W/kith2.log" >&2 || true
grep -q "0 cards written" "$W/kith2.out" || { echo "kith's no-change run wrote cards" >&2; exit 1; }

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
vdirsyncer -c "$W/vdirsyncer.conf" sync books >/dev/null 2>&1
t2=$(now)
vds_first=$(elapsed "$t0" "$t1")
vds_same=$(elapsed "$t1" "$t2")
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
"$W/kith" --config "$W/kith-dav.toml" --once >"$W/kithdav1.out" 2>"$W/kithdav1.log" || { cat "$W/kithdav1.log"; exit 1; }
t1=$(now)
"$W/kith" --config "$W/kith-dav.toml" --once >"$W/kithdav2.out" 2>"$W/kithdav2.log" || { cat "$W/kithdav2.log"; exit 1; }
t2=$(now)
"$W/kith" --config "$W/kith-dav.toml" --once >"$W/kithdav3.out" 2>"$W/kithdav3.log" || { cat "$W/kithdav3.log"; exit 1; }
t3=$(now)
kithdav_first=$(elapsed "$t0" "$t1")
# The second run lists the target's changes (kith's own writes) once; from
# the third on a run in which nothing changed asks each collection its ctag.
kithdav_same=$(elapsed "$t2" "$t3")
echo "kith dav first:     $(cat "$W/kithdav1.out")" >&2
echo "kith dav no-change: $(cat "$W/kithdav3.out")" >&2
grep -q "0 cards written" "$W/kithdav3.out" || { echo "kith's no-change run to the CardDAV target wrote cards" >&2; exit 1; }
merged=$(grep -o '[0-9]* cards written' "$W/kithdav1.out" | awk '{print $1}')
# The floor: the server's own time for one getctag per collection.
floor=$("$W/benchgen" floor -user kith -password-env BENCH_PW "$URL/kith/friends/" "$URL/kith/work/" "$URL/kith/merged/")

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

echo "cards: 2 books x $CARDS on Radicale $(radicale --version), vdirsyncer $(vdirsyncer --version 2>/dev/null | awk '{print $NF}')"
printf '%-22s %10s %12s %8s\n' "" "kith --once (s)" "vdirsyncer (s)" "ratio"
printf '%-22s %10s %12s %8sx\n' "first run (fetch all)" "$kith_first" "$vds_first" "$(ratio "$vds_first" "$kith_first")"
printf '%-22s %10s %12s %8sx\n' "no-change run" "$kith_same" "$vds_same" "$(ratio "$vds_same" "$kith_same")"
printf '%-22s %10s %12s %8sx\n' "upload to CardDAV" "$kithdav_first" "$vds_up" "$(ratio "$vds_up" "$kithdav_first")"
echo "CardDAV target ($merged merged cards):"
printf '%-22s %10s %12s %8s\n' "" "kith --once (s)" "floor (s)" "ratio"
printf '%-22s %10s %12s %8sx\n' "no-change, 2 books + target" "$kithdav_same" "$floor" "$(ratio "$kithdav_same" "$floor")"
printf '%-22s %10s %12s %8sx\n' "  vs vdirsyncer no-change (sources alone)" "$kithdav_same" "$vds_same" "$(ratio "$vds_same" "$kithdav_same")"
