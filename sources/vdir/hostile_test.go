package vdir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ksync "kith/sync"
	"kith/sync/card"
)

// What lies in the target folder under a card's name but is no card file
// kith may read (a FIFO, a link leading elsewhere, a file over the card
// size limit) is listed, named by Get as a card that cannot be read, never
// opened (a FIFO would hang the sync), and never replaced or removed, nor
// is what a link leads to touched; the card beside it reads as before.
func TestTargetHostileFiles(t *testing.T) {
	const limit = 4096
	ok := string(card.EncodeBytes(card.ToV3(person("ok", "Ok Person"))))
	for _, tc := range []struct {
		name string
		// make puts the hostile entry at path; outside is a folder beside
		// the target's, holding a card file "secret.vcf".
		make func(t *testing.T, path, outside string)
		want string // in Get's error
	}{
		{"fifo", func(t *testing.T, path, _ string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skipf("no FIFO here: %v", err)
			}
		}, "named pipe"},
		{"link to a file outside", func(t *testing.T, path, outside string) {
			mustSymlink(t, filepath.Join(outside, "secret.vcf"), path)
		}, "symbolic link"},
		{"link to a folder", func(t *testing.T, path, outside string) {
			mustSymlink(t, outside, path)
		}, "symbolic link"},
		{"link to a card inside", func(t *testing.T, path, _ string) {
			mustSymlink(t, "ok.vcf", path)
		}, "symbolic link"},
		{"oversized", func(t *testing.T, path, _ string) {
			big := strings.Replace(ok, "END:VCARD", "NOTE:"+strings.Repeat("x", 2*limit)+"\r\nEND:VCARD", 1)
			if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "card_size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir, outside := filepath.Join(root, "out"), filepath.Join(root, "outside")
			for _, d := range []string{dir, outside} {
				if err := os.Mkdir(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			secret := person("secret", "Secret Person")
			secretPath := filepath.Join(outside, "secret.vcf")
			if err := os.WriteFile(secretPath, card.EncodeBytes(secret), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "ok.vcf"), []byte(ok), 0o600); err != nil {
				t.Fatal(err)
			}
			bad := filepath.Join(dir, "bad.vcf")
			tc.make(t, bad, outside)
			badBefore := snapshotEntry(t, bad)
			secretBefore := snapshotEntry(t, secretPath)
			tg, err := NewTarget("out", dir, card.Limits{Size: limit})
			if err != nil {
				t.Fatal(err)
			}

			listing := within(t, bad, func(ctx context.Context) map[string]string {
				l, err := tg.List(ctx)
				if err != nil {
					t.Fatalf("List: %v", err)
				}
				return l
			})
			if _, listed := listing["bad.vcf"]; !listed || len(listing) != 2 {
				t.Errorf("listing %v, want ok.vcf and bad.vcf (what is not read must still be named)", listing)
			}
			got := within(t, bad, func(ctx context.Context) error {
				_, err := tg.Get(ctx, []string{"ok.vcf", "bad.vcf"})
				return err
			})
			if got == nil || !strings.Contains(got.Error(), "bad.vcf") || !strings.Contains(got.Error(), tc.want) {
				t.Errorf("Get of both: %v, want an error naming bad.vcf and %q", got, tc.want)
			}
			if errors.Is(got, context.DeadlineExceeded) {
				t.Errorf("Get of both ran into the deadline: %v", got)
			}
			one := within(t, bad, func(ctx context.Context) map[string]ksync.Entry {
				m, err := tg.Get(ctx, []string{"ok.vcf"})
				if err != nil {
					t.Errorf("Get(ok.vcf) beside %s: %v", tc.name, err)
				}
				return m
			})
			if e := one["ok.vcf"]; e.Card == nil || e.ETag != listing["ok.vcf"] {
				t.Errorf("the card beside it: %+v, want it read with the listed ETag %q", e, listing["ok.vcf"])
			}

			// Neither a write (as an update with the listed ETag, or as a
			// create) nor a delete touches it or what it leads to.
			within(t, bad, func(ctx context.Context) error {
				if _, err := tg.Put(ctx, "bad.vcf", person("bad", "Kith Wrote This"), listing["bad.vcf"]); err == nil {
					t.Errorf("Put over it with its listed ETag succeeded")
				}
				if _, err := tg.Put(ctx, "bad.vcf", person("bad", "Kith Wrote This"), ""); !errors.Is(err, ksync.ErrConflict) {
					t.Errorf("Put creating it: %v, want ErrConflict", err)
				}
				if err := tg.Delete(ctx, "bad.vcf", listing["bad.vcf"]); err == nil {
					t.Errorf("Delete of it with its listed ETag succeeded")
				}
				return nil
			})
			if after := snapshotEntry(t, bad); after != badBefore {
				t.Errorf("it was changed:\n before %s\n after  %s", badBefore, after)
			}
			if after := snapshotEntry(t, secretPath); after != secretBefore {
				t.Errorf("the file outside the folder was changed:\n before %s\n after  %s", secretBefore, after)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "ok.vcf")); err != nil || string(b) != ok {
				t.Errorf("the card beside it was changed: %q %v", b, err)
			}
		})
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// snapshotEntry describes the entry at path as it is, links not followed:
// its type, mode, size, time and inode, what a link says, a file's bytes.
func snapshotEntry(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		return "missing: " + err.Error()
	}
	s := fi.Mode().String() + " " + etagOf(fi)
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

// within runs f with a context that ends in 10 seconds, and fails the test
// when f has not returned 5 seconds after that: a read that opened the FIFO
// fifo blocks in the kernel, deaf to the context. The FIFO is then opened
// for writing once, which lets such a read go on.
func within[T any](t *testing.T, fifo string, f func(ctx context.Context) T) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan T, 1)
	go func() { done <- f(ctx) }()
	select {
	case v := <-done:
		return v
	case <-time.After(15 * time.Second):
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatalf("still running 5 s after its deadline: it hangs (on the FIFO?)")
		panic("unreachable")
	}
}
