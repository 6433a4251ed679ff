#!/bin/sh
# bench-vdir.sh: time kith's first run into a vdir target against the same
# run with --dry-run (everything but the writes), in the same run, and print
# the ratio and each run's peak memory.
#
# The cards are the four Febrl data sets in sync/match/testdata/febrl
# (dataset2, 3, 4a, 4b: 20,000 records with their duplicates), one .vcf file
# each in a vdir source. Timed: `kith --once --dry-run` and `kith --once` on
# a fresh state each (matching, merging, the report; the second also writes
# every merged card to the vdir target and saves the state).
#
# Needs: go, python3, GNU time (/usr/bin/time). Usage: scripts/bench-vdir.sh
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM

echo "building kith…" >&2
(cd "$ROOT" && go build -o "$W/kith" .)

echo "writing the Febrl records as vCards…" >&2
mkdir -p "$W/book"
python3 - "$ROOT/sync/match/testdata/febrl" "$W/book" <<'PY'
import csv, os, sys
src, out = sys.argv[1], sys.argv[2]
n = 0
for name in ("dataset2.csv", "dataset3.csv", "dataset4a.csv", "dataset4b.csv"):
    with open(os.path.join(src, name), newline="") as f:
        rows = csv.reader(f, skipinitialspace=True)
        next(rows)
        for r in rows:
            r = [c.strip() for c in r]
            rid, given, family = r[0], r[1].title(), r[2].title()
            lines = ["BEGIN:VCARD", "VERSION:3.0", "UID:" + rid,
                     "FN:" + (given + " " + family).strip(), "N:%s;%s;;;" % (family, given)]
            street = " ".join(x for x in (r[3], r[4]) if x)
            if street or r[6]:
                lines.append("ADR;TYPE=HOME:;%s;%s;%s;%s;%s;AU" % (r[5], street.title(), r[6].title(), r[8].upper(), r[7]))
            if len(r[9]) == 8 and r[9].isdigit():
                lines.append("BDAY:%s-%s-%s" % (r[9][:4], r[9][4:6], r[9][6:]))
            lines.append("END:VCARD")
            with open(os.path.join(out, "%s-%s.vcf" % (name.split(".")[0], rid)), "w") as c:
                c.write("\r\n".join(lines) + "\r\n")
            n += 1
print(n, "cards", file=sys.stderr)
PY

cat > "$W/kith.toml" <<CONF
state_dir = "$W/state"
default_region = "AU"
log_level = "debug"

[[source]]
name = "febrl"
kind = "vdir"
path = "$W/book"

[[target]]
name = "people"
kind = "vdir"
path = "$W/people"

[report]
dir = "$W/report"
CONF

# run NAME ARGS…: one kith run on a fresh state; prints "seconds peak-MB".
run() {
	name=$1; shift
	rm -rf "$W/state" "$W/people" "$W/report"
	/usr/bin/time -f "%e %M" -o "$W/$name.time" "$W/kith" --config "$W/kith.toml" --once "$@" >"$W/$name.log" 2>&1
	grep -o 'msg="sync phases".*' "$W/$name.log" >&2 || true
	awk '{ printf "%.2f %.0f\n", $1, $2 / 1024 }' "$W/$name.time"
}

echo "timing…" >&2
set -- $(run dry --dry-run); dry_s=$1; dry_mb=$2
set -- $(run write); write_s=$1; write_mb=$2
cards=$(ls "$W/people" | wc -l)

printf '\n%-28s %10s %10s\n' "20,000 Febrl records" "seconds" "peak MB"
printf '%-28s %10s %10s\n' "kith --once --dry-run" "$dry_s" "$dry_mb"
printf '%-28s %10s %10s\n' "kith --once ($cards cards)" "$write_s" "$write_mb"
python3 -c "print('first run / dry run: %.2fx' % ($write_s / $dry_s))"
