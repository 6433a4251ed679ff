package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// What lies in a vdir target's folder but is no card file kith may read
// (a FIFO, a symbolic link out of the folder), in place of kith's own
// cards or under names of its own, neither hangs the sync nor holds back
// the other cards' writes; each is named in the sync's errors (kith's
// cards) or skipped items (the others), and none of them, nor what a link
// leads to, is read, replaced or removed.
func TestHostileFilesInTargetFolder(t *testing.T) {
	cfg, dir := demoSetup(t)
	syncAt(t, cfg, fixedNow)
	merged := filepath.Join(dir, "merged")
	ada := fileWith(t, merged, "FN:Ada Lovelace")
	carol := fileWith(t, merged, "FN:Carol Miller")
	bob := fileWith(t, merged, "FN:Bob Miller")
	adaCard, err := os.ReadFile(ada)
	if err != nil {
		t.Fatal(err)
	}

	outside := filepath.Join(dir, "outside")
	os.Mkdir(outside, 0o700)
	adaOut := filepath.Join(outside, "ada.vcf")
	eveOut := filepath.Join(outside, "eve.vcf")
	// Ada's card as kith wrote it with a note line added: read through the
	// link, it would look like the user's edit and be written back.
	adaEdited := strings.Replace(string(adaCard), "END:VCARD", "NOTE:2026-11-25 read through a link\r\nEND:VCARD", 1)
	os.WriteFile(adaOut, []byte(adaEdited), 0o600)
	os.WriteFile(eveOut, []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:eve\r\nFN:Eve Outsider\r\nEMAIL:eve@example.org\r\nEND:VCARD\r\n"), 0o600)
	// Kith's cards of Ada and Carol become a link out of the folder and a
	// FIFO; two names of the user's own are a FIFO and such a link.
	pipe, link := filepath.Join(merged, "pipe.vcf"), filepath.Join(merged, "link.vcf")
	for _, p := range []string{carol, pipe} {
		os.Remove(p)
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("no FIFO here: %v", err)
		}
	}
	os.Remove(ada)
	for from, to := range map[string]string{ada: adaOut, link: eveOut} {
		if err := os.Symlink(to, from); err != nil {
			t.Fatal(err)
		}
	}
	hostile := []string{ada, carol, pipe, link, adaOut, eveOut}
	before := map[string]string{}
	for _, p := range hostile {
		before[p] = entryState(t, p)
	}
	// Bob's source changes: his card must still be written.
	src := filepath.Join(dir, "addressbook/bob-miller.vcf")
	sb, _ := os.ReadFile(src)
	os.WriteFile(src, []byte(strings.Replace(string(sb), "END:VCARD", "TITLE:Carpenter\nEND:VCARD", 1)), 0o600)

	sum := syncWithin(t, cfg, 2*time.Minute, []string{carol, pipe})
	if b, _ := os.ReadFile(bob); !strings.Contains(string(b), "TITLE:Carpenter") {
		t.Errorf("Bob's card was not written beside the FIFOs and links (%s):\n%s", sum, b)
	}
	named := strings.Join(append(append([]string{}, sum.Errors...), sum.Skipped...), "\n")
	for _, p := range []string{ada, carol, pipe, link} {
		if !strings.Contains(named, filepath.Base(p)) {
			t.Errorf("the sync names neither among its errors nor its skipped items %s:\n%s", filepath.Base(p), named)
		}
	}
	for _, p := range hostile {
		if after := entryState(t, p); after != before[p] {
			t.Errorf("%s was changed:\n before %s\n after  %s", p, before[p], after)
		}
	}
	for name, body := range vcfFiles(t, merged) {
		if strings.Contains(body, "Eve Outsider") || strings.Contains(body, "read through a link") {
			t.Errorf("%s holds what only the files outside the folder hold:\n%s", name, body)
		}
	}
}

// syncWithin runs one sync at fixedNow and fails the test when it has not
// ended within d: a read that opened one of the FIFOs fifos blocks in the
// kernel, deaf to the context, until each is opened for writing, which
// the test then does to let it end.
func syncWithin(t *testing.T, cfg *Config, d time.Duration, fifos []string) *Summary {
	t.Helper()
	r, st := testRunner(t, cfg)
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	type result struct {
		sum *Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := r.Sync(ctx, st)
		done <- result{sum, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatalf("sync: %v", res.err)
		}
		return res.sum
	case <-time.After(d + 10*time.Second):
		for _, f := range fifos {
			if w, err := os.OpenFile(f, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
		}
		<-done
		t.Fatalf("the sync hangs: still running %s after its deadline", 10*time.Second)
		return nil
	}
}

// entryState describes the entry at path without opening anything that
// is no regular file: its type, and a link's target or a file's bytes.
func entryState(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		return "missing: " + err.Error()
	}
	s := fi.Mode().String()
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		l, _ := os.Readlink(path)
		s += " -> " + l
	case fi.Mode().IsRegular():
		b, _ := os.ReadFile(path)
		s += " " + string(b)
	}
	return s
}
