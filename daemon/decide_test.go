package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"kith/internal/state"
	ksync "kith/sync"
	"kith/sync/card"
)

func withStore(t *testing.T, cfg *Config, f func(st *state.Store)) {
	t.Helper()
	st, err := state.Open(context.Background(), cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f(st)
}

func TestSplitJoinUndo(t *testing.T) {
	ctx := context.Background()
	cfg, _ := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	var out bytes.Buffer

	// explain says where Anna's records came from and why they were joined.
	withStore(t, cfg, func(st *state.Store) {
		if err := Explain(ctx, st, "anna", &out); err != nil {
			t.Fatal(err)
		}
	})
	for _, want := range []string{"Anna Schmidt", "addressbook:anna-schmidt.vcf", "scans:2026-11/camcard-export.csv#1", "joined because:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain output lacks %q:\n%s", want, out.String())
		}
	}
	// The arithmetic: the total, then a line a field with its weight, and the prior.
	if !regexp.MustCompile(`score [+-]\d+\.\d \(join at [+-]\d+\.\d\)\n(\s+[+-]\d+\.\d  .+\n)+\s+-\d+\.\d  prior\n`).MatchString(out.String()) {
		t.Errorf("explain output lacks the arithmetic:\n%s", out.String())
	}
	annaUID := readReportUID(t, cfg, "Anna Schmidt")

	// split: two contacts, and the next syncs keep them apart; Anna's UID
	// stays with one of them.
	var batch int64
	withStore(t, cfg, func(st *state.Store) {
		var err error
		if batch, err = Split(ctx, st, annaUID, nil, &out); err != nil {
			t.Fatal(err)
		}
	})
	for i := 0; i < 2; i++ {
		syncAt(t, cfg, fixedNow)
		if n := len(readReport(t, cfg).Contacts); n != 8 {
			t.Fatalf("after split, sync %d: %d contacts, want 8", i+1, n)
		}
	}
	if !strings.Contains(strings.Join(uids(t, cfg), " "), annaUID) {
		t.Errorf("Anna's UID %s is gone after the split", annaUID)
	}

	// join Bob and Carol (a household, kept apart by the matcher).
	withStore(t, cfg, func(st *state.Store) {
		if _, err := Join(ctx, st, "Bob Miller", "Carol Miller", &out); err != nil {
			t.Fatal(err)
		}
	})
	syncAt(t, cfg, fixedNow)
	if n := len(readReport(t, cfg).Contacts); n != 7 {
		t.Fatalf("after join: %d contacts, want 7", n)
	}

	// undo the join, then the split: back to the start.
	withStore(t, cfg, func(st *state.Store) {
		if err := Undo(ctx, st, 0, &out); err != nil {
			t.Fatal(err)
		}
		if err := Undo(ctx, st, batch, &out); err != nil {
			t.Fatal(err)
		}
		if err := Undo(ctx, st, 0, &out); err == nil {
			t.Error("undo with nothing left to undo succeeded")
		}
	})
	syncAt(t, cfg, fixedNow)
	if got := membersByName(readReport(t, cfg)); len(got) != 7 || len(got["Anna Schmidt"]) != 2 || len(got["Bob Miller"]) != 1 {
		t.Errorf("after undoing both: %v", got)
	}
	if readReportUID(t, cfg, "Anna Schmidt") != annaUID {
		t.Errorf("Anna's UID changed across split and undo")
	}
}

func TestDecisionErrorsAreClear(t *testing.T) {
	ctx := context.Background()
	cfg, _ := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	var out bytes.Buffer
	withStore(t, cfg, func(st *state.Store) {
		if _, err := Split(ctx, st, "Carol Miller", nil, &out); err == nil || !strings.Contains(err.Error(), "one member") {
			t.Errorf("split of a one-record contact: %v", err)
		}
		if _, err := Join(ctx, st, "Miller", "Ada", &out); err == nil || !strings.Contains(err.Error(), "matches 2 contacts") {
			t.Errorf("ambiguous join: %v", err)
		}
		if err := Explain(ctx, st, "nobody", &out); err == nil {
			t.Error("explain of an unknown name succeeded")
		}
		if _, err := Split(ctx, st, "Anna", []string{"scans:nope"}, &out); err == nil || !strings.Contains(err.Error(), "not a member") {
			t.Errorf("split with a stranger: %v", err)
		}
	})
}

func readReportUID(t *testing.T, cfg *Config, name string) string {
	t.Helper()
	for _, c := range readReport(t, cfg).Contacts {
		if c.Name == name {
			return c.UID
		}
	}
	t.Fatalf("%s not in the report", name)
	return ""
}

func uids(t *testing.T, cfg *Config) []string {
	var out []string
	for _, c := range readReport(t, cfg).Contacts {
		out = append(out, c.UID)
	}
	return out
}

