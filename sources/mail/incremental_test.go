package mail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kith/internal/mailgen"
	"kith/internal/state"
	ksync "kith/sync"
)

// countingStore records how many items each Update stored.
type countingStore struct {
	ksync.ItemStore
	mu  sync.Mutex
	put int
	del int
}

func (c *countingStore) Update(ctx context.Context, source string, changes ...ksync.BoxChange) error {
	c.mu.Lock()
	for _, ch := range changes {
		c.put += len(ch.Put)
		c.del += len(ch.Delete)
	}
	c.mu.Unlock()
	return c.ItemStore.Update(ctx, source, changes...)
}

func (c *countingStore) reset() { c.put, c.del = 0, 0 }

// age sets path's times an hour back, as a mailbox's that was not touched
// lately (a folder changed within the last seconds is listed again).
func age(t testing.TB, paths ...string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	for _, p := range paths {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

func writeMsg(t testing.TB, path, from, to, id string, date time.Time) {
	t.Helper()
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n\r\nbody\r\n", from, to, date.Format(time.RFC1123Z), id)
	if err := os.WriteFile(path, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func refs(ins []ksync.Interaction) string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Kind+" "+in.Ref+" "+in.Date.Format(time.DateOnly))
	}
	return strings.Join(out, "\n")
}

// TestMaildirIncremental: a sync reads only the message files that are
// new; unchanged and renamed (flagged) ones come from the store; removed
// ones are gone; a sync in which nothing changed has the same version.
func TestMaildirIncremental(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	box := filepath.Join(dir, "Mail")
	if err := mailgen.Maildir(box, 20, 3, "me@example.org", now); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	store := &countingStore{ItemStore: st.Items()}
	s, _ := newTestSource(t, Options{Mailboxes: []Mailbox{{Path: box}}})

	update := func() string {
		t.Helper()
		store.reset()
		v, err := s.Update(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	load := func() []ksync.Interaction {
		t.Helper()
		ins, err := s.Load(ctx, store, since)
		if err != nil {
			t.Fatal(err)
		}
		return ins
	}
	v1 := update()
	if store.put != 20 {
		t.Fatalf("first sync stored %d messages, want 20", store.put)
	}
	first := load()
	if len(first) != 20 {
		t.Fatalf("%d interactions, want 20:\n%s", len(first), refs(first))
	}

	t.Run("nothing changed", func(t *testing.T) {
		if v := update(); v != v1 || store.put+store.del != 0 {
			t.Errorf("version moved (%v) or items stored (%d, %d)", v != v1, store.put, store.del)
		}
	})

	cur := filepath.Join(box, "cur")
	entries, _ := os.ReadDir(cur)
	t.Run("a message marked read (renamed) is not read again", func(t *testing.T) {
		old := filepath.Join(cur, entries[0].Name())
		if err := os.Rename(old, strings.TrimSuffix(old, "S")+"RS"); err != nil {
			t.Fatal(err)
		}
		age(t, cur)
		if v := update(); v != v1 || store.put+store.del != 0 {
			t.Errorf("version moved (%v) or items stored (%d, %d)", v != v1, store.put, store.del)
		}
	})

	t.Run("a new message is the only one read", func(t *testing.T) {
		writeMsg(t, filepath.Join(box, "new", "9999.M1P1.host"), "me@example.org", "zoe@example.com", "new1@example.org", now.Add(-24*time.Hour))
		age(t, filepath.Join(box, "new"))
		v := update()
		if v == v1 || store.put != 1 {
			t.Errorf("version moved %v, %d stored; want a new version and 1", v != v1, store.put)
		}
		if got := refs(load()); !strings.Contains(got, "mail-sent new1@example.org 2026-11-24") {
			t.Errorf("the new mail is missing:\n%s", got)
		}
		v1 = v
	})

	t.Run("an unchanged message's file is not read again", func(t *testing.T) {
		// Maildir files never change: a sync that reads this one again
		// would see another date.
		writeMsg(t, filepath.Join(cur, entries[1].Name()), "me@example.org", "p9@example.com", "changed@example.org", now)
		age(t, cur)
		update()
		if got := refs(load()); strings.Contains(got, "changed@example.org") {
			t.Errorf("an unchanged file was read again:\n%s", got)
		}
	})

	t.Run("a removed message is gone", func(t *testing.T) {
		if err := os.Remove(filepath.Join(box, "new", "9999.M1P1.host")); err != nil {
			t.Fatal(err)
		}
		age(t, filepath.Join(box, "new"))
		v := update()
		if v == v1 || store.del != 1 {
			t.Errorf("version moved %v, %d deleted; want a new version and 1", v != v1, store.del)
		}
		if got := refs(load()); strings.Contains(got, "new1@example.org") {
			t.Errorf("the removed mail is still there:\n%s", got)
		}
	})

	t.Run("other options give another version", func(t *testing.T) {
		s2, _ := newTestSource(t, Options{Mailboxes: []Mailbox{{Path: box}}, MaxRecipients: 9})
		v2, err := s2.Update(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		if v2 == update() {
			t.Error("max_recipients changed, the version did not")
		}
	})
}

// TestRacyFolder: a folder changed within the last moments is listed again
// on the next sync, so a message added in the same clock tick is not lost.
func TestRacyFolder(t *testing.T) {
	ctx := context.Background()
	box := filepath.Join(t.TempDir(), "Mail")
	if err := mailgen.Maildir(box, 2, 1, "me@example.org", now); err != nil {
		t.Fatal(err)
	}
	newDir := filepath.Join(box, "new")
	writeMsg(t, filepath.Join(newDir, "1.M1P1.host"), "me@example.org", "a@example.com", "a1@example.org", now)
	store := &ksync.MemItems{}
	s, _ := newTestSource(t, Options{Mailboxes: []Mailbox{{Path: box}}})
	if _, err := s.Update(ctx, store); err != nil {
		t.Fatal(err)
	}
	// Same folder time as when it was listed: only the racy rule finds it.
	fi, _ := os.Stat(newDir)
	writeMsg(t, filepath.Join(newDir, "2.M1P1.host"), "me@example.org", "b@example.com", "b1@example.org", now)
	os.Chtimes(newDir, fi.ModTime(), fi.ModTime())
	if _, err := s.Update(ctx, store); err != nil {
		t.Fatal(err)
	}
	ins, err := s.Load(ctx, store, since)
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(ins); !strings.Contains(got, "b1@example.org") {
		t.Errorf("message added in the same tick lost:\n%s", got)
	}
}

// TestMboxIncremental: an unchanged mbox file is not read; one that grew is.
func TestMboxIncremental(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "archive.mbox")
	data := genMbox(10)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, path)
	store := &countingStore{ItemStore: &ksync.MemItems{}}
	s, _ := newTestSource(t, Options{Mailboxes: []Mailbox{{Path: path}}})
	v1, err := s.Update(ctx, store)
	if err != nil || store.put != 10 {
		t.Fatalf("first read: %d stored, %v", store.put, err)
	}
	store.reset()
	if v, err := s.Update(ctx, store); err != nil || v != v1 || store.put != 0 {
		t.Fatalf("unchanged mbox: version moved %v, %d stored, %v", v != v1, store.put, err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "From me@example.org Tue Nov 24 10:00:00 2026\nFrom: me@example.org\nTo: newperson@example.com\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <appended@example.org>\n\nhi\n\n")
	f.Close()
	age(t, path)
	store.reset()
	v, err := s.Update(ctx, store)
	if err != nil || v == v1 || store.put != 1 {
		t.Fatalf("appended mbox: version moved %v, %d stored (want 1), %v", v != v1, store.put, err)
	}
	ins, _ := s.Load(ctx, store, since)
	if got := refs(ins); !strings.Contains(got, "appended@example.org") || len(ins) != 11 {
		t.Errorf("got %d:\n%s", len(ins), got)
	}
}

// TestDroppedMailbox: a mailbox taken out of the config leaves the store.
func TestDroppedMailbox(t *testing.T) {
	ctx := context.Background()
	store := &ksync.MemItems{}
	s, _ := newTestSource(t, Options{})
	if _, err := s.Update(ctx, store); err != nil {
		t.Fatal(err)
	}
	s2, _ := newTestSource(t, Options{Mailboxes: testMailboxes[:1]})
	if _, err := s2.Update(ctx, store); err != nil {
		t.Fatal(err)
	}
	curs, _ := store.Cursors(ctx, "mail")
	if len(curs) != 1 {
		t.Errorf("boxes kept: %v", curs)
	}
}
