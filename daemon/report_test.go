package daemon

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kith/internal/state"
	"kith/sync/card"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// syncAt runs one sync of cfg with the clock fixed at now.
func syncAt(t *testing.T, cfg *Config, now time.Time) *Summary {
	t.Helper()
	return syncWith(t, cfg, func(r *Runner, _ *state.Store) { r.Now = func() time.Time { return now } })
}

// syncWith runs one sync at fixedNow after tweak set the runner up (its
// targets, its clock) with the state store it will use.
func syncWith(t *testing.T, cfg *Config, tweak func(*Runner, *state.Store)) *Summary {
	t.Helper()
	r, st := testRunner(t, cfg)
	defer st.Close()
	tweak(r, st)
	sum, err := r.Sync(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// testRunner returns a runner of cfg at fixedNow, logging nowhere, and the
// state store it syncs with, for the caller to close.
func testRunner(t *testing.T, cfg *Config) (*Runner, *state.Store) {
	t.Helper()
	r, err := NewRunner(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.Now = func() time.Time { return fixedNow }
	st, err := state.Open(context.Background(), cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	return r, st
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, got)
	}
}

var fixedNow = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func TestDemoReportGolden(t *testing.T) {
	cfg, _ := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	for _, name := range []string{"report.json", "report.md"} {
		got, err := os.ReadFile(filepath.Join(cfg.Report.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "demo-"+name, got)
	}
	html, err := os.ReadFile(filepath.Join(cfg.Report.Dir, "report.html"))
	if err != nil || !bytes.Contains(html, []byte("<svg")) {
		t.Errorf("report.html missing or without charts: %v", err)
	}
}

func TestCardsCarryLastInteractionAndState(t *testing.T) {
	cfg, dir := demoSetup(t)
	cfg.Report.StateCategories = true
	syncAt(t, cfg, fixedNow)
	cards := map[string]string{}
	for _, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
		c, err := card.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		cards[card.Text(c.Value("FN"))] = c.Value("X-KITH-LAST-INTERACTION") + " " + c.Value("X-KITH-LAST-INTERACTION-KIND") +
			" " + c.Value("X-KITH-STATE") + " " + c.Value("CATEGORIES")
	}
	want := map[string]string{
		// The dated note line of 20 Nov is the latest.
		"Anna Schmidt": "2026-11-20 meeting healthy friends,kith-close,kith-healthy",
		// Scanned at a conference a week ago, nothing since.
		"Charles Babbage": "2026-11-18 card follow-up kith-follow-up",
		// No interaction known at all.
		"Carol Miller": "  none ",
	}
	for name, w := range want {
		if cards[name] != w {
			t.Errorf("%s: %q, want %q", name, cards[name], w)
		}
	}
}

// A note line the user adds on the merged card is an interaction; the card
// is rewritten once with the new date and then left alone.
func TestUserNoteLineIsAnInteraction(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	path := addToMerged(t, dir, "Carol Miller", "NOTE:24.11.2026 called about the school fair")
	sum := syncAt(t, cfg, fixedNow)
	if sum.UserEdits != 1 || sum.Updated != 1 {
		t.Errorf("summary %s: want the edit noticed and the card rewritten once", sum)
	}
	c, _ := card.Decode(must(os.ReadFile(path)))
	if got := c.Value("X-KITH-LAST-INTERACTION") + " " + c.Value("X-KITH-LAST-INTERACTION-KIND"); got != "2026-11-24 call" {
		t.Errorf("last interaction %q, want 2026-11-24 call", got)
	}
	if !strings.Contains(card.Text(c.Value("NOTE")), "24.11.2026 called about the school fair") {
		t.Errorf("the user's line is gone: %q", c.Value("NOTE"))
	}
	if sum := syncAt(t, cfg, fixedNow); sum.Updated+sum.Created+sum.UserEdits != 0 {
		t.Errorf("churn: the next run changed things: %s", sum)
	}
}

// addToMerged adds a content line to the merged card of the person named fn
// in the demo's vdir target, as a user editing it would, and returns the
// card's path.
func addToMerged(t *testing.T, dir, fn, line string) string {
	t.Helper()
	for name, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
		if !strings.Contains(body, "FN:"+fn+"\r\n") {
			continue
		}
		path := filepath.Join(dir, "merged", name)
		time.Sleep(10 * time.Millisecond) // a distinct mtime for the ETag
		if err := os.WriteFile(path, []byte(strings.Replace(body, "END:VCARD", line+"\r\nEND:VCARD", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Fatalf("no merged card for %s", fn)
	return ""
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// When only time moves a contact's state, the card is rewritten with the new
// state and every edit the user made on it stays.
func TestStateChangeKeepsUserEdits(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	path := addToMerged(t, dir, "Charles Babbage", "TEL;TYPE=HOME:+44 20 7946 0999")
	if sum := syncAt(t, cfg, fixedNow); sum.UserEdits != 1 {
		t.Fatalf("edit not noticed: %s", sum)
	}
	later := fixedNow.AddDate(0, 3, 0)
	if sum := syncAt(t, cfg, later); sum.Updated == 0 {
		t.Fatalf("three months later: %s; want Charles's card rewritten with his new state", sum)
	}
	c, err := card.Decode(must(os.ReadFile(path)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Value("X-KITH-STATE") == "follow-up" {
		t.Errorf("state still follow-up three months on")
	}
	if !strings.Contains(string(card.EncodeBytes(c)), "+44 20 7946 0999") {
		t.Errorf("the user's phone number is gone after the state change:\n%s", card.EncodeBytes(c))
	}
}

// A sync in which nothing changed reads the state only lightly, reports the
// right counts, and the next change after it is still taken in.
func TestNothingChangedThenAChange(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	for i := 0; i < 2; i++ {
		sum := syncAt(t, cfg, fixedNow)
		if sum.Records != 9 || sum.Contacts != 7 || sum.Created+sum.Updated+sum.Removed != 0 || len(sum.Errors) != 0 {
			t.Fatalf("no-change sync %d: %s", i+1, sum)
		}
	}
	// A new day: states are judged again (Charles's follow-up ages).
	if sum := syncAt(t, cfg, fixedNow.AddDate(0, 0, 40)); sum.Updated == 0 {
		t.Errorf("40 days later nothing was rewritten: %s", sum)
	}
	// A changed decay parameter is a change too.
	cfg.Decay.Close.Days = 3
	if sum := syncAt(t, cfg, fixedNow.AddDate(0, 0, 40)); sum.Updated == 0 {
		t.Errorf("close circle of 3 days changed no card: %s", sum)
	}
	os.WriteFile(filepath.Join(dir, "addressbook", "hedy.vcf"), []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Hedy Lamarr\r\nEMAIL:hedy@example.org\r\nEND:VCARD\r\n"), 0o600)
	if sum := syncAt(t, cfg, fixedNow.AddDate(0, 0, 40)); sum.Created != 1 || sum.Contacts != 8 {
		t.Errorf("a new card after no-change syncs: %s", sum)
	}
}
