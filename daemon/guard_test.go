package daemon

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kith/internal/state"
)

func TestEmptiedSourceIsHeldBack(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	book := filepath.Join(dir, "addressbook")
	ents, _ := os.ReadDir(book)
	for _, e := range ents {
		os.Remove(filepath.Join(book, e.Name()))
	}
	sum := syncAt(t, cfg, fixedNow)
	if sum.Removed != 0 || len(sum.Errors) != 1 || !strings.Contains(sum.Errors[0], "--allow-shrink") {
		t.Fatalf("an emptied book was applied or not explained: %s", sum)
	}
	if n := len(vcfFiles(t, filepath.Join(dir, "merged"))); n != 7 {
		t.Errorf("target holds %d cards, want all 7 kept", n)
	}
	// Confirmed: the people only in that book go.
	r, _ := NewRunner(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Now = func() time.Time { return fixedNow }
	r.AllowShrink = true
	withStore(t, cfg, func(st *state.Store) {
		sum, err := r.Sync(context.Background(), st)
		if err != nil || sum.Removed != 3 { // Ada, Bob, Carol; Anna and Søren live on in the scans
			t.Errorf("with --allow-shrink: %v, %s; want 3 removed", err, sum)
		}
	})
}

func TestDryRunWritesNothing(t *testing.T) {
	cfg, dir := demoSetup(t)
	r, _ := NewRunner(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var out bytes.Buffer
	r.SetDryRun(&out)
	withStore(t, cfg, func(st *state.Store) {
		if _, err := r.Sync(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	})
	if n := strings.Count(out.String(), "would create merged/"); n != 7 {
		t.Errorf("dry run printed %d creates, want 7:\n%s", n, out.String())
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "merged")); len(ents) != 0 {
		t.Errorf("dry run wrote %d files", len(ents))
	}
	if _, err := os.Stat(filepath.Join(cfg.Report.Dir, "report.json")); !os.IsNotExist(err) {
		t.Errorf("dry run wrote the report")
	}
	// The real run after it starts from nothing: all 7 created.
	if sum := syncAt(t, cfg, fixedNow); sum.Created != 7 {
		t.Errorf("real run after a dry run: %s", sum)
	}
}

// A user corrects the matching from a phone: kith-split on a merged card,
// kith-same on two cards.
func TestCategoryCommandsFromACardDAVApp(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	edit := func(fn, category string) {
		t.Helper()
		for name, body := range vcfFiles(t, merged) {
			if !strings.Contains(body, "FN:"+fn+"\r\n") {
				continue
			}
			if strings.Contains(body, "CATEGORIES:") {
				body = strings.Replace(body, "CATEGORIES:", "CATEGORIES:"+category+",", 1)
			} else {
				body = strings.Replace(body, "END:VCARD", "CATEGORIES:"+category+"\r\nEND:VCARD", 1)
			}
			os.WriteFile(filepath.Join(merged, name), []byte(body), 0o600)
			return
		}
		t.Fatalf("no card for %s", fn)
	}
	time.Sleep(10 * time.Millisecond)
	edit("Anna Schmidt", CategorySplit)
	edit("Bob Miller", CategorySame)
	edit("Carol Miller", CategorySame)
	syncAt(t, cfg, fixedNow)

	rep := readReport(t, cfg)
	annas, millers := 0, 0
	for _, c := range rep.Contacts {
		if c.Name == "Anna Schmidt" {
			annas++
		}
		if strings.HasSuffix(c.Name, "Miller") {
			millers++
			if len(c.Members) != 2 {
				t.Errorf("%s has %d members, want Bob and Carol joined", c.Name, len(c.Members))
			}
		}
	}
	if annas != 2 || millers != 1 {
		t.Errorf("%d Annas and %d Millers, want 2 and 1", annas, millers)
	}
	for name, body := range vcfFiles(t, merged) {
		if strings.Contains(body, "kith-split") || strings.Contains(body, "kith-same") {
			t.Errorf("%s still carries a command category", name)
		}
	}
	if sum := syncAt(t, cfg, fixedNow); sum.Created+sum.Updated+sum.Removed != 0 {
		t.Errorf("the run after the commands changed things: %s", sum)
	}
}

func TestRestoreBringsBackADeletedCard(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	uid := readReportUID(t, cfg, "Carol Miller")
	os.Remove(filepath.Join(dir, "merged", uid+".vcf"))
	syncAt(t, cfg, fixedNow)
	withStore(t, cfg, func(st *state.Store) {
		if err := Restore(context.Background(), st, "carol", io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := Restore(context.Background(), st, "carol", io.Discard); err == nil {
			t.Error("restoring twice succeeded")
		}
	})
	if sum := syncAt(t, cfg, fixedNow); sum.Created != 1 {
		t.Errorf("after restore: %s; want Carol's card written again", sum)
	}
	if _, err := os.Stat(filepath.Join(dir, "merged", uid+".vcf")); err != nil {
		t.Error(err)
	}
}
