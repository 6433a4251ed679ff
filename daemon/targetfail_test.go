package daemon

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"kith/internal/davtest"
	"kith/internal/state"
	ksync "kith/sync"
	"kith/sync/card"
)

// readOnlyTarget refuses every write, as a folder the daemon may not write
// to does. Used only when the test runs as root, whom a read-only folder
// does not stop.
type readOnlyTarget struct{ ksync.Target }

var errReadOnly = errors.New("permission denied")

func (r readOnlyTarget) Put(context.Context, string, vcard.Card, string) (string, error) {
	return "", errReadOnly
}

func (r readOnlyTarget) Delete(context.Context, string, string) error { return errReadOnly }

// syncReadOnly runs one sync with the vdir target's folder made read-only,
// and gives it back its mode afterwards.
func syncReadOnly(t *testing.T, cfg *Config, folder string) *Summary {
	t.Helper()
	if err := os.Chmod(folder, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(folder, 0o700)
	return syncWith(t, cfg, func(r *Runner, _ *state.Store) {
		probe := filepath.Join(folder, "probe")
		if os.WriteFile(probe, nil, 0o600) == nil {
			os.Remove(probe)
			r.targets[0] = readOnlyTarget{r.targets[0]} // root writes anyway
		}
	})
}

// fileWith returns the path of the .vcf file in dir whose text contains s.
func fileWith(t *testing.T, dir, s string) string {
	t.Helper()
	for name, body := range vcfFiles(t, dir) {
		if strings.Contains(body, s) {
			return filepath.Join(dir, name)
		}
	}
	t.Fatalf("no card in %s holds %q", dir, s)
	return ""
}

// addNoteLine adds line to the note of the card file at path, as khard
// would (the file rewritten, a new mtime).
func addNoteLine(t *testing.T, path, line string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := card.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	c.SetValue(vcard.FieldNote, card.EscapeText(strings.TrimSpace(card.Text(c.Value(vcard.FieldNote))+"\n"+line)))
	time.Sleep(10 * time.Millisecond) // a distinct mtime, so a distinct ETag
	if err := os.WriteFile(path, card.EncodeBytes(c), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A write to a target that fails once (a read-only folder) loses nothing:
// the clean syncs after it bring the sources' change, keep the user's edit,
// and keep no stale value as if the user had chosen it.
func TestFailedTargetWriteArrivesLater(t *testing.T) {
	for _, when := range []string{"no user edit", "user edit before the failure", "user edit after the failure"} {
		t.Run(when, func(t *testing.T) {
			cfg, dir := demoSetup(t)
			syncAt(t, cfg, fixedNow)
			merged := filepath.Join(dir, "merged")
			bob := fileWith(t, merged, "FN:Bob Miller")
			const userLine = "2026-11-20 coffee, talked about hiring"
			if when == "user edit before the failure" {
				addNoteLine(t, bob, userLine)
			}
			// The source changes Bob's number and gains his job title.
			src := filepath.Join(dir, "addressbook/bob-miller.vcf")
			sb, _ := os.ReadFile(src)
			changed := strings.Replace(string(sb), "TEL;TYPE=HOME:+1 415 555 0100", "TEL;TYPE=HOME:+1 415 555 0177\nTITLE:Carpenter", 1)
			if err := os.WriteFile(src, []byte(changed), 0o600); err != nil {
				t.Fatal(err)
			}
			if sum := syncReadOnly(t, cfg, merged); len(sum.Errors) == 0 {
				t.Fatalf("the sync into a read-only folder reports no error: %s", sum)
			}
			if when == "user edit after the failure" {
				addNoteLine(t, bob, userLine)
			}
			for i := 0; i < 3; i++ {
				if sum := syncAt(t, cfg, fixedNow); len(sum.Errors) > 0 {
					t.Fatalf("clean sync %d: %s", i+1, sum)
				}
			}
			b, err := os.ReadFile(bob)
			if err != nil {
				t.Fatalf("Bob's card is gone: %v", err)
			}
			c, err := card.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			var tels []string
			for _, f := range c[vcard.FieldTelephone] {
				tels = append(tels, f.Value)
			}
			if len(tels) != 1 || tels[0] != "+1 415 555 0177" {
				t.Errorf("phones %q, want only the source's new +1 415 555 0177", tels)
			}
			if got := c.Value(vcard.FieldTitle); got != "Carpenter" {
				t.Errorf("title %q, want the source's new Carpenter", got)
			}
			note := card.Text(c.Value(vcard.FieldNote))
			if when != "no user edit" && !strings.Contains(note, userLine) {
				t.Errorf("the user's note line is lost: %q", note)
			}
			if !strings.Contains(note, "2026-06-14 barbecue at his place") {
				t.Errorf("the source's note line is lost: %q", note)
			}
		})
	}
}

// The same with a CardDAV target that answers 503 to every write for one
// sync.
func TestFailedCardDAVWriteArrivesLater(t *testing.T) {
	srv := davtest.StartRadicale(t)
	srcBook := srv.MakeBook(t, "phone", "Phone")
	dstBook := srv.MakeBook(t, "people", "People")
	proxy := davtest.NewProxy(t, srv.URL)
	cfg := davConfig(t, srv, proxy, srcBook, dstBook, t.TempDir())
	srv.PutCard(t, srcBook+"a.vcf", davtest.Card("a", "Ann Example", "EMAIL:ann@example.org", "TEL:+49 30 1111111"))
	syncAt(t, cfg, fixedNow)
	href := editOnRadicale(t, srv, dstBook, "Ann Example", func(body string) []byte {
		c, err := card.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		c.SetValue(vcard.FieldNote, "2026-11-20 coffee")
		return card.EncodeBytes(c)
	})
	srv.PutCard(t, srcBook+"a.vcf", davtest.Card("a", "Ann Example", "EMAIL:ann@example.org", "TEL:+49 30 2222222", "TITLE:Pilot"))
	proxy.AddFault(&davtest.Fault{Status: http.StatusServiceUnavailable, Match: davtest.IsKind("PUT")})
	if sum := syncAt(t, cfg, fixedNow); len(sum.Errors) == 0 {
		t.Fatalf("a sync whose writes all failed reports no error: %s", sum)
	}
	proxy.ClearFaults()
	for i := 0; i < 2; i++ {
		if sum := syncAt(t, cfg, fixedNow); len(sum.Errors) > 0 {
			t.Fatalf("clean sync: %s", sum)
		}
	}
	got := radicaleCards(srv, dstBook)[href]
	for _, want := range []string{"TITLE:Pilot", "+49 30 2222222", "2026-11-20 coffee"} {
		if !strings.Contains(got, want) {
			t.Errorf("the card lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "+49 30 1111111") {
		t.Errorf("the stale number is kept as if the user had chosen it:\n%s", got)
	}
}

// A card on the target that cannot be read (a broken file another program
// left) holds back neither the other cards' writes nor itself is touched.
func TestUnreadableCardOnTargetHoldsNothingBack(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	junk := filepath.Join(merged, "junk.vcf")
	os.WriteFile(junk, []byte("BEGIN:VCARD\nthis is no card"), 0o600)
	src := filepath.Join(dir, "addressbook/bob-miller.vcf")
	sb, _ := os.ReadFile(src)
	os.WriteFile(src, []byte(strings.Replace(string(sb), "END:VCARD", "TITLE:Carpenter\nEND:VCARD", 1)), 0o600)
	sum := syncAt(t, cfg, fixedNow)
	if b, _ := os.ReadFile(fileWith(t, merged, "FN:Bob Miller")); !strings.Contains(string(b), "TITLE:Carpenter") {
		t.Errorf("Bob's card was not written while a broken card lay beside it (%s):\n%s", sum, b)
	}
	if b, err := os.ReadFile(junk); err != nil || string(b) != "BEGIN:VCARD\nthis is no card" {
		t.Errorf("the broken card was touched: %q %v", b, err)
	}
}

// A card kith wrote on a target that no longer decodes (an app broke it)
// holds back no other contact, is left exactly as it is, is named in the
// sync's errors, and once it reads again the sources' change and the
// user's edit both arrive.
func TestBrokenKithCardOnTargetHoldsNothingBack(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	ada := fileWith(t, merged, "FN:Ada Lovelace")
	good, err := os.ReadFile(ada)
	if err != nil {
		t.Fatal(err)
	}
	const broken = "BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nthis line is no property\n"
	if err := os.WriteFile(ada, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	for who, edit := range map[string][2]string{
		"bob-miller.vcf":   {"END:VCARD", "TITLE:Carpenter\nEND:VCARD"},
		"ada-lovelace.vcf": {"TITLE:Chief Scientist", "TITLE:Countess"},
	} {
		src := filepath.Join(dir, "addressbook", who)
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(src, []byte(strings.Replace(string(b), edit[0], edit[1], 1)), 0o600)
	}
	sum := syncAt(t, cfg, fixedNow)
	if b, _ := os.ReadFile(fileWith(t, merged, "FN:Bob Miller")); !strings.Contains(string(b), "TITLE:Carpenter") {
		t.Errorf("Bob's card was not written while Ada's card was broken (%+v):\n%s", sum, b)
	}
	if b, err := os.ReadFile(ada); err != nil || string(b) != broken {
		t.Errorf("the broken card was touched: %q %v", b, err)
	}
	if !slices.ContainsFunc(sum.Errors, func(e string) bool { return strings.Contains(e, filepath.Base(ada)) }) {
		t.Errorf("the sync's errors do not name the broken card %s: %q", filepath.Base(ada), sum.Errors)
	}
	// The user mends the card and adds a note line: both it and the
	// sources' change arrive.
	os.WriteFile(ada, good, 0o600)
	addNoteLine(t, ada, "2026-11-25 call about the engine")
	sum = syncAt(t, cfg, fixedNow)
	b, _ := os.ReadFile(ada)
	c, err := card.Decode(b)
	if err != nil || c.Value(vcard.FieldTitle) != "Countess" || !strings.Contains(card.Text(c.Value(vcard.FieldNote)), "2026-11-25 call about the engine") {
		t.Errorf("after the card was mended, the source's change or the user's note is missing (%+v, %v):\n%s", sum, err, b)
	}
	if len(sum.Errors) > 0 {
		t.Errorf("errors after the card was mended: %q", sum.Errors)
	}
}
