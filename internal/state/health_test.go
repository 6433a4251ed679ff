package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ksync "kith/sync"
	"kith/sync/card"
)

// savedState makes a state folder holding a saved kith database of n
// records, closed (so its write-ahead log is folded in), and returns it.
func savedState(t *testing.T, dir string, n int) string {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s := sampleState()
	for i := range n {
		r := ksync.Record{Source: "book", ID: fmt.Sprintf("%04d.vcf", i), Card: testCard(fmt.Sprintf("Person %d %s", i, strings.Repeat("x", 200)))}
		r.Hash = card.Hash(r.Card)
		s.Records[r.Key()] = &ksync.StoredRecord{Record: r, UID: "kith-1"}
	}
	s.Targets["people"]["gone.vcf"] = &ksync.TargetEntry{UID: "kith-gone", ETag: "e", Hash: "h", Deleted: true}
	if err := st.Save(ctx, nil, s, Run{}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// An existing file that is not a whole kith database is refused, and left
// as it was: kith never starts afresh over a state it cannot read, which
// would bring back every card the user deleted and forget every decision.
func TestOpenRefusesWhatIsNotAKithDatabase(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, dir string)
		want string
	}{
		{"empty file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, FileName), nil, 0o600)
		}, "is empty (0 bytes)"},
		{"text file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, FileName), []byte("not a database at all\n"), 0o600)
		}, "not an SQLite database"},
		{"truncated", func(t *testing.T, dir string) {
			savedState(t, dir, 300)
			path := filepath.Join(dir, FileName)
			fi, _ := os.Stat(path)
			if err := os.Truncate(path, fi.Size()/2/4096*4096); err != nil {
				t.Fatal(err)
			}
		}, "is truncated"},
		{"another program's database", func(t *testing.T, dir string) {
			db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("CREATE TABLE notes (body TEXT)"); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, "not a kith state"},
		{"write-ahead log without its database", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, FileName+"-wal"), []byte("frames of a lost database"), 0o600)
		}, "is missing but its write-ahead log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.make(t, dir)
			before := snapshotDir(t, dir)
			st, err := Open(context.Background(), dir)
			if err == nil {
				st.Close()
				t.Fatalf("Open accepted it (a first run over the user's state)")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "move it") && !strings.Contains(err.Error(), "move the log") {
				t.Errorf("error %q, want %q and what to do", err, tt.want)
			}
			if after := snapshotDir(t, dir); after != before {
				t.Errorf("the refused state folder changed:\nbefore %s\nafter  %s", before, after)
			}
			if _, err := Inspect(context.Background(), dir); err == nil || errors.Is(err, ErrNoDatabase) {
				t.Errorf("Inspect found it fine: %v", err)
			}
		})
	}
}

// snapshotDir describes every file in dir with its content's hash.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s:%x ", e.Name(), sha256.Sum256(data))
	}
	return b.String()
}

// A new state is made whole under a temporary name: what stands at kith.db
// is always a kith database, and a leftover of a crashed creation goes.
func TestOpenCreatesWholeDatabase(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName+".new"), []byte("half a creation"), 0o600)
	st, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := os.Stat(filepath.Join(dir, FileName+".new")); err == nil {
		t.Error("kith.db.new left behind")
	}
	h, err := Inspect(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != len(migrations) {
		t.Errorf("new database at schema version %d, want %d", h.Version, len(migrations))
	}
	if _, err := Inspect(context.Background(), t.TempDir()); !errors.Is(err, ErrNoDatabase) {
		t.Errorf("Inspect of an empty folder: %v, want ErrNoDatabase", err)
	}
}

// Open no longer asks for WAL (the file keeps it from its creation): a
// reopened state still writes ahead on every connection, so a reader (a
// phone served by the embedded server) never waits for a sync's commit.
func TestReopenedStateWritesAhead(t *testing.T) {
	ctx := context.Background()
	dir := savedState(t, t.TempDir(), 3)
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.DB().SetMaxIdleConns(0) // every query below on a new connection
	for i := range 2 {
		var mode string
		if err := st.DB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Errorf("connection %d: journal mode %q, want wal", i, mode)
		}
	}
}

