package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kith/internal/davtest"
	"kith/internal/state"
)

// tombstones counts the cards the state takes for deleted by the user on
// target.
func tombstones(t *testing.T, cfg *Config, target string) int {
	t.Helper()
	n := 0
	withStore(t, cfg, func(st *state.Store) {
		s, err := st.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range s.Targets[target] {
			if e.Deleted {
				n++
			}
		}
	})
	return n
}

// cardsWith counts the files of folder whose text holds s.
func cardsWith(t *testing.T, folder, s string) int {
	t.Helper()
	n := 0
	for _, body := range vcfFiles(t, folder) {
		if strings.Contains(body, s) {
			n++
		}
	}
	return n
}

// A vdir target whose folder is gone (unmounted, moved) or shadowed by an
// empty one is not read as the user deleting every card: the target is
// skipped with a message, no tombstone is kept, the contact made only on
// it stays on the other target, the folder is not made again; once the
// folder is back the sync is normal, and with --allow-shrink the deletes go
// through.
func TestLostTargetFolderIsNotTakenForDeletes(t *testing.T) {
	for _, how := range []string{"removed", "replaced by an empty folder"} {
		t.Run(how, func(t *testing.T) {
			cfg, dir, backup := demoWithBackup(t)
			merged := filepath.Join(dir, "merged")
			syncAt(t, cfg, fixedNow)
			// A contact the user made on the phone that syncs merged.
			os.WriteFile(filepath.Join(merged, "zed.vcf"), []byte(davtest.Card("zed-phone", "Zed Onlyhere", "TEL:+49 30 5550111")), 0o600)
			syncAt(t, cfg, fixedNow)
			if n := cardsWith(t, backup, "Zed Onlyhere"); n != 1 {
				t.Fatalf("the card made on merged is on backup %d times, want 1", n)
			}
			want := len(vcfFiles(t, merged))

			away := merged + ".away"
			if err := os.Rename(merged, away); err != nil {
				t.Fatal(err)
			}
			if how != "removed" {
				os.Mkdir(merged, 0o700)
			}
			for range 2 { // the daemon syncs on, each sync the same
				sum := syncAt(t, cfg, fixedNow)
				if sum.Removed != 0 || len(sum.Errors) != 1 {
					t.Fatalf("a lost folder was applied or not reported: %s", sum)
				}
				msg := sum.Errors[0]
				for _, s := range []string{`"merged"`, fmt.Sprintf("0 of the %d cards", want), "--allow-shrink"} {
					if !strings.Contains(msg, s) {
						t.Errorf("the message %q does not say %s", msg, s)
					}
				}
				if how == "removed" && !strings.Contains(msg, "does not exist") {
					t.Errorf("the message %q does not say the folder is missing", msg)
				}
				if n := len(vcfFiles(t, backup)); n != want {
					t.Errorf("backup holds %d cards, want all %d kept", n, want)
				}
				if n := cardsWith(t, backup, "Zed Onlyhere"); n != 1 {
					t.Errorf("the card made on merged left backup (%d)", n)
				}
				if n := tombstones(t, cfg, "merged"); n != 0 {
					t.Errorf("%d cards of merged taken for deleted", n)
				}
				if _, err := os.Stat(merged); how == "removed" && !os.IsNotExist(err) {
					t.Errorf("the lost folder was made again: %v", err)
				}
			}

			os.Remove(merged)
			if err := os.Rename(away, merged); err != nil {
				t.Fatal(err)
			}
			sum := syncAt(t, cfg, fixedNow)
			if len(sum.Errors) != 0 || sum.Created+sum.Updated+sum.Removed != 0 {
				t.Errorf("the sync after the folder came back: %s; want a sync with nothing to do", sum)
			}
			if n := len(vcfFiles(t, merged)); n != want {
				t.Errorf("merged holds %d cards, want %d", n, want)
			}

			// The user really emptied it, and says so.
			for name := range vcfFiles(t, merged) {
				os.Remove(filepath.Join(merged, name))
			}
			if sum := syncAt(t, cfg, fixedNow); len(sum.Errors) != 1 || sum.Removed != 0 {
				t.Errorf("an emptied folder was applied or not reported: %s", sum)
			}
			sum = syncWith(t, cfg, func(r *Runner, _ *state.Store) { r.AllowShrink = true })
			if len(sum.Errors) != 0 || sum.Removed != 1 {
				t.Errorf("with --allow-shrink: %s; want the card made on merged removed from backup", sum)
			}
			if n := tombstones(t, cfg, "merged"); n != want-1 {
				t.Errorf("with --allow-shrink %d tombstones, want %d", n, want-1)
			}
		})
	}
}

