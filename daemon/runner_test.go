package daemon

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kith/internal/demo"
	"kith/internal/state"
	ksync "kith/sync"
	"kith/sync/card"
	"kith/sync/report"
)

// demoSetup lays the bundled example data out in a temp folder and returns
// its config.
func demoSetup(t *testing.T) (*Config, string) {
	t.Helper()
	return demoSetupWith(t, "")
}

// demoSetupWith is demoSetup with more configuration after the demo's.
func demoSetupWith(t *testing.T, more string) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	if err := demo.Extract(dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]byte(demo.Config(dir)+more), dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

// demoWithBackup is demoSetup with a second vdir target, "backup", in the
// folder it returns.
func demoWithBackup(t *testing.T) (cfg *Config, dir, backup string) {
	t.Helper()
	cfg, dir = demoSetupWith(t, "\n[[target]]\nname = \"backup\"\nkind = \"vdir\"\npath = \"backup\"\n")
	return cfg, dir, filepath.Join(dir, "backup")
}

func syncOnce(t *testing.T, cfg *Config) *Summary {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sum, err := Once(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("sync: %v (summary: %v)", err, sum)
	}
	return sum
}

func readReport(t *testing.T, cfg *Config) report.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cfg.Report.Dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func membersByName(r report.Report) map[string][]string {
	out := map[string][]string{}
	for _, c := range r.Contacts {
		for _, m := range c.Members {
			out[c.Name] = append(out[c.Name], m.Source+":"+m.ID)
		}
		slices.Sort(out[c.Name])
	}
	return out
}

// vcfFiles returns the text of each .vcf file in dir by name. Only regular
// files are read: a FIFO would hang the test, a link lead out of dir.
func vcfFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".vcf") && e.Type().IsRegular() {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			out[e.Name()] = string(b)
		}
	}
	return out
}

