package dirscan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ksync "kith/sync"
)

// walker reads a folder like a source whose files hold one record each
// ("bad" in the content makes a problem) and counts the files it read.
type walker struct {
	dir    string
	cursor string
	reads  []string
	max    int64
}

func (w *walker) read(t *testing.T) ksync.Snapshot {
	t.Helper()
	w.reads = nil
	opts := Options{Want: func(n string) bool { return strings.HasSuffix(n, ".vcf") }, MaxSize: w.max, SizeKey: "file_size"}
	snap, err := Read(context.Background(), "src", w.dir, w.cursor, opts,
		func(b []byte, _ time.Time, id string, snap *ksync.Snapshot) {
			w.reads = append(w.reads, id)
			if strings.Contains(string(b), "bad") {
				snap.Problems = append(snap.Problems, ksync.Problem{Source: "src", ID: id, Err: errors.New("bad")})
				return
			}
			for i, part := range strings.Split(string(b), "|") {
				rid := id
				if strings.Contains(string(b), "|") {
					rid = id + "#" + string(rune('1'+i))
				}
				snap.Records = append(snap.Records, ksync.Record{Source: "src", ID: rid, Hash: part})
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	w.cursor = snap.Cursor
	slices.Sort(w.reads)
	return snap
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	// A distinct modification time even on coarse file systems.
	mt := time.Now().Add(time.Duration(len(content)) * time.Second)
	os.Chtimes(p, mt, mt)
}

func TestIncrementalWalk(t *testing.T) {
	w := &walker{dir: t.TempDir()}
	write(t, w.dir, "a.vcf", "a")
	write(t, w.dir, "sub/b.vcf", "b")
	write(t, w.dir, "multi.vcf", "m1|m2|m3")
	write(t, w.dir, ".hidden.vcf", "h")

	snap := w.read(t)
	if !snap.Full || len(snap.Records) != 5 || !slices.Equal(w.reads, []string{"a.vcf", "multi.vcf", "sub/b.vcf"}) {
		t.Fatalf("first walk: full %v, %d records, read %v", snap.Full, len(snap.Records), w.reads)
	}
	snap = w.read(t)
	if snap.Full || len(snap.Records)+len(snap.Deleted) != 0 || len(w.reads) != 0 {
		t.Fatalf("no-change walk read %v, gave %d records, %v deleted", w.reads, len(snap.Records), snap.Deleted)
	}
	write(t, w.dir, "multi.vcf", "m1|m2x")
	os.Remove(filepath.Join(w.dir, "sub/b.vcf"))
	write(t, w.dir, "c.vcf", "c")
	snap = w.read(t)
	if !slices.Equal(w.reads, []string{"c.vcf", "multi.vcf"}) || len(snap.Records) != 3 ||
		!slices.Equal(snap.Deleted, []string{"multi.vcf#3", "sub/b.vcf"}) {
		t.Fatalf("after changes: read %v, %d records, deleted %v", w.reads, len(snap.Records), snap.Deleted)
	}
}

func TestProblemFileIsReportedOnceAndNotTakenForGone(t *testing.T) {
	w := &walker{dir: t.TempDir()}
	write(t, w.dir, "a.vcf", "a1|a2")
	w.read(t)
	write(t, w.dir, "a.vcf", "bad, half written")
	if snap := w.read(t); len(snap.Problems) != 1 || len(snap.Deleted) != 0 || !slices.Equal(w.reads, []string{"a.vcf"}) {
		t.Fatalf("bad file: problems %v, deleted %v, read %v", snap.Problems, snap.Deleted, w.reads)
	}
	// The same version again: neither read nor reported, nor taken for gone.
	if snap := w.read(t); !snap.Empty() || len(w.reads) != 0 {
		t.Fatalf("unchanged bad file: problems %v, deleted %v, read %v", snap.Problems, snap.Deleted, w.reads)
	}
	write(t, w.dir, "a.vcf", "a1") // one card now: its ID is the path alone
	if snap := w.read(t); !slices.Equal(snap.Deleted, []string{"a.vcf#1", "a.vcf#2"}) || len(snap.Records) != 1 || snap.Records[0].ID != "a.vcf" {
		t.Fatalf("fixed: deleted %v, records %v", snap.Deleted, snap.Records)
	}
}

func TestUnreadableFolderKeepsItsFiles(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every folder")
	}
	w := &walker{dir: t.TempDir()}
	write(t, w.dir, "sub/a.vcf", "a")
	w.read(t)
	os.Chmod(filepath.Join(w.dir, "sub"), 0)
	defer os.Chmod(filepath.Join(w.dir, "sub"), 0o700)
	if snap := w.read(t); len(snap.Deleted) != 0 || len(snap.Problems) != 1 {
		t.Fatalf("unreadable folder: deleted %v, problems %v", snap.Deleted, snap.Problems)
	}
}

func TestBadCursorMeansFullRead(t *testing.T) {
	w := &walker{dir: t.TempDir(), cursor: "{not json"}
	write(t, w.dir, "a.vcf", "a")
	if snap := w.read(t); !snap.Full || len(snap.Records) != 1 {
		t.Fatalf("full %v, records %d", snap.Full, len(snap.Records))
	}
}
