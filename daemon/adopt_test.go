package daemon

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"

	"kith/internal/davserver"
	"kith/internal/state"
	ksync "kith/sync"
	"kith/sync/card"
)

// A contact created in the merged book (on a phone, in khard) becomes a
// kith contact: it joins dedup, and its card stays where the user made it,
// with its UID, holding the merged contact. A card the user made for a
// person who had a card already is the one that stays.
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
	if !strings.Contains(files["new-on-phone.vcf"], "UID:phone-1\r\n") {
		t.Errorf("the card made on the phone is gone or lost its UID:\n%s", files["new-on-phone.vcf"])
	}
	if !strings.Contains(files["grace-again.vcf"], "UID:phone-2\r\n") {
		t.Errorf("Grace's card made on the phone is gone or lost its UID:\n%s", files["grace-again.vcf"])
	}
	graces, hedys := 0, 0
	for _, body := range files {
		if strings.Contains(body, "FN:Grace Hopper") {
			graces++
			if !strings.Contains(body, "BDAY") || !strings.Contains(body, "Navy Labs") {
				t.Errorf("Grace's card lacks the birthday from the phone or the organisation from the scan:\n%s", body)
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
	// A note line the user adds on the adopted card counts, though the
	// card stands at the phone's href.
	addNoteLine(t, filepath.Join(merged, "new-on-phone.vcf"), "2026-11-24 call about the film")
	syncAt(t, cfg, fixedNow)
	for _, c := range readReport(t, cfg).Contacts {
		if c.Name == "Hedy Lamarr" && (c.LastInteraction == nil || c.LastInteraction.Date != "2026-11-24") {
			t.Errorf("Hedy's last interaction %+v, want the user's line of 2026-11-24", c.LastInteraction)
		}
	}
}

// cardsOf returns, from a set of cards by href, the hrefs of those whose
// formatted name is fn.
func cardsOf(files map[string]string, fn string) []string {
	var out []string
	for href, body := range files {
		if strings.Contains(body, "FN:"+fn+"\r\n") {
			out = append(out, href)
		}
	}
	slices.Sort(out)
	return out
}

// keepsIdentity runs five syncs and checks after each that every card in
// made (href → UID) is where the user made it with its UID, and is its
// person's only card (names: href → FN). list returns the target's cards.
func keepsIdentity(t *testing.T, cfg *Config, list func() map[string]string, made, names map[string]string) {
	t.Helper()
	for i := 1; i <= 5; i++ {
		sum := syncAt(t, cfg, fixedNow)
		files := list()
		for href, uid := range made {
			body, ok := files[href]
			if !ok {
				t.Fatalf("sync %d (%s): the card %s the user made is gone", i, sum, href)
			}
			if !strings.Contains(body, "UID:"+uid+"\r\n") {
				t.Errorf("sync %d: %s lost its UID %s:\n%s", i, href, uid, body)
			}
			if got := cardsOf(files, names[href]); !slices.Equal(got, []string{href}) {
				t.Errorf("sync %d: %s is on the cards %q, want only %s", i, names[href], got, href)
			}
		}
		if i > 1 && sum.Created+sum.Updated+sum.Removed != 0 {
			t.Errorf("sync %d changed things: %s", i, sum)
		}
	}
}

// A contact created with khard in the vdir target keeps its file name and
// UID through syncs, alone and merged with a contact kith had.
func TestKhardContactKeepsHrefAndUID(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	run := khard(t, merged)
	before := vcfFiles(t, merged)
	run("First name : Hedy\nLast name : Lamarr\nEmail :\n    home : hedy@example.org\n", "new", "-a", "kith")
	run("First name : Grace\nLast name : Hopper\nEmail :\n    work : grace@navy.example\nBirthday : 1906-12-09\n", "new", "-a", "kith")
	made, names := map[string]string{}, map[string]string{}
	for href, body := range vcfFiles(t, merged) {
		if _, ok := before[href]; ok {
			continue
		}
		c, err := card.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		made[href], names[href] = c.Value("UID"), c.Value("FN")
	}
	if len(made) != 2 {
		t.Fatalf("khard made %d cards, want 2", len(made))
	}
	keepsIdentity(t, cfg, func() map[string]string { return vcfFiles(t, merged) }, made, names)
	if out := run("", "list", "--parsable"); strings.Count(out, "Grace Hopper") != 1 || strings.Count(out, "Hedy Lamarr") != 1 {
		t.Errorf("khard lists:\n%s", out)
	}
}

// A contact created on a phone in the served book keeps its href and UID
// through syncs, alone and merged with a contact kith had.
func TestPhoneContactKeepsHrefAndUID(t *testing.T) {
	cfg, dir := demoSetup(t)
	ph := newPhone(t, cfg, dir)
	syncAt(t, cfg, fixedNow)
	hedy := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:4F1C2D3E-PHONE-HEDY\r\nFN:Hedy Lamarr\r\nN:Lamarr;Hedy;;;\r\nEMAIL:hedy@example.org\r\nEND:VCARD\r\n"
	grace := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:9A8B7C6D-PHONE-GRACE\r\nFN:Grace Hopper\r\nN:Hopper;Grace;;;\r\nEMAIL:grace@navy.example\r\nBDAY:1906-12-09\r\nEND:VCARD\r\n"
	for name, body := range map[string]string{"4F1C2D3E-PHONE-HEDY.vcf": hedy, "9A8B7C6D-PHONE-GRACE.vcf": grace} {
		if code, _, _ := ph.do("PUT", name, http.Header{"If-None-Match": {"*"}}, body); code != http.StatusCreated {
			t.Fatalf("PUT %s: %d", name, code)
		}
	}
	made := map[string]string{"4F1C2D3E-PHONE-HEDY.vcf": "4F1C2D3E-PHONE-HEDY", "9A8B7C6D-PHONE-GRACE.vcf": "9A8B7C6D-PHONE-GRACE"}
	names := map[string]string{"4F1C2D3E-PHONE-HEDY.vcf": "Hedy Lamarr", "9A8B7C6D-PHONE-GRACE.vcf": "Grace Hopper"}
	// The adopting sync: after each card it deletes, every person still
	// has a card on the phone.
	deletes := 0
	syncBook(t, cfg, func(b ksync.Target) ksync.Target {
		return &afterDelete{Target: b, check: func(href string) {
			deletes++
			cards := ph.cards()
			for _, fn := range []string{"Hedy Lamarr", "Grace Hopper"} {
				if len(cardsOf(cards, fn)) == 0 {
					t.Errorf("after deleting %s, %s has no card on the phone", href, fn)
				}
			}
		}}
	})
	if deletes != 1 {
		t.Errorf("the adopting sync deleted %d cards, want 1 (kith's card for Grace)", deletes)
	}
	keepsIdentity(t, cfg, ph.cards, made, names)
	if body := ph.cards()["9A8B7C6D-PHONE-GRACE.vcf"]; !strings.Contains(body, "Navy Labs") {
		t.Errorf("Grace's card lacks the organisation from the scan:\n%s", body)
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

// hookTarget calls before once per href before the first Put to it goes
// to the target: a client acting while kith's sync is at that card.
type hookTarget struct {
	ksync.Target
	before func(href string)
	done   map[string]bool
}

func (h *hookTarget) Put(ctx context.Context, href string, c vcard.Card, etag string) (string, error) {
	if !h.done[href] {
		h.done[href] = true
		h.before(href)
	}
	return h.Target.Put(ctx, href, c, etag)
}

// syncBook runs one sync whose served book is wrapped by wrap.
func syncBook(t *testing.T, cfg *Config, wrap func(ksync.Target) ksync.Target) *Summary {
	t.Helper()
	return syncWith(t, cfg, func(r *Runner, st *state.Store) {
		srv, err := davserver.New(davserver.Options{DB: st.DB(), UsersFile: cfg.Server.UsersFile})
		if err != nil {
			t.Fatal(err)
		}
		r.book, r.bookStore = wrap(srv.Target(ServerTarget)), st
	})
}

// A card a phone made and then deleted (204) stays deleted: neither the
// sync adopting it while the DELETE came in nor any later one brings it
// back, on the phone or anywhere else.
func TestDeleteOnPhoneIsFinal(t *testing.T) {
	const hedy = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:PHONE-HEDY\r\nFN:Hedy Lamarr\r\nN:Lamarr;Hedy;;;\r\nEMAIL:hedy@example.org\r\nEND:VCARD\r\n"
	const grace = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:PHONE-GRACE\r\nFN:Grace Hopper\r\nEMAIL:grace@navy.example\r\nBDAY:1906-12-09\r\nEND:VCARD\r\n"
	for _, tc := range []struct {
		name, href, card, fn string
		race                 bool
		wantGone             bool // the person is gone everywhere (only the phone had them)
	}{
		{"deleted while the sync adopts it", "PHONE-HEDY.vcf", hedy, "Hedy Lamarr", true, true},
		{"deleted after it was adopted", "PHONE-HEDY.vcf", hedy, "Hedy Lamarr", false, true},
		{"a duplicate deleted while the sync merges it", "PHONE-GRACE.vcf", grace, "Grace Hopper", true, false},
		{"a duplicate deleted after it was merged", "PHONE-GRACE.vcf", grace, "Grace Hopper", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, dir := demoSetup(t)
			ph := newPhone(t, cfg, dir)
			syncAt(t, cfg, fixedNow)
			if code, _, _ := ph.do("PUT", tc.href, http.Header{"If-None-Match": {"*"}}, tc.card); code != http.StatusCreated {
				t.Fatalf("PUT: %d", code)
			}
			del := func() {
				_, etag, _ := ph.do("GET", tc.href, nil, "")
				if code, _, _ := ph.do("DELETE", tc.href, http.Header{"If-Match": {etag}}, ""); code/100 != 2 {
					t.Fatalf("DELETE: %d", code)
				}
			}
			if tc.race {
				syncBook(t, cfg, func(b ksync.Target) ksync.Target {
					return &hookTarget{Target: b, done: map[string]bool{}, before: func(href string) {
						if href == tc.href {
							del()
						}
					}}
				})
			} else {
				syncAt(t, cfg, fixedNow)
				if _, ok := ph.cards()[tc.href]; !ok {
					t.Fatal("the phone's card is not there after the sync")
				}
				del()
			}
			for i := 1; i <= 3; i++ {
				sum := syncAt(t, cfg, fixedNow)
				cards := ph.cards()
				if _, ok := cards[tc.href]; ok {
					t.Fatalf("sync %d (%s): the card the phone deleted is back", i, sum)
				}
				n := len(cardsOf(cards, tc.fn))
				if tc.wantGone && n != 0 {
					t.Errorf("sync %d: %s is back on the phone on %d card(s)", i, tc.fn, n)
				}
				// A duplicate deleted before kith merged it leaves kith's card;
				// deleting the card that shows the merged contact deletes it
				// from the phone, for good.
				if want := map[bool]int{true: 1, false: 0}[tc.race]; !tc.wantGone && n != want {
					t.Errorf("sync %d: %s is on the phone %d times, want %d", i, tc.fn, n, want)
				}
			}
			onVdir := len(cardsOf(vcfFiles(t, filepath.Join(dir, "merged")), tc.fn))
			if tc.wantGone && onVdir != 0 {
				t.Errorf("%s, deleted on the phone that alone had her, is still on the other target", tc.fn)
			}
			if !tc.wantGone && onVdir != 1 {
				t.Errorf("%s is on the other target %d times, want once", tc.fn, onVdir)
			}
		})
	}
}

// racingTarget calls before before every Put to the target, up to times
// times: a client writing while kith's sync writes.
type racingTarget struct {
	ksync.Target
	before func(href string) bool // reports whether it acted
	times  int
}

func (r *racingTarget) Put(ctx context.Context, href string, c vcard.Card, etag string) (string, error) {
	if r.times > 0 && r.before(href) {
		r.times--
	}
	return r.Target.Put(ctx, href, c, etag)
}

// Edits a phone makes while a sync writes the same card are never lost:
// kith's write loses the race (412), merges, retries; when it loses every
// retry, the next syncs carry both the sources' change and every edit the
// server acknowledged.
func TestPhoneEditsDuringSyncWritesArrive(t *testing.T) {
	for _, races := range []int{1, 3} { // 3: every retry of kith's write loses
		t.Run(fmt.Sprintf("%d edits", races), func(t *testing.T) {
			cfg, dir := demoSetup(t)
			ph := newPhone(t, cfg, dir)
			syncAt(t, cfg, fixedNow)
			bob := cardsOf(ph.cards(), "Bob Miller")[0]
			// The source changes Bob: every sync must write his card.
			src := filepath.Join(dir, "addressbook/bob-miller.vcf")
			sb, _ := os.ReadFile(src)
			os.WriteFile(src, []byte(strings.Replace(string(sb), "END:VCARD", "TITLE:Carpenter\nEND:VCARD", 1)), 0o600)
			var acked []string
			edit := func(href string) bool {
				if href != bob {
					return false
				}
				_, etag, body := ph.do("GET", href, nil, "")
				line := fmt.Sprintf("2026-11-2%d phone edit %d", len(acked), len(acked))
				c, err := card.Decode([]byte(body))
				if err != nil {
					t.Fatal(err)
				}
				c.SetValue(vcard.FieldNote, card.EscapeText(strings.TrimSpace(card.Text(c.Value(vcard.FieldNote))+"\n"+line)))
				if code, _, _ := ph.do("PUT", href, http.Header{"If-Match": {etag}}, string(card.EncodeBytes(c))); code/100 == 2 {
					acked = append(acked, line)
				}
				return true
			}
			syncBook(t, cfg, func(b ksync.Target) ksync.Target { return &racingTarget{Target: b, before: edit, times: races} })
			for i := 0; i < 2; i++ {
				if sum := syncAt(t, cfg, fixedNow); len(sum.Errors) > 0 {
					t.Fatalf("clean sync: %s", sum)
				}
			}
			if len(acked) != races {
				t.Fatalf("%d phone edits acknowledged, want %d", len(acked), races)
			}
			_, _, body := ph.do("GET", bob, nil, "")
			body = strings.ReplaceAll(body, "\r\n ", "") // unfolded
			for _, l := range acked {
				if !strings.Contains(body, l) {
					t.Errorf("acknowledged phone edit %q lost:\n%s", l, body)
				}
			}
			if !strings.Contains(body, "TITLE:Carpenter") {
				t.Errorf("the source's change is lost:\n%s", body)
			}
		})
	}
}

// When two contacts are joined, a phone edit on the card that goes, made
// while the sync writes the card that stays, reaches the card that stays.
func TestPhoneEditOnJoinedCardDuringSyncArrives(t *testing.T) {
	cfg, dir := demoSetup(t)
	ph := newPhone(t, cfg, dir)
	syncAt(t, cfg, fixedNow)
	millers := map[string]bool{}
	for _, fn := range []string{"Bob Miller", "Carol Miller"} {
		millers[cardsOf(ph.cards(), fn)[0]] = true
	}
	withStore(t, cfg, func(st *state.Store) {
		if _, err := Join(context.Background(), st, "Bob Miller", "Carol Miller", io.Discard); err != nil {
			t.Fatal(err)
		}
	})
	const line = "2026-11-24 phone edit on the card that goes"
	edited := false
	edit := func(href string) bool {
		if !millers[href] || edited {
			return false
		}
		for other := range millers {
			if other == href {
				continue
			}
			_, etag, body := ph.do("GET", other, nil, "")
			c, err := card.Decode([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			c.SetValue(vcard.FieldNote, card.EscapeText(strings.TrimSpace(card.Text(c.Value(vcard.FieldNote))+"\n"+line)))
			if code, _, _ := ph.do("PUT", other, http.Header{"If-Match": {etag}}, string(card.EncodeBytes(c))); code/100 != 2 {
				t.Fatalf("phone edit: %d", code)
			}
			edited = true
		}
		return true
	}
	syncBook(t, cfg, func(b ksync.Target) ksync.Target { return &racingTarget{Target: b, before: edit, times: 1} })
	if !edited {
		t.Fatal("the phone made no edit during the sync")
	}
	for i := 0; i < 2; i++ {
		syncAt(t, cfg, fixedNow)
	}
	cards := ph.cards()
	var found []string
	for href, body := range cards {
		if strings.Contains(body, "Miller") {
			found = append(found, href)
			if !strings.Contains(strings.ReplaceAll(body, "\r\n ", ""), line) {
				t.Errorf("the phone's edit is not on the joined card %s:\n%s", href, body)
			}
		}
	}
	if len(found) != 1 {
		t.Errorf("the joined Millers are on %d cards %q, want 1", len(found), found)
	}
}

// afterDelete calls check after every Delete that succeeded.
type afterDelete struct {
	ksync.Target
	check func(href string)
}

func (a *afterDelete) Delete(ctx context.Context, href, etag string) error {
	err := a.Target.Delete(ctx, href, etag)
	if err == nil {
		a.check(href)
	}
	return err
}
