package vdir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
)

// vcf returns the text of a small vCard 3.0 with the given extra lines.
func vcf(fn string, extra ...string) string {
	lines := append([]string{"BEGIN:VCARD", "VERSION:3.0", "FN:" + fn}, extra...)
	lines = append(lines, "END:VCARD", "")
	return strings.Join(lines, "\r\n")
}

// writeFiles creates files under dir; a name ending in "/" is a folder.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewSourceRejectsMissingOrFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.vcf")
	writeFiles(t, dir, map[string]string{"file.vcf": vcf("A")})
	for _, tc := range []struct{ name, dir, want string }{
		{"missing", filepath.Join(dir, "nope"), "nope"},
		{"file", file, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSource("book", tc.dir, card.Limits{}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"book"`) {
				t.Fatalf("NewSource(%s) error = %v, want one naming the source and %q", tc.dir, err, tc.want)
			}
		})
	}
}

func TestReadWalksFolderAndSkipsTempFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"alice.vcf":                 vcf("Alice", "REV:20240102T030405Z"),
		"contacts/bob.vcf":          vcf("Bob", "REV:2024-03-04T05:06:07+01:00"),
		"contacts/dup-of-alice.vcf": vcf("Alice", "REV:20240102T030405Z"),
		"carol.vcf":                 vcf("Carol"),
		"UPPER.VCF":                 vcf("Upper"),
		"broken.vcf":                "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Half\r\n",
		"notes.txt":                 "not a card",
		".hidden.vcf":               vcf("Hidden"),
		".git/x.vcf":                vcf("In hidden folder"),
		"contacts/.alice.vcf.tmp":   vcf("vdirsyncer temp"),
		"alice.vcf~":                vcf("backup"),
		"alice.vcf.swp":             vcf("swap"),
		"download.vcf.part":         vcf("part"),
		"x.vcf.TMP":                 vcf("tmp"),
		"empty/":                    "",
	})
	mtime := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "carol.vcf"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone.vcf"), filepath.Join(dir, "dangling.vcf")); err != nil {
		t.Fatal(err)
	}

	src, err := NewSource("book", dir, card.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := src.Read(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Full || snap.Source != "book" {
		t.Errorf("snapshot Full=%v Source=%q, want a full snapshot of \"book\"", snap.Full, snap.Source)
	}

	want := []struct {
		id, fn string
		seen   time.Time
	}{
		{"UPPER.VCF", "Upper", time.Time{}},
		{"alice.vcf", "Alice", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"carol.vcf", "Carol", mtime},
		{"contacts/bob.vcf", "Bob", time.Date(2024, 3, 4, 4, 6, 7, 0, time.UTC)},
		{"contacts/dup-of-alice.vcf", "Alice", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	if len(snap.Records) != len(want) {
		t.Fatalf("got %d records %v, want %d", len(snap.Records), recordIDs(snap.Records), len(want))
	}
	byID := map[string]ksync.Record{}
	for i, w := range want {
		r := snap.Records[i]
		byID[r.ID] = r
		if r.ID != w.id || r.Source != "book" {
			t.Errorf("record %d = %s:%s, want book:%s", i, r.Source, r.ID, w.id)
		}
		if got := r.Card.Value(vcard.FieldFormattedName); got != w.fn {
			t.Errorf("%s: FN = %q, want %q", r.ID, got, w.fn)
		}
		if r.Hash == "" {
			t.Errorf("%s: empty hash", r.ID)
		}
		if r.Scanned {
			t.Errorf("%s: Scanned set on a vdir record", r.ID)
		}
		if !w.seen.IsZero() && !r.Seen.Equal(w.seen) {
			t.Errorf("%s: Seen = %v, want %v", r.ID, r.Seen, w.seen)
		}
		if r.Seen.IsZero() {
			t.Errorf("%s: Seen is zero, want REV or mtime", r.ID)
		}
	}
	if a, d := byID["alice.vcf"], byID["contacts/dup-of-alice.vcf"]; a.Hash != d.Hash {
		t.Errorf("equal cards have different hashes %q and %q", a.Hash, d.Hash)
	}
	if b := byID["contacts/bob.vcf"]; b.Hash == byID["alice.vcf"].Hash {
		t.Errorf("different cards share hash %q", b.Hash)
	}

	wantProblems := map[string]string{"broken.vcf": "decoding", "dangling.vcf": "symbolic link"}
	if len(snap.Problems) != len(wantProblems) {
		t.Fatalf("problems = %v, want %v", snap.Problems, wantProblems)
	}
	for _, p := range snap.Problems {
		reason, ok := wantProblems[p.ID]
		if !ok || p.Source != "book" || !strings.Contains(p.Err.Error(), reason) {
			t.Errorf("problem %v, want one of %v", p, wantProblems)
		}
	}
}

func TestReadEmptyFolder(t *testing.T) {
	src, err := NewSource("book", t.TempDir(), card.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := src.Read(context.Background(), "")
	if err != nil || !snap.Full || len(snap.Records)+len(snap.Problems) != 0 {
		t.Fatalf("Read of an empty folder = %+v, %v; want an empty full snapshot", snap, err)
	}
}

func TestReadFolderRemovedAfterNew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "book")
	writeFiles(t, dir, map[string]string{"a.vcf": vcf("A")})
	src, err := NewSource("book", dir, card.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(context.Background(), ""); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Read of a removed folder: error = %v, want one naming %s", err, dir)
	}
}

func TestReadHonoursCancel(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.vcf": vcf("A"), "b.vcf": vcf("B")})
	src, err := NewSource("book", dir, card.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Read(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled context: error = %v, want context.Canceled", err)
	}
}

func recordIDs(recs []ksync.Record) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}
