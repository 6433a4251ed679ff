package e2e

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kith/internal/davtest"
)

// A kith killed (SIGKILL, through KITH_TEST_CRASH) right after it deleted
// a card on a target, before it saved its state, and synced again: the
// next sync must finish kith's own delete, never take it for the user's.

// book is a target as the user sees it: a vdir folder or a CardDAV book on
// a real Radicale.
type book interface {
	// config is the [[target]] table of the book, named name.
	config(name string) string
	// cards returns every card in the book by href.
	cards(t *testing.T) map[string]string
	// put stores a card at href as a client would, unconditionally.
	put(t *testing.T, href, vcf string)
}

type vdirBook struct{ dir string }

func (b vdirBook) config(name string) string {
	return fmt.Sprintf("[[target]]\nname = %q\nkind = \"vdir\"\npath = %q\n", name, b.dir)
}

func (b vdirBook) cards(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(b.dir, "*.vcf"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(data)
	}
	return out
}

func (b vdirBook) put(t *testing.T, href, vcf string) { writeFile(t, filepath.Join(b.dir, href), vcf) }

type davBook struct {
	srv  *davtest.Server
	path string // the book's, ending in "/"
}

func (b davBook) config(name string) string {
	return fmt.Sprintf("[[target]]\nname = %q\nkind = \"carddav\"\nurl = %q\nusername = %q\npassword_env = \"KITH_TEST_DAV_PW\"\n",
		name, b.srv.URL+b.path, b.srv.Username)
}

func (b davBook) cards(t *testing.T) map[string]string {
	t.Helper()
	code, _, body := b.srv.Do(t, "REPORT", b.path, http.Header{"Depth": {"1"}, "Content-Type": {"application/xml"}},
		`<?xml version="1.0"?><C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data/></D:prop></C:addressbook-query>`)
	if code != http.StatusMultiStatus {
		t.Fatalf("REPORT %s: %d %s", b.path, code, body)
	}
	var ms struct {
		Responses []struct {
			Href string `xml:"href"`
			Data string `xml:"propstat>prop>address-data"`
		} `xml:"response"`
	}
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("REPORT %s: %v", b.path, err)
	}
	out := map[string]string{}
	for _, r := range ms.Responses {
		out[path.Base(r.Href)] = r.Data
	}
	return out
}

func (b davBook) put(t *testing.T, href, vcf string) { b.srv.PutCard(t, b.path+href, vcf) }

// crashSetup is a vdir source "book", the target "phone" (the book under
// test, written first) and a vdir target "other".
type crashSetup struct {
	dir, config string
	phone       book
	other       vdirBook
	env         []string
	// proxy stands between kith and Radicale (kind "carddav"), to fail
	// requests.
	proxy *davtest.Proxy
}

func newCrashSetup(t *testing.T, kind string) *crashSetup {
	t.Helper()
	dir := t.TempDir()
	s := &crashSetup{dir: dir, config: filepath.Join(dir, "kith.toml"), other: vdirBook{filepath.Join(dir, "other")}}
	for _, d := range []string{"book", "phone", "other"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	switch kind {
	case "vdir":
		s.phone = vdirBook{filepath.Join(dir, "phone")}
	case "carddav":
		srv := davtest.StartRadicale(t)
		s.proxy = davtest.NewProxy(t, srv.URL)
		proxied := *srv
		proxied.URL = s.proxy.URL
		s.phone = davBook{srv: &proxied, path: srv.MakeBook(t, "phone", "Phone")}
		s.env = []string{"KITH_TEST_DAV_PW=" + srv.Password}
	}
	writeFile(t, filepath.Join(dir, "book", "ada.vcf"), card("Ada", "Lovelace"))
	writeFile(t, s.config, fmt.Sprintf("state_dir = \"state\"\ndefault_region = \"DE\"\nlog_level = \"debug\"\n\n"+
		"[report]\ndir = \"report\"\n\n[[source]]\nname = \"book\"\nkind = \"vdir\"\npath = \"book\"\n\n%s\n%s",
		s.phone.config("phone"), s.other.config("other")))
	return s
}

// books returns the targets by name.
func (s *crashSetup) books() map[string]book {
	return map[string]book{"phone": s.phone, "other": s.other}
}

// once runs kith --once and fails the test unless the sync was complete.
func (s *crashSetup) once(t *testing.T) string {
	t.Helper()
	out, code := runKith(t, s.env, "--config", s.config, "--once")
	if code != 0 {
		t.Fatalf("kith --once: exit %d\n%s", code, out)
	}
	return out
}

// crash runs kith --once killed right after its first target write of
// kind op ("delete", "put").
func (s *crashSetup) crash(t *testing.T, op string) {
	t.Helper()
	out, code := runKith(t, append(slices.Clip(s.env), "KITH_TEST_CRASH="+op), "--config", s.config, "--once")
	if code != -1 || strings.Contains(out, "sync done") {
		t.Fatalf("kith --once with KITH_TEST_CRASH=%s: exit %d, want killed\n%s", op, code, out)
	}
}

// kith runs the subcommand cmd with args and fails the test unless it
// succeeded.
func (s *crashSetup) kith(t *testing.T, cmd string, args ...string) string {
	t.Helper()
	out, code := runKith(t, s.env, append([]string{cmd, "--config", s.config}, args...)...)
	if code != 0 {
		t.Fatalf("kith %s %s: exit %d\n%s", cmd, strings.Join(args, " "), code, out)
	}
	return out
}

// holding returns the cards of b that contain every one of words.
func holding(t *testing.T, b book, words ...string) []string {
	t.Helper()
	var hrefs []string
	for href, c := range b.cards(t) {
		unfolded := strings.ReplaceAll(strings.ReplaceAll(c, "\r\n ", ""), "\n ", "")
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(unfolded, w) }) {
			hrefs = append(hrefs, href)
		}
	}
	slices.Sort(hrefs)
	return hrefs
}