// A CardDAV target book whose cards are all deleted behind kith's back (a
// server restored from an empty backup, a migration) is skipped the same
// way; once the cards are back the sync is normal.
func TestEmptiedCardDAVTargetIsNotTakenForDeletes(t *testing.T) {
	srv := davtest.StartRadicale(t)
	srcBook := srv.MakeBook(t, "phone", "Phone")
	dstBook := srv.MakeBook(t, "people", "People")
	proxy := davtest.NewProxy(t, srv.URL)
	dir := t.TempDir()
	cfg := davConfig(t, srv, proxy, srcBook, dstBook, dir)
	backup := filepath.Join(dir, "backup")
	cfg.Targets = append(cfg.Targets, TargetConfig{Name: "backup", Kind: "vdir", Path: backup})
	for i := range 12 {
		srv.PutCard(t, fmt.Sprintf("%sc%d.vcf", srcBook, i), davtest.Card(fmt.Sprintf("c%d", i), fmt.Sprintf("Person Number%d", i), fmt.Sprintf("EMAIL:p%d@example.org", i)))
	}
	syncAt(t, cfg, fixedNow)
	srv.PutCard(t, dstBook+"zed.vcf", davtest.Card("zed-phone", "Zed Onlyhere", "TEL:+49 30 5550111"))
	syncAt(t, cfg, fixedNow)
	if n := cardsWith(t, backup, "Zed Onlyhere"); n != 1 {
		t.Fatalf("the card made on people is on backup %d times, want 1", n)
	}
	kept := map[string]string{}
	for href := range radicaleCards(srv, dstBook) {
		code, _, body := srv.Do(t, "GET", dstBook+href, nil, "")
		if code != 200 {
			t.Fatalf("GET %s: %d", href, code)
		}
		kept[href] = body
		srv.DeleteCard(t, dstBook+href)
	}
	if len(kept) != 13 {
		t.Fatalf("people held %d cards, want 13", len(kept))
	}
	sum := syncAt(t, cfg, fixedNow)
	if sum.Removed != 0 || len(sum.Errors) != 1 || !strings.Contains(sum.Errors[0], `"people"`) ||
		!strings.Contains(sum.Errors[0], "0 of the 13 cards") || !strings.Contains(sum.Errors[0], "--allow-shrink") {
		t.Fatalf("an emptied book was applied or not reported: %s", sum)
	}
	if n := len(vcfFiles(t, backup)); n != 13 {
		t.Errorf("backup holds %d cards, want all 13 kept", n)
	}
	if n := tombstones(t, cfg, "people"); n != 0 {
		t.Errorf("%d cards of people taken for deleted", n)
	}
	if n := len(radicaleCards(srv, dstBook)); n != 0 {
		t.Errorf("kith wrote %d cards into the emptied book", n)
	}

	// Some cards come back (the rest stays lost: over max_shrink).
	i := 0
	for href, body := range kept {
		if i < 3 {
			srv.PutCard(t, dstBook+href, body)
		}
		i++
	}
	if sum := syncAt(t, cfg, fixedNow); sum.Removed != 0 || len(sum.Errors) != 1 || !strings.Contains(sum.Errors[0], "3 of the 13 cards") {
		t.Fatalf("a book that lost 10 of 13 cards was applied or not reported: %s", sum)
	}
	// All back: a normal sync.
	for href, body := range kept {
		srv.PutCard(t, dstBook+href, body)
	}
	sum = syncAt(t, cfg, fixedNow)
	if len(sum.Errors) != 0 || sum.Removed != 0 || sum.Created != 0 {
		t.Errorf("the sync after the cards came back: %s", sum)
	}
	if n := tombstones(t, cfg, "people"); n != 0 {
		t.Errorf("%d cards of people taken for deleted", n)
	}
	if n := len(radicaleCards(srv, dstBook)); n != 13 {
		t.Errorf("people holds %d cards, want 13", n)
	}
}