// kith check runs quick_check: damage inside the file, which opening
// alone does not notice, is reported.
func TestInspectFindsDamage(t *testing.T) {
	dir := savedState(t, t.TempDir(), 300)
	h, err := Inspect(context.Background(), dir)
	if err != nil {
		t.Fatalf("a whole state: %v", err)
	}
	if h.Records != 301 || h.Contacts != 1 || h.Tombstones != 1 {
		t.Errorf("Inspect counted %+v", h)
	}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Scribble over every page but the first (the schema), as a bad disk would.
	for off := 4096; off+64 < len(data); off += 4096 {
		copy(data[off+8:], bytes.Repeat([]byte{0xA5}, 48))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Inspect(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Inspect of a damaged state: %v, want it reported damaged", err)
	}
}

// A read-only state is refused at once, with a message saying so, rather
// than every sync failing at its end.
func TestOpenRefusesReadOnlyState(t *testing.T) {
	var dir string
	if os.Geteuid() == 0 {
		// Permissions do not stop root: a read-only file system does.
		dir = mountTmpfs(t, "4m")
		savedState(t, dir, 10)
		if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
			t.Skipf("cannot remount read-only: %v %s", err, out)
		}
	} else {
		dir = savedState(t, t.TempDir(), 10)
		os.Chmod(filepath.Join(dir, FileName), 0o400)
		os.Chmod(dir, 0o500)
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
	}
	st, err := Open(context.Background(), dir)
	if err == nil {
		st.Close()
		t.Fatal("Open accepted a read-only state")
	}
	if !strings.Contains(err.Error(), "read-only") {
		t.Errorf("error %q, want it to say read-only", err)
	}
	if _, err := Inspect(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Inspect: %v, want read-only", err)
	}
}

// mountTmpfs mounts a tmpfs of size on a new folder for the test, or skips
// when this process may not mount (not root, or a container without
// CAP_SYS_ADMIN): a small file system is the only honest full disk.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if _, err := exec.LookPath("mount"); err != nil {
		t.Skip("no mount program")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file into dir until the disk is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	small := make([]byte, 512)
	for {
		if _, err := f.Write(small); err != nil {
			return path
		}
	}
}

// After the disk filled up, syncs and the server's writes work again as
// soon as space returns, without a restart: the write-ahead log is
// checkpointed after every sync and capped, so it neither keeps the disk
// full nor grows back into the space that was freed.
func TestFullDiskThenSpaceReturns(t *testing.T) {
	ctx := context.Background()
	dir := mountTmpfs(t, "3m")
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	prev := ksync.NewState()
	round := 0
	// One sync: one record changed, saved, checkpointed; then a phone's
	// write to the embedded server's book between syncs.
	sync := func() error {
		round++
		next := sampleState()
		r := ksync.Record{Source: "book", ID: "anna.vcf", Card: testCard(fmt.Sprintf("Anna %d %s", round, strings.Repeat("n", 6000)))}
		r.Hash = card.Hash(r.Card)
		next.Records[r.Key()] = &ksync.StoredRecord{Record: r, UID: "kith-1"}
		if err := st.Save(ctx, prev, next, Run{Started: time.Now(), Finished: time.Now()}); err != nil {
			return err
		}
		prev = next
		if err := st.Checkpoint(ctx); err != nil {
			return err
		}
		_, err := st.DB().ExecContext(ctx, "INSERT OR REPLACE INTO dav_meta(key, value) VALUES ('phone', ?)", strings.Repeat(fmt.Sprint(round), 3000))
		return err
	}
	for range 20 {
		if err := sync(); err != nil {
			t.Fatalf("sync %d before the disk filled: %v", round, err)
		}
	}
	filler := fill(t, dir)
	if err := sync(); err == nil {
		t.Fatal("a sync on a full disk succeeded; the test's disk is not full")
	} else if !strings.Contains(err.Error(), "full") {
		t.Errorf("sync on a full disk: %v, want the disk named full", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := sync(); err != nil {
			t.Fatalf("sync %d after space returned: %v", i+1, err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, FileName+"-wal"))
	if err == nil && fi.Size() > walLimit {
		t.Errorf("write-ahead log is %d bytes, above its cap %d", fi.Size(), walLimit)
	}
	got, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 1 {
		t.Errorf("%d records after the syncs, want 1", len(got.Records))
	}
}