// notTakenForUserDeletes fails when a sync's output took a card for one the
// user deleted.
func notTakenForUserDeletes(t *testing.T, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "card deleted on target") {
			t.Errorf("kith's own delete taken for the user's: %s", l)
		}
	}
}

var crashKinds = []string{"vdir", "carddav"}

// Two cards the user made on the phone, then joined by the user: kith
// folds one into the other and deletes it. Killed right after that delete,
// the next sync must keep the folded card's words on the contact, on every
// target, and not take the contact for one that left its sources.
func TestCrashAfterFoldingAUserCardLosesNothing(t *testing.T) {
	t.Parallel()
	for _, kind := range crashKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := newCrashSetup(t, kind)
			s.once(t)
			s.phone.put(t, "u1.vcf", davtest.Card("u1", "Bob Miller", "TEL:+49 30 1234567", "NOTE:likes jazz"))
			s.phone.put(t, "u2.vcf", davtest.Card("u2", "Carla Jones", "EMAIL:carla@example.org", "NOTE:plays chess"))
			s.once(t)
			if got := holding(t, s.other, "plays chess"); len(got) != 1 {
				t.Fatalf("other target: cards with the second card's words %v, want one", got)
			}
			s.kith(t, "join", "Bob Miller", "Carla Jones")

			s.crash(t, "delete")
			if got := holding(t, s.phone, "plays chess"); !slices.Equal(got, []string{"u1.vcf"}) {
				t.Fatalf("phone after the killed sync: cards with the folded card's words %v, want [u1.vcf] (u2.vcf deleted)", got)
			}

			for i := range 2 {
				out := s.once(t)
				notTakenForUserDeletes(t, out)
				for name, b := range s.books() {
					if got := holding(t, b, "likes jazz", "plays chess", "carla@example.org", "+49 30 1234567"); len(got) != 1 {
						t.Errorf("sync %d after the crash: %s: cards with both cards' words %v, want one\n%v", i+1, name, got, b.cards(t))
					}
					if n := len(b.cards(t)); n != 2 {
						t.Errorf("sync %d after the crash: %s holds %d cards, want 2 (Ada, Bob)", i+1, name, n)
					}
				}
				md, err := os.ReadFile(filepath.Join(s.dir, "report", "report.md"))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(md), "Left their sources") {
					t.Errorf("sync %d after the crash: the report lists a contact that left its sources:\n%s", i+1, md)
				}
			}
			if out := s.kith(t, "check"); !strings.Contains(out, "everything looks fine") {
				t.Errorf("kith check after the crash:\n%s", out)
			}
		})
	}
}

