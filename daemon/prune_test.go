package daemon

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"kith/internal/state"
	ksync "kith/sync"
)

// A phone log removed from the config leaves nothing in the state: its
// export files' boxes and entries go at the next sync; the sources still
// configured keep theirs, and so do the contacts that left their sources.
func TestRemovedInteractionSourceLeavesNoItems(t *testing.T) {
	cfg, dir := demoSetup(t)
	ms := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).UnixMilli()
	for _, name := range []string{"phone", "tablet"} {
		folder := filepath.Join(dir, name)
		os.MkdirAll(folder, 0o700)
		os.WriteFile(filepath.Join(folder, "calls-20261124.xml"), fmt.Appendf(nil, `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<calls count="1">
  <call number="0171 2345678" duration="95" date="%d" type="2" contact_name="Anna" />
</calls>
`, ms), 0o600)
		cfg.PhoneLogs = append(cfg.PhoneLogs, PhoneLogConfig{Name: name, Path: folder})
	}
	syncAt(t, cfg, fixedNow)
	before := itemCounts(t, cfg)
	if before["phone"] == 0 || before["tablet"] == 0 {
		t.Fatalf("items by source after the first sync: %v, want both phone logs'", before)
	}
	// A contact that left its sources, kept for kith restore.
	st, err := state.Open(context.Background(), cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`INSERT INTO left_contacts(uid, name, hash, card, left, edited) VALUES ('kith-left', 'Left', 'h', ?, 1, 1)`,
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Left\r\nEND:VCARD\r\n"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	cfg.PhoneLogs = cfg.PhoneLogs[1:]
	syncAt(t, cfg, fixedNow)
	after := itemCounts(t, cfg)
	if after["phone"] != 0 || after["~boxes phone"] != 0 {
		t.Errorf("items of the removed phone log: %d items, %d boxes, want none", after["phone"], after["~boxes phone"])
	}
	for src, n := range before {
		if src != "phone" && src != "~boxes phone" && after[src] != n {
			t.Errorf("source %q: %d rows after the other was removed, want %d as before", src, after[src], n)
		}
	}
	st, err = state.Open(context.Background(), cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var left int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM left_contacts WHERE uid = 'kith-left'").Scan(&left); err != nil || left != 1 {
		t.Errorf("contacts that left their sources: %d (%v), want the one kept", left, err)
	}
}

// itemCounts returns the number of items by source, and of boxes under
// "~boxes SOURCE".
func itemCounts(t *testing.T, cfg *Config) map[string]int {
	t.Helper()
	st, err := state.Open(context.Background(), cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]int{}
	for _, q := range []string{"SELECT source, COUNT(*) FROM items GROUP BY source", "SELECT '~boxes ' || source, COUNT(*) FROM item_boxes GROUP BY source"} {
		rows, err := st.DB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var src string
			var n int
			if err := rows.Scan(&src, &n); err != nil {
				t.Fatal(err)
			}
			out[src] = n
		}
		rows.Close()
	}
	return out
}

// A source or target removed from the config leaves no cursor behind, so
// a source added back later under its name is read whole: its contacts
// come back (from a stale cursor it would give only what changed since,
// and its records are gone).
func TestRemovedSourceLeavesNoCursor(t *testing.T) {
	cfg, _, _ := demoWithBackup(t)
	syncAt(t, cfg, fixedNow)
	first := recordCounts(t, cfg)
	if first["scans"] == 0 {
		t.Fatalf("records by source after the first sync: %v", first)
	}
	if c := cursorKeys(t, cfg); !slices.Contains(c, "scans") || !slices.Contains(c, "backup") {
		t.Fatalf("cursors after the first sync: %q, want the scans' and the backup target's", c)
	}

	scans, backup := cfg.Sources[1], cfg.Targets[1]
	cfg.Sources, cfg.Targets = cfg.Sources[:1], cfg.Targets[:1]
	syncAt(t, cfg, fixedNow)
	if got := recordCounts(t, cfg); got["scans"] != 0 {
		t.Fatalf("records of the removed source: %d", got["scans"])
	}
	if n := queryRows(t, cfg, "SELECT COUNT(*) FROM target_entries WHERE target = 'backup'")[0][0]; n != "0" {
		t.Errorf("%s entries of the removed target left", n)
	}
	for _, k := range cursorKeys(t, cfg) {
		if k != "addressbook" && k != "merged" && k != ksync.RestoredSource {
			t.Errorf("cursor %q left after its source or target was removed", k)
		}
	}

	cfg.Sources, cfg.Targets = append(cfg.Sources, scans), append(cfg.Targets, backup)
	syncAt(t, cfg, fixedNow)
	if got := recordCounts(t, cfg); !maps.Equal(got, first) {
		t.Errorf("records by source once the source is back: %v, want %v as at first", got, first)
	}
}

// recordCounts returns the number of records in the state by source.
func recordCounts(t *testing.T, cfg *Config) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range queryRows(t, cfg, "SELECT source, COUNT(*) FROM records GROUP BY source") {
		n, _ := strconv.Atoi(r[1])
		out[r[0]] = n
	}
	return out
}

// cursorKeys returns the keys of the state's cursors, sorted.
func cursorKeys(t *testing.T, cfg *Config) []string {
	t.Helper()
	var out []string
	for _, r := range queryRows(t, cfg, "SELECT source FROM cursors ORDER BY source") {
		out = append(out, r[0])
	}
	return out
}

// queryRows runs q on the state and returns its rows as strings.
func queryRows(t *testing.T, cfg *Config, q string) [][]string {
	t.Helper()
	st, err := state.Open(context.Background(), cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		row := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
