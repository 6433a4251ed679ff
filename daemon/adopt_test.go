package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kith/internal/davserver"
	"kith/internal/state"
)

// A contact created in the merged book (on a phone, in khard) becomes a
// kith contact: it joins dedup, its card is replaced by the merged one,
// and it stays through later syncs.
func TestContactMadeOnTargetJoinsDedup(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	// A brand-new person, and a second card for Grace (same email) with her birthday.
	os.WriteFile(filepath.Join(merged, "new-on-phone.vcf"), []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:phone-1\r\nFN:Hedy Lamarr\r\nN:Lamarr;Hedy;;;\r\nTEL;TYPE=CELL:+1 310 555 0199\r\nNOTE:2026-11-22 met at the film society\r\nEND:VCARD\r\n"), 0o600)
	os.WriteFile(filepath.Join(merged, "grace-again.vcf"), []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:phone-2\r\nFN:Grace Hopper\r\nEMAIL:grace@navy.example\r\nBDAY:19061209\r\nEND:VCARD\r\n"), 0o600)

	sum := syncAt(t, cfg, fixedNow)
	rep := readReport(t, cfg)
	if len(rep.Contacts) != 8 {
		t.Fatalf("%d contacts, want 8 (Hedy new, Grace's second card merged): %s", len(rep.Contacts), sum)
	}
	files := vcfFiles(t, merged)
	if _, ok := files["new-on-phone.vcf"]; ok {
		t.Error("the phone's card is still there beside the merged one")
	}
	if _, ok := files["grace-again.vcf"]; ok {
		t.Error("Grace's second card is still there beside the merged one")
	}
	graces, hedys := 0, 0
	for _, body := range files {
		if strings.Contains(body, "FN:Grace Hopper") {
			graces++
			if !strings.Contains(body, "BDAY") {
				t.Error("Grace's merged card lacks the birthday from the phone's card")
			}
		}
		if strings.Contains(body, "FN:Hedy Lamarr") {
			hedys++
			if !strings.Contains(body, "X-KITH-LAST-INTERACTION:2026-11-22") {
				t.Errorf("Hedy's note line is not an interaction:\n%s", body)
			}
		}
	}
	if graces != 1 || hedys != 1 {
		t.Errorf("%d Grace and %d Hedy cards, want one each", graces, hedys)
	}
	for i := 0; i < 2; i++ {
		if sum := syncAt(t, cfg, fixedNow); sum.Created+sum.Updated+sum.Removed != 0 || sum.Contacts != 8 {
			t.Errorf("sync %d after adoption changed things: %s", i+1, sum)
		}
	}
}

func TestServerBookIsATarget(t *testing.T) {
	cfg, dir := demoSetup(t)
	cfg.Server = &ServerConfig{Listen: DefaultListen, UsersFile: filepath.Join(dir, "users")}
	syncAt(t, cfg, fixedNow)
	withStore(t, cfg, func(st *state.Store) {
		srv, err := davserver.New(davserver.Options{DB: st.DB(), UsersFile: cfg.Server.UsersFile})
		if err != nil {
			t.Fatal(err)
		}
		list, err := srv.Target(ServerTarget).List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 7 {
			t.Errorf("the served book holds %d cards, want 7", len(list))
		}
	})
	if sum := syncAt(t, cfg, fixedNow); sum.Created+sum.Updated != 0 {
		t.Errorf("second sync wrote to the book: %s", sum)
	}
}
