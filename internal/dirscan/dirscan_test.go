package dirscan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
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

// Only regular files are read: a FIFO is reported without being opened
// (opening it would block), a link only when it stays in the folder, a file
// over MaxSize not at all.
func TestOnlyRegularFilesInsideAreRead(t *testing.T) {
	root := t.TempDir()
	w := &walker{dir: filepath.Join(root, "src"), max: 100}
	write(t, w.dir, "a.vcf", "a")
	write(t, w.dir, "sub/b.vcf", "b")
	write(t, root, "outside.vcf", "secret")
	write(t, w.dir, "big.vcf", strings.Repeat("x", 101))
	for link, target := range map[string]string{
		"in.vcf":        "sub/b.vcf",
		"out.vcf":       "../outside.vcf",
		"abs.vcf":       filepath.Join(root, "outside.vcf"),
		"dangling.vcf":  "nowhere.vcf",
		"loop.vcf":      "loop.vcf",
		"dir.vcf":       "sub",
		"viasub.vcf":    "sublink/b.vcf",
		"sublink":       "sub",
		"environ.vcf":   "/proc/self/environ",
		"outsub/x.vcf":  "../../outside.vcf",
		"back/in2.vcf":  "../a.vcf",
		"fifolink.vcf":  "pipe.vcf",
		"outdir":        root,
		"outdir2/y.vcf": "../outdir/outside.vcf",
	} {
		p := filepath.Join(w.dir, link)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(w.dir, "pipe.vcf"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan ksync.Snapshot)
	go func() { done <- w.read(t) }()
	var snap ksync.Snapshot
	select {
	case snap = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the walk blocked (on the FIFO?)")
	}
	if !slices.Equal(w.reads, []string{"a.vcf", "back/in2.vcf", "in.vcf", "sub/b.vcf", "viasub.vcf"}) {
		t.Errorf("read %v", w.reads)
	}
	why := map[string]string{}
	for _, p := range snap.Problems {
		why[p.ID] = p.Err.Error()
	}
	for id, want := range map[string]string{
		"out.vcf": "outside the folder", "abs.vcf": "outside the folder", "environ.vcf": "outside the folder",
		"outsub/x.vcf": "outside the folder", "outdir2/y.vcf": "outside the folder",
		"dangling.vcf": "symbolic link to nothing", "loop.vcf": "symbolic link to nothing",
		"dir.vcf": "a folder", "pipe.vcf": "a named pipe", "fifolink.vcf": "a named pipe",
		"big.vcf": "[limits] file_size",
	} {
		if !strings.Contains(why[id], want) {
			t.Errorf("%s: problem %q, want one saying %q", id, why[id], want)
		}
		delete(why, id)
	}
	if len(why) > 0 {
		t.Errorf("unexpected problems %v", why)
	}
	// Nothing changed: nothing read, nothing reported again.
	if snap := w.read(t); !snap.Empty() || len(w.reads) != 0 {
		t.Errorf("second walk: read %v, problems %v", w.reads, snap.Problems)
	}
	// A changed link target is a new version of the link.
	write(t, w.dir, "sub/b.vcf", "b2")
	if w.read(t); !slices.Equal(w.reads, []string{"in.vcf", "sub/b.vcf", "viasub.vcf"}) {
		t.Errorf("after the target changed: read %v", w.reads)
	}
}

// A file fixed by a chmod (same content, same mtime) is read again.
func TestChmodMakesAFileReadAgain(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	w := &walker{dir: t.TempDir()}
	write(t, w.dir, "a.vcf", "a")
	os.Chmod(filepath.Join(w.dir, "a.vcf"), 0)
	if snap := w.read(t); len(snap.Problems) != 1 {
		t.Fatalf("unreadable file: problems %v", snap.Problems)
	}
	os.Chmod(filepath.Join(w.dir, "a.vcf"), 0o600)
	if snap := w.read(t); len(snap.Problems) != 0 || len(snap.Records) != 1 {
		t.Fatalf("after chmod: records %v, problems %v", snap.Records, snap.Problems)
	}
}

// The folder itself may be a link: its files are read, and links inside it
// are judged against where it points.
func TestFolderThatIsALink(t *testing.T) {
	root := t.TempDir()
	write(t, root, "real/a.vcf", "a")
	os.Symlink("a.vcf", filepath.Join(root, "real", "b.vcf"))
	os.Symlink("real", filepath.Join(root, "src"))
	w := &walker{dir: filepath.Join(root, "src")}
	if snap := w.read(t); !slices.Equal(w.reads, []string{"a.vcf", "b.vcf"}) || len(snap.Problems) != 0 {
		t.Fatalf("read %v, problems %v", w.reads, snap.Problems)
	}
}

// Look lets through only a regular file within the size limit, without
// opening anything; Read reads no more than the limit of a file that grew
// since, nor a file swapped for another since the look.
func TestLookAndRead(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ok.vcf", "card")
	write(t, dir, "big.vcf", "a card too long")
	os.Symlink("ok.vcf", filepath.Join(dir, "link.vcf"))
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.vcf"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"ok.vcf": "", "big.vcf": "over the limit [limits] card_size", "link.vcf": "symbolic link",
		"pipe.vcf": "named pipe", ".": "a folder", "gone.vcf": "no such file",
	} {
		f, err := Look(filepath.Join(dir, name), 8, "card_size")
		if want == "" {
			if b, rerr := f.Read(); err != nil || rerr != nil || string(b) != "card" {
				t.Errorf("%s: Look %v, Read %q %v", name, err, b, rerr)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Look gives %v, want an error with %q", name, err, want)
		}
	}
	ok := filepath.Join(dir, "ok.vcf")
	f, err := Look(ok, 8, "card_size")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(ok, []byte("a card grown too long"), 0o600)
	if _, err := f.Read(); err == nil || !strings.Contains(err.Error(), "card_size") {
		t.Errorf("a file grown over the limit since the look reads: %v", err)
	}
	write(t, dir, "new.vcf", "card")
	os.Rename(filepath.Join(dir, "new.vcf"), ok)
	if _, err := f.Read(); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Errorf("a file replaced since the look reads: %v", err)
	}
}