// When two contacts become one, what the user wrote on the card that goes
// moves to the card that stays.
func TestJoinKeepsTheUserEditsOfTheCardThatGoes(t *testing.T) {
	ctx := context.Background()
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	edited := 0
	for name, body := range vcfFiles(t, merged) {
		for _, who := range []string{"Bob Miller", "Carol Miller"} {
			if !strings.Contains(body, "FN:"+who+"\r\n") {
				continue
			}
			line := `\n2026-11-23 ` + strings.Fields(who)[0] + ` asked about the boat`
			if strings.Contains(body, "NOTE:") {
				body = strings.Replace(body, "\r\nNOTE:", "\r\nNOTE:x"+line[2:]+`\n`, 1)
				body = strings.Replace(body, "NOTE:x", "NOTE:", 1)
			} else {
				body = strings.Replace(body, "END:VCARD", "NOTE:"+line[2:]+"\r\nEND:VCARD", 1)
			}
			body = strings.Replace(body, "END:VCARD", "TEL;TYPE=CELL:+1 415 555 01"+fmt.Sprint(10+edited)+"\r\nEND:VCARD", 1)
			time.Sleep(10 * time.Millisecond)
			os.WriteFile(filepath.Join(merged, name), []byte(body), 0o600)
			edited++
		}
	}
	if edited != 2 {
		t.Fatalf("edited %d cards", edited)
	}
	syncAt(t, cfg, fixedNow) // the edits are taken in
	withStore(t, cfg, func(st *state.Store) {
		if _, err := Join(ctx, st, "Bob Miller", "Carol Miller", io.Discard); err != nil {
			t.Fatal(err)
		}
	})
	sum := syncAt(t, cfg, fixedNow)
	c := onlyMiller(t, merged, sum)
	note := card.Text(c.Value("NOTE"))
	all := string(card.EncodeBytes(c))
	for _, want := range []string{"2026-11-23 Bob asked about the boat", "2026-11-23 Carol asked about the boat"} {
		if !strings.Contains(note, want) {
			t.Errorf("after the join the note lost %q:\n%s", want, note)
		}
	}
	for _, tel := range []string{"+1 415 555 0110", "+1 415 555 0111"} {
		if !strings.Contains(all, tel) {
			t.Errorf("after the join the card lost the user's phone %s:\n%s", tel, all)
		}
	}
}

// A join whose card that goes cannot be read (an app broke it) waits: no
// card of the two is written or deleted, the broken one is named, and once
// it reads again the join is made with what the user wrote on both.
func TestJoinWaitsForABrokenCard(t *testing.T) {
	ctx := context.Background()
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	carol := fileWith(t, merged, "FN:Carol Miller")
	addNoteLine(t, carol, "2026-11-23 Carol asked about the boat")
	syncAt(t, cfg, fixedNow) // the edit is taken in
	good, err := os.ReadFile(carol)
	if err != nil {
		t.Fatal(err)
	}
	withStore(t, cfg, func(st *state.Store) {
		if _, err := Join(ctx, st, "Bob Miller", "Carol Miller", io.Discard); err != nil {
			t.Fatal(err)
		}
	})
	const broken = "BEGIN:VCARD\nVERSION:3.0\nFN:Carol Miller\nthis line is no property\n"
	os.WriteFile(carol, []byte(broken), 0o600)
	before := vcfFiles(t, merged)
	sum := syncAt(t, cfg, fixedNow)
	if after := vcfFiles(t, merged); !maps.Equal(before, after) {
		t.Errorf("a card was written or deleted while the join's card was unreadable (%s)", sum)
	}
	if !slices.ContainsFunc(sum.Errors, func(e string) bool { return strings.Contains(e, filepath.Base(carol)) }) {
		t.Errorf("the sync's errors do not name the broken card %s: %q", filepath.Base(carol), sum.Errors)
	}
	os.WriteFile(carol, good, 0o600)
	sum = syncAt(t, cfg, fixedNow)
	c := onlyMiller(t, merged, sum)
	if note := card.Text(c.Value("NOTE")); !strings.Contains(note, "2026-11-23 Carol asked about the boat") {
		t.Errorf("after the join the note lost Carol's line:\n%s", note)
	}
}

// downTarget is a target that cannot be reached: listing it fails.
type downTarget struct{ ksync.Target }

func (downTarget) List(context.Context) (map[string]string, error) {
	return nil, errors.New("connection refused")
}

// A join made while the target cannot be reached is made there at the
// next sync that reaches it, with what the user wrote on the card that
// goes (it is not taken for the card of a contact that left).
func TestJoinWhileTargetDownArrivesLater(t *testing.T) {
	ctx := context.Background()
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	addNoteLine(t, fileWith(t, merged, "FN:Carol Miller"), "2026-11-23 Carol asked about the boat")
	syncAt(t, cfg, fixedNow) // the edit is taken in
	withStore(t, cfg, func(st *state.Store) {
		if _, err := Join(ctx, st, "Bob Miller", "Carol Miller", io.Discard); err != nil {
			t.Fatal(err)
		}
	})
	sum := syncWith(t, cfg, func(r *Runner, _ *state.Store) { r.targets[0] = downTarget{r.targets[0]} })
	if len(sum.Errors) == 0 {
		t.Fatalf("a sync with the target down reports no error: %s", sum)
	}
	sum = syncAt(t, cfg, fixedNow)
	c := onlyMiller(t, merged, sum)
	if note := card.Text(c.Value("NOTE")); !strings.Contains(note, "2026-11-23 Carol asked about the boat") {
		t.Errorf("the joined card lost what the user wrote on the card that went:\n%s", note)
	}
}

// onlyMiller returns the one card in merged of a Miller (Bob and Carol
// joined), failing the test when there is not exactly one.
func onlyMiller(t *testing.T, merged string, sum *Summary) vcard.Card {
	t.Helper()
	var millers []string
	for _, body := range vcfFiles(t, merged) {
		if strings.Contains(body, "Miller") {
			millers = append(millers, body)
		}
	}
	if len(millers) != 1 {
		t.Fatalf("%d Miller cards, want the one of Bob and Carol joined (%s)", len(millers), sum)
	}
	c, err := card.Decode([]byte(millers[0]))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