func TestDemoMergesTheRightPeople(t *testing.T) {
	cfg, dir := demoSetup(t)
	sum := syncOnce(t, cfg)
	got := membersByName(readReport(t, cfg))
	want := map[string][]string{
		"Ada Lovelace":      {"addressbook:ada-lovelace.vcf"},
		"Anna Schmidt":      {"addressbook:anna-schmidt.vcf", "scans:2026-11/camcard-export.csv#1"},
		"Bob Miller":        {"addressbook:bob-miller.vcf"},
		"Carol Miller":      {"addressbook:carol-miller.vcf"},
		"Charles Babbage":   {"scans:2026-11/scan-0001.vcf#2"},
		"Grace Hopper":      {"scans:2026-11/camcard-export.csv#2"},
		"Søren Kierkegaard": {"addressbook:soren-kierkegaard.vcf", "scans:2026-11/scan-0001.vcf#1"},
	}
	for name, members := range want {
		if !slices.Equal(got[name], members) {
			t.Errorf("%s: members %q, want %q", name, got[name], members)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d contacts %v, want %d", len(got), got, len(want))
	}
	if sum.Created != len(want) || len(vcfFiles(t, filepath.Join(dir, "merged"))) != len(want) {
		t.Errorf("summary %s; want %d cards written", sum, len(want))
	}
}

func TestSecondRunWritesNothing(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncOnce(t, cfg)
	merged := filepath.Join(dir, "merged")
	before := map[string]time.Time{}
	for name := range vcfFiles(t, merged) {
		fi, _ := os.Stat(filepath.Join(merged, name))
		before[name] = fi.ModTime()
	}
	sum := syncOnce(t, cfg)
	if sum.Created+sum.Updated+sum.Removed != 0 {
		t.Errorf("second run changed cards: %s", sum)
	}
	for name, mt := range before {
		fi, err := os.Stat(filepath.Join(merged, name))
		if err != nil || !fi.ModTime().Equal(mt) {
			t.Errorf("%s touched on a run with no input change", name)
		}
	}
}

func TestUIDsStableAcrossMembershipChanges(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncOnce(t, cfg)
	uidOf := func() map[string]string {
		m := map[string]string{}
		for _, c := range readReport(t, cfg).Contacts {
			m[c.Name] = c.UID
		}
		return m
	}
	first := uidOf()
	// The scan leaves: Anna keeps her UID with one member left.
	if err := os.Remove(filepath.Join(dir, "scans/2026-11/camcard-export.csv")); err != nil {
		t.Fatal(err)
	}
	sum := syncOnce(t, cfg)
	second := uidOf()
	if second["Anna Schmidt"] != first["Anna Schmidt"] {
		t.Errorf("Anna's UID changed from %s to %s when a record left", first["Anna Schmidt"], second["Anna Schmidt"])
	}
	if _, ok := second["Grace Hopper"]; ok || sum.Removed != 1 {
		t.Errorf("Grace (only in the removed scan) still there or not removed: %s", sum)
	}
	if _, err := os.Stat(filepath.Join(dir, "merged", first["Grace Hopper"]+".vcf")); !os.IsNotExist(err) {
		t.Errorf("Grace's card not removed from the target: %v", err)
	}
}

func TestBrokenFileIsSkippedAndItsLastVersionKept(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncOnce(t, cfg)
	before := membersByName(readReport(t, cfg))
	// Bob's file is truncated mid-write; a new broken file appears.
	os.WriteFile(filepath.Join(dir, "addressbook/bob-miller.vcf"), []byte("BEGIN:VCARD\nVERSION:3.0\nFN:Bob Mil"), 0o600)
	os.WriteFile(filepath.Join(dir, "addressbook/junk.vcf"), []byte("\x00\x01 not a card"), 0o600)
	sum := syncOnce(t, cfg)
	if len(sum.Skipped) != 2 {
		t.Fatalf("skipped %q, want bob-miller.vcf and junk.vcf", sum.Skipped)
	}
	for _, s := range sum.Skipped {
		if !strings.Contains(s, "bob-miller.vcf") && !strings.Contains(s, "junk.vcf") {
			t.Errorf("skipped item %q does not name the file", s)
		}
	}
	after := membersByName(readReport(t, cfg))
	if !slices.Equal(after["Bob Miller"], before["Bob Miller"]) {
		t.Errorf("Bob lost while his file was unreadable: %v", after["Bob Miller"])
	}
	if sum.Removed != 0 || sum.Updated != 0 {
		t.Errorf("a broken file changed the target: %s", sum)
	}
}

func TestUserEditOnTargetIsKept(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncOnce(t, cfg)
	var bobFile string
	for name, body := range vcfFiles(t, filepath.Join(dir, "merged")) {
		if strings.Contains(body, "FN:Bob Miller") {
			bobFile = filepath.Join(dir, "merged", name)
		}
	}
	body, _ := os.ReadFile(bobFile)
	// The user adds a note line on the merged card (as khard would: rewrite the file).
	edited := strings.Replace(string(body), "NOTE:2026-06-14 barbecue at his place", `NOTE:2026-06-14 barbecue at his place\n2026-11-20 coffee\, talked about hiring`, 1)
	if edited == string(body) {
		t.Fatalf("test setup: note not found in\n%s", body)
	}
	time.Sleep(10 * time.Millisecond) // a distinct mtime for the ETag
	os.WriteFile(bobFile, []byte(edited), 0o600)
	// Meanwhile the source gains a phone number.
	src := filepath.Join(dir, "addressbook/bob-miller.vcf")
	sb, _ := os.ReadFile(src)
	os.WriteFile(src, []byte(strings.Replace(string(sb), "END:VCARD", "TEL;TYPE=CELL:+1 415 555 0111\nEND:VCARD", 1)), 0o600)

	sum := syncOnce(t, cfg)
	if sum.UserEdits != 1 {
		t.Errorf("summary %s: want 1 user edit noticed", sum)
	}
	got, _ := os.ReadFile(bobFile)
	c, err := card.Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	if note := card.Text(c.Value("NOTE")); !strings.Contains(note, "2026-11-20 coffee, talked about hiring") {
		t.Errorf("the user's note line was lost: %q", note)
	}
	if len(c["TEL"]) != 2 {
		t.Errorf("phones %v: the source's new number must be added", c["TEL"])
	}
	// And the next run leaves it alone.
	if sum := syncOnce(t, cfg); sum.Created+sum.Updated+sum.Removed+sum.UserEdits != 0 {
		t.Errorf("run after merging an edit changed things: %s", sum)
	}
}

func TestUserDeleteStaysDeleted(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncOnce(t, cfg)
	uid := ""
	for _, c := range readReport(t, cfg).Contacts {
		if c.Name == "Carol Miller" {
			uid = c.UID
		}
	}
	if err := os.Remove(filepath.Join(dir, "merged", uid+".vcf")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if sum := syncOnce(t, cfg); sum.Created != 0 {
			t.Fatalf("run %d re-created a card the user deleted: %s", i+1, sum)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "merged", uid+".vcf")); !os.IsNotExist(err) {
		t.Errorf("deleted card is back: %v", err)
	}
}

func TestFailingSourceKeepsItsContacts(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncOnce(t, cfg)
	before := membersByName(readReport(t, cfg))
	if err := os.Rename(filepath.Join(dir, "addressbook"), filepath.Join(dir, "gone")); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sum, err := Once(context.Background(), cfg, log)
	if err == nil || !strings.Contains(err.Error(), `source "addressbook"`) {
		t.Fatalf("error %v, want an incomplete sync naming source \"addressbook\"", err)
	}
	if sum.Removed != 0 {
		t.Errorf("a failing source removed cards: %s", sum)
	}
	if after := membersByName(readReport(t, cfg)); len(after) != len(before) {
		t.Errorf("contacts %d after a source failed, want %d", len(after), len(before))
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	cfg, _ := demoSetup(t)
	syncOnce(t, cfg)
	st, err := state.Open(context.Background(), cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Records) != 9 || len(s.Contacts) != 7 || len(s.Targets["merged"]) != 7 {
		t.Errorf("state holds %d records, %d contacts, %d target entries; want 9, 7, 7", len(s.Records), len(s.Contacts), len(s.Targets["merged"]))
	}
}

// A sync in which nothing changed never loads the whole state (it would
// only compete with the server for the cores); one in which a source
// changed loads it once.
func TestNoChangeSyncNeverLoadsTheState(t *testing.T) {
	cfg, dir := demoSetup(t)
	r, err := NewRunner(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	r.Now = func() time.Time { return now }
	loads := 0
	r.loadState = func(st *state.Store, ctx context.Context) (*ksync.State, error) {
		loads++
		return st.Load(ctx)
	}
	ctx := context.Background()
	st, err := state.Open(ctx, cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, want := range []int{1, 0, 0} {
		loads = 0
		if _, err := r.Sync(ctx, st); err != nil {
			t.Fatal(err)
		}
		if loads != want {
			t.Errorf("sync %d loaded the state %d times, want %d", i+1, loads, want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.vcf"))
	if len(files) == 0 {
		t.Fatal("no source card in the demo")
	}
	os.WriteFile(files[0], []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Neu Person\r\nEMAIL:neu@example.org\r\nEND:VCARD\r\n"), 0o600)
	loads = 0
	sum, err := r.Sync(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if loads != 1 || sum.Created+sum.Updated == 0 {
		t.Errorf("sync after a source change: %d loads (want 1), %s", loads, sum)
	}
}