// A contact that left its source, whose card the user had written on:
// kith keeps those words (kith restore) and deletes the card. Killed right
// after the delete, the next sync must still keep the words.
func TestCrashAfterDeletingALeftContactKeepsTheUsersWords(t *testing.T) {
	t.Parallel()
	for _, kind := range crashKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := newCrashSetup(t, kind)
			writeFile(t, filepath.Join(s.dir, "book", "bob.vcf"), card("Bob", "Miller"))
			s.once(t)
			hrefs := holding(t, s.phone, "FN:Bob Miller")
			if len(hrefs) != 1 {
				t.Fatalf("phone: Bob's cards %v, want one", hrefs)
			}
			c := s.phone.cards(t)[hrefs[0]]
			s.phone.put(t, hrefs[0], strings.Replace(c, "END:VCARD", "NOTE:met at the jazz club\r\nEND:VCARD", 1))
			if err := os.Remove(filepath.Join(s.dir, "book", "bob.vcf")); err != nil {
				t.Fatal(err)
			}

			s.crash(t, "delete")
			if got := holding(t, s.phone, "FN:Bob Miller"); len(got) != 0 {
				t.Fatalf("phone after the killed sync: Bob's cards %v, want none (deleted)", got)
			}

			notTakenForUserDeletes(t, s.once(t))
			if got := holding(t, s.other, "FN:Bob Miller"); len(got) != 0 {
				t.Errorf("other target: Bob's cards %v, want none (he left his source)", got)
			}
			out := s.kith(t, "restore", "Bob Miller")
			if !strings.Contains(out, "with what you wrote on its cards") {
				t.Errorf("kith restore: %s, want the user's words kept", out)
			}
			s.once(t)
			for name, b := range s.books() {
				if got := holding(t, b, "FN:Bob Miller", "met at the jazz club"); len(got) != 1 {
					t.Errorf("after kith restore: %s: Bob's cards with the user's words %v, want one\n%v", name, got, b.cards(t))
				}
			}
		})
	}
}

// A second card the user made on the phone for a person who has one there
// already: kith moves its content onto the first and deletes it. Killed
// right after that delete, the next sync must keep its words on the
// contact, on every target.
func TestCrashAfterDroppingASecondUserCardLosesNothing(t *testing.T) {
	t.Parallel()
	for _, kind := range crashKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := newCrashSetup(t, kind)
			s.phone.put(t, "u1.vcf", davtest.Card("u1", "Bob Miller", "EMAIL:bob@example.org", "NOTE:likes jazz"))
			s.once(t)
			s.phone.put(t, "u2.vcf", davtest.Card("u2", "Bob Miller", "EMAIL:bob@example.org", "TEL:+49 30 1234567", "NOTE:plays chess"))

			s.crash(t, "delete")
			if got := holding(t, s.phone, "plays chess"); !slices.Equal(got, []string{"u1.vcf"}) {
				t.Fatalf("phone after the killed sync: cards with the second card's words %v, want [u1.vcf] (u2.vcf deleted)", got)
			}

			for i := range 2 {
				notTakenForUserDeletes(t, s.once(t))
				for name, b := range s.books() {
					if got := holding(t, b, "likes jazz", "plays chess", "+49 30 1234567"); len(got) != 1 {
						t.Errorf("sync %d after the crash: %s: cards with both cards' words %v, want one\n%v", i+1, name, got, b.cards(t))
					}
					if n := len(b.cards(t)); n != 2 {
						t.Errorf("sync %d after the crash: %s holds %d cards, want 2 (Ada, Bob)", i+1, name, n)
					}
				}
			}
		})
	}
}

// A card the user made on the phone for a person a source has: kith
// writes the merged contact onto it (adoption in place). Killed right
// after that write, the next sync must still know the card as the user
// made it: a value its source drops later goes from the contact.
func TestCrashAfterAdoptingAUserCardKeepsItsRecord(t *testing.T) {
	t.Parallel()
	for _, kind := range crashKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := newCrashSetup(t, kind)
			s.once(t)
			s.phone.put(t, "u1.vcf", davtest.Card("u1", "Bob Miller", "EMAIL:bob@example.org", "NOTE:likes jazz"))
			bob := filepath.Join(s.dir, "book", "bob.vcf")
			writeFile(t, bob, davtest.Card("b", "Bob Miller", "EMAIL:bob@example.org", "TEL:+49 30 1111111"))

			s.crash(t, "put")
			if got := holding(t, s.phone, "likes jazz", "1111111"); !slices.Equal(got, []string{"u1.vcf"}) {
				t.Fatalf("phone after the killed sync: merged cards %v, want [u1.vcf]\n%v", got, s.phone.cards(t))
			}
			notTakenForUserDeletes(t, s.once(t))

			// The number changes in the source: the old one must leave the contact.
			writeFile(t, bob, davtest.Card("b", "Bob Miller", "EMAIL:bob@example.org", "TEL:+49 30 2222222"))
			s.once(t)
			for name, b := range s.books() {
				if got := holding(t, b, "likes jazz", "2222222"); len(got) != 1 {
					t.Errorf("%s: Bob's cards with the user's note and the new number %v, want one\n%v", name, got, b.cards(t))
				}
				if got := holding(t, b, "1111111"); len(got) != 0 {
					t.Errorf("%s: cards with the number the source dropped %v, want none\n%v", name, got, b.cards(t))
				}
			}
		})
	}
}

// kith killed right after it updated a card the user had written on (its
// new ETag not saved): the next sync finds the card moved, reads it, keeps
// both the user's words and the source's change on one card, and does not
// take kith's own write for an edit of the user's.
func TestCrashAfterUpdatingACardLosesNothing(t *testing.T) {
	t.Parallel()
	for _, kind := range crashKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := newCrashSetup(t, kind)
			s.once(t)
			hrefs := holding(t, s.phone, "FN:Ada Lovelace")
			if len(hrefs) != 1 {
				t.Fatalf("phone: Ada's cards %v, want one", hrefs)
			}
			c := s.phone.cards(t)[hrefs[0]]
			s.phone.put(t, hrefs[0], strings.Replace(c, "END:VCARD", "NOTE:first programmer\r\nEND:VCARD", 1))
			s.once(t)
			writeFile(t, filepath.Join(s.dir, "book", "ada.vcf"), strings.Replace(card("Ada", "Lovelace"), "END:VCARD", "TEL:+44 20 7946 0001\r\nEND:VCARD", 1))

			s.crash(t, "put")
			for i := range 2 {
				out := s.once(t)
				notTakenForUserDeletes(t, out)
				if strings.Contains(out, "edits kept") {
					t.Errorf("sync %d after the crash: kith's own write taken for the user's edit:\n%s", i+1, out)
				}
				if got := holding(t, s.phone, "FN:Ada Lovelace", "first programmer", "+44 20 7946 0001"); !slices.Equal(got, hrefs) {
					t.Errorf("sync %d after the crash: phone: Ada's cards with the note and the new number %v, want %v\n%v", i+1, got, hrefs, s.phone.cards(t))
				}
				if got := holding(t, s.other, "FN:Ada Lovelace", "+44 20 7946 0001"); len(got) != 1 || len(s.other.cards(t)) != 1 {
					t.Errorf("sync %d after the crash: other: Ada's cards with the new number %v, want the only card\n%v", i+1, got, s.other.cards(t))
				}
			}
		})
	}
}

// The sync after the kill cannot read the phone (its server answers 503):
// the deletes the killed sync left must wait for a sync that can, not go.
func TestCrashThenUnreadableTargetKeepsTheFold(t *testing.T) {
	t.Parallel()
	s := newCrashSetup(t, "carddav")
	s.once(t)
	s.phone.put(t, "u1.vcf", davtest.Card("u1", "Bob Miller", "TEL:+49 30 1234567", "NOTE:likes jazz"))
	s.phone.put(t, "u2.vcf", davtest.Card("u2", "Carla Jones", "EMAIL:carla@example.org", "NOTE:plays chess"))
	s.once(t)
	s.kith(t, "join", "Bob Miller", "Carla Jones")
	s.crash(t, "delete")

	s.proxy.AddFault(&davtest.Fault{Status: http.StatusServiceUnavailable})
	if out, code := runKith(t, s.env, "--config", s.config, "--once"); code != 2 {
		t.Fatalf("kith --once with the phone's server down: exit %d, want 2 (a target failed)\n%s", code, out)
	}
	s.proxy.ClearFaults()
	for i := range 2 {
		notTakenForUserDeletes(t, s.once(t))
		for name, b := range s.books() {
			if got := holding(t, b, "likes jazz", "plays chess", "carla@example.org", "+49 30 1234567"); len(got) != 1 || len(b.cards(t)) != 2 {
				t.Errorf("sync %d with the phone back: %s: cards with both cards' words %v, want one of two\n%v", i+1, name, got, b.cards(t))
			}
		}
	}
}
