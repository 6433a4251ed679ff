package vdir

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"syscall"
	"testing"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
)

// person returns a card in kith's raw-value convention.
func person(uid, fn string, extra ...[2]string) vcard.Card {
	c := vcard.Card{}
	c.Add(vcard.FieldVersion, &vcard.Field{Value: "3.0"})
	c.Add(vcard.FieldUID, &vcard.Field{Value: uid})
	c.Add(vcard.FieldFormattedName, &vcard.Field{Value: card.EscapeText(fn)})
	for _, kv := range extra {
		c.Add(kv[0], &vcard.Field{Value: kv[1]})
	}
	return c
}

func newTarget(t *testing.T) (*Target, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	tg, err := NewTarget("out", dir, card.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return tg, dir
}

func mustPut(t *testing.T, tg *Target, href string, c vcard.Card, etag string) string {
	t.Helper()
	tag, err := tg.Put(context.Background(), href, c, etag)
	if err != nil {
		t.Fatalf("Put(%s): %v", href, err)
	}
	return tag
}

// dirNames returns the names in dir, to check that no temporary file is left.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// A folder that does not exist is made by the first write, not before: a
// folder gone missing must not come back empty just because kith started.
func TestFirstWriteCreatesPrivateFolder(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "b")
	tg, err := NewTarget("out", dir, card.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("NewTarget made the folder: %v", err)
	}
	if got, err := tg.List(ctx); err != nil || len(got) != 0 || !tg.Missing() {
		t.Fatalf("a missing folder lists %v, %v (missing: %v), want empty", got, err, tg.Missing())
	}
	if _, err := tg.Put(ctx, "x.vcf", person("x", "X"), ""); err != nil {
		t.Fatal(err)
	}
	if got, err := tg.List(ctx); err != nil || len(got) != 1 || tg.Missing() {
		t.Fatalf("after the first write the folder lists %v, %v (missing: %v)", got, err, tg.Missing())
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("target folder mode = %v, want a 0700 directory", fi.Mode())
	}
	if fi, err := os.Stat(filepath.Join(dir, "x.vcf")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("card file: %v, %v; want mode 0600", fi, err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTarget("out", file, card.Limits{}); err == nil {
		t.Fatal("NewTarget on a file succeeded")
	}
}

func TestPutGetListRoundTrip(t *testing.T) {
	ctx := context.Background()
	tg, dir := newTarget(t)
	alice := person("alice", "Alice Example", [2]string{"NOTE", `a\, b\; c\nd`}, [2]string{"TEL", "+1 555 0100"})

	tag := mustPut(t, tg, "alice.vcf", alice, "")
	list, err := tg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list["alice.vcf"] != tag {
		t.Fatalf("List = %v, want alice.vcf with the ETag Put returned (%s)", list, tag)
	}
	got, err := tg.Get(ctx, []string{"alice.vcf", "missing.vcf"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("Get returned %v, want only alice.vcf (missing ones left out)", slices.Sorted(maps.Keys(got)))
	}
	e := got["alice.vcf"]
	if e.ETag != tag {
		t.Errorf("Get ETag = %q, want %q", e.ETag, tag)
	}
	for _, f := range []string{"FN", "UID", "NOTE", "TEL"} {
		if e.Card.Value(f) != alice.Value(f) {
			t.Errorf("%s after round trip = %q, want %q", f, e.Card.Value(f), alice.Value(f))
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "alice.vcf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "BEGIN:VCARD\r\nVERSION:3.0\r\n") {
		t.Errorf("file does not start as a vCard 3.0:\n%s", data)
	}
	fi, _ := os.Stat(filepath.Join(dir, "alice.vcf"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("card file mode = %v, want 0600", fi.Mode().Perm())
	}

	// An update with the current ETag replaces the file and gives a new ETag.
	alice2 := person("alice", "Alice Example", [2]string{"TITLE", "Boss"})
	tag2 := mustPut(t, tg, "alice.vcf", alice2, tag)
	if tag2 == tag {
		t.Errorf("ETag unchanged after an update: %s", tag2)
	}
	got, _ = tg.Get(ctx, []string{"alice.vcf"})
	if got["alice.vcf"].Card.Value("TITLE") != "Boss" || got["alice.vcf"].ETag != tag2 {
		t.Errorf("after update Get = %+v, want TITLE Boss and ETag %s", got["alice.vcf"], tag2)
	}
	// The old ETag no longer matches.
	if _, err := tg.Put(ctx, "alice.vcf", alice, tag); !errors.Is(err, ksync.ErrConflict) {
		t.Errorf("Put with a stale ETag: error = %v, want ErrConflict", err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"alice.vcf"}) {
		t.Errorf("folder holds %v, want only alice.vcf (no temporary files)", names)
	}
}

func TestPutUnchangedKeepsFile(t *testing.T) {
	tg, dir := newTarget(t)
	c := person("u1", "Unchanged")
	tag := mustPut(t, tg, "u1.vcf", c, "")
	before, _ := os.Stat(filepath.Join(dir, "u1.vcf"))
	if got := mustPut(t, tg, "u1.vcf", c, tag); got != tag {
		t.Errorf("Put of the same card changed the ETag from %s to %s", tag, got)
	}
	after, _ := os.Stat(filepath.Join(dir, "u1.vcf"))
	if !os.SameFile(before, after) || !before.ModTime().Equal(after.ModTime()) {
		t.Error("Put of the same card rewrote the file")
	}
}

func TestCreateOnlyNeverReplaces(t *testing.T) {
	ctx := context.Background()
	tg, dir := newTarget(t)
	// Someone (khard, vdirsyncer) created the file after kith listed the folder.
	theirs := vcf("Theirs", "UID:x")
	writeFiles(t, dir, map[string]string{"x.vcf": theirs})
	if _, err := tg.Put(ctx, "x.vcf", person("x", "Ours"), ""); !errors.Is(err, ksync.ErrConflict) {
		t.Fatalf("create over an existing file: error = %v, want ErrConflict", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "x.vcf")); string(data) != theirs {
		t.Errorf("existing file was changed to:\n%s", data)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"x.vcf"}) {
		t.Errorf("folder holds %v, want only x.vcf", names)
	}
}

// TestCreateWithoutHardLinks: on a file system without hard links (vfat
// and exFAT on a USB stick or SD card, most FUSE mounts) a new card is
// still created, still never over a file someone else made, and still
// whole for any reader. The test's file system has hard links, so their
// absence is injected: link fails as vfat's does (EPERM), and with
// noReplace as a FUSE mount without RENAME_NOREPLACE does (EINVAL).
func TestCreateWithoutHardLinks(t *testing.T) {
	noLink := func(oldname, newname string) error {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
	}
	noReplace := func(oldname, newname string) error { return syscall.EINVAL }
	for name, fs := range map[string]struct{ link, noReplace func(string, string) error }{
		"no hard links":                      {link: noLink},
		"no hard links nor RENAME_NOREPLACE": {link: noLink, noReplace: noReplace},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tg, dir := newTarget(t)
			tg.link, tg.renameNoReplace = fs.link, fs.noReplace
			tag := mustPut(t, tg, "new.vcf", person("new", "New Person"), "")
			if data, err := os.ReadFile(filepath.Join(dir, "new.vcf")); err != nil || !strings.Contains(string(data), "FN:New Person") {
				t.Fatalf("new.vcf: %v\n%s", err, data)
			}
			if listed, err := tg.List(ctx); err != nil || listed["new.vcf"] != tag {
				t.Fatalf("List = %v, %v; want new.vcf with the ETag Put gave, %s", listed, err, tag)
			}
			theirs := vcf("Theirs", "UID:x")
			writeFiles(t, dir, map[string]string{"x.vcf": theirs})
			if _, err := tg.Put(ctx, "x.vcf", person("x", "Ours"), ""); !errors.Is(err, ksync.ErrConflict) {
				t.Fatalf("create over an existing file: error = %v, want ErrConflict", err)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "x.vcf")); string(data) != theirs {
				t.Errorf("existing file was changed to:\n%s", data)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"new.vcf", "x.vcf"}) {
				t.Errorf("folder holds %v, want only new.vcf and x.vcf", names)
			}
		})
	}
}

func TestConcurrentCreatesOneWins(t *testing.T) {
	tg, dir := newTarget(t)
	const n = 8
	errs := make([]error, n)
	var wg gosync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = tg.Put(context.Background(), "same.vcf", person("same", "Writer"), "")
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ksync.ErrConflict):
			t.Errorf("unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d creates succeeded, want exactly 1", won)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"same.vcf"}) {
		t.Errorf("folder holds %v, want only same.vcf", names)
	}
}

// TestEditBetweenListAndWrite checks that a change made by another program
// after kith listed the folder is never overwritten or deleted.
func TestEditBetweenListAndWrite(t *testing.T) {
	edits := map[string]func(t *testing.T, path string){
		"rewritten in place": func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(vcf("Edited by hand, longer now", "UID:c")), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"replaced by rename, same size": func(t *testing.T, path string) {
			old, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			edited := strings.Replace(string(old), "Carol", "Karol", 1)
			tmp := filepath.Join(filepath.Dir(path), ".edit.tmp")
			if err := os.WriteFile(tmp, []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		},
		"deleted": func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tg, dir := newTarget(t)
			mustPut(t, tg, "c.vcf", person("c", "Carol"), "")
			list, err := tg.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "c.vcf")
			edit(t, path)
			after, _ := os.ReadFile(path)

			if _, err := tg.Put(ctx, "c.vcf", person("c", "Carol", [2]string{"TITLE", "kith"}), list["c.vcf"]); !errors.Is(err, ksync.ErrConflict) {
				t.Errorf("Put after the file was %s: error = %v, want ErrConflict", name, err)
			}
			if err := tg.Delete(ctx, "c.vcf", list["c.vcf"]); !errors.Is(err, ksync.ErrConflict) {
				t.Errorf("Delete after the file was %s: error = %v, want ErrConflict", name, err)
			}
			if now, _ := os.ReadFile(path); string(now) != string(after) {
				t.Errorf("the other program's version was changed to:\n%s", now)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	tg, dir := newTarget(t)
	tag := mustPut(t, tg, "d.vcf", person("d", "Dora"), "")
	if err := tg.Delete(ctx, "d.vcf", ""); err == nil || errors.Is(err, ksync.ErrConflict) {
		t.Errorf("Delete without an ETag: error = %v, want a plain error", err)
	}
	if err := tg.Delete(ctx, "d.vcf", "1;2;3"); !errors.Is(err, ksync.ErrConflict) {
		t.Errorf("Delete with a wrong ETag: error = %v, want ErrConflict", err)
	}
	if err := tg.Delete(ctx, "d.vcf", tag); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("folder holds %v after Delete, want nothing", names)
	}
	if err := tg.Delete(ctx, "d.vcf", tag); !errors.Is(err, ksync.ErrConflict) {
		t.Errorf("Delete of a gone file: error = %v, want ErrConflict", err)
	}
}

func TestListSkipsForeignFiles(t *testing.T) {
	tg, dir := newTarget(t)
	writeFiles(t, dir, map[string]string{
		"a.vcf":          vcf("A"),
		".a.vcf.tmp":     vcf("temp"),
		".kith-123.tmp":  vcf("our temp"),
		"b.vcf~":         vcf("backup"),
		"readme.txt":     "hello",
		"sub/c.vcf":      vcf("in a subfolder"),
		"dir.vcf/":       "",
		"with..dots.vcf": vcf("unsafe name"),
	})
	list, err := tg.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(list)); !slices.Equal(got, []string{"a.vcf"}) {
		t.Errorf("List = %v, want [a.vcf]", got)
	}
}

func TestUnsafeHrefsRejected(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tg, err := NewTarget("out", dir, card.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, href := range []string{"", ".", "..", "../x.vcf", "sub/x.vcf", `sub\x.vcf`, "/etc/x.vcf", ".hidden.vcf", "a..vcf", "x\x00.vcf", "x\n.vcf", strings.Repeat("a", 300) + ".vcf"} {
		if _, err := tg.Put(ctx, href, person("x", "X"), ""); err == nil || errors.Is(err, ksync.ErrConflict) {
			t.Errorf("Put(%q): error = %v, want a rejection", href, err)
		}
		if _, err := tg.Get(ctx, []string{href}); err == nil {
			t.Errorf("Get(%q) succeeded, want a rejection", href)
		}
		if err := tg.Delete(ctx, href, "1;2;3"); err == nil || errors.Is(err, ksync.ErrConflict) {
			t.Errorf("Delete(%q): error = %v, want a rejection", href, err)
		}
	}
	for _, href := range []string{"3f2504e0-4f89-11d3-9a0c-0305e82c3301.vcf", "Zoë Ünal.vcf", "a.b.vcf"} {
		if err := checkHref(href); err != nil {
			t.Errorf("checkHref(%q) = %v, want nil", href, err)
		}
	}
	if names := dirNames(t, root); !slices.Equal(names, []string{"out"}) {
		t.Errorf("files written outside the target: %v", names)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("target holds %v, want nothing", names)
	}
}

func TestGetBrokenFileNamesIt(t *testing.T) {
	tg, dir := newTarget(t)
	writeFiles(t, dir, map[string]string{"bad.vcf": "BEGIN:VCARD\r\nFN:no end\r\n"})
	_, err := tg.Get(context.Background(), []string{"bad.vcf"})
	if err == nil || !strings.Contains(err.Error(), "bad.vcf") {
		t.Fatalf("Get of a broken file: error = %v, want one naming bad.vcf", err)
	}
}

// Writes in flight together share one commit, yet each keeps its own
// condition and outcome: a create over an existing file and an update
// from a stale ETag fail alone, the others land whole, and no temporary
// file is left.
func TestParallelWritesEachKeepTheirCondition(t *testing.T) {
	ctx := context.Background()
	tg, dir := newTarget(t)
	const n = 300
	tags := map[string]string{}
	for i := range n / 3 {
		href := fmt.Sprintf("old%03d.vcf", i)
		tags[href] = mustPut(t, tg, href, person(href, "Before"), "")
	}
	type write struct {
		href, etag, fn string
		conflict       bool
	}
	var writes []write
	for i := range n / 3 {
		old := fmt.Sprintf("old%03d.vcf", i)
		switch i % 3 {
		case 0: // an update from the right ETag
			writes = append(writes, write{href: old, etag: tags[old], fn: "After " + old})
		case 1: // an update from an ETag another program made stale
			writes = append(writes, write{href: old, etag: "1;1;1", fn: "Lost " + old, conflict: true})
		case 2: // a create over a file that exists
			writes = append(writes, write{href: old, fn: "Lost " + old, conflict: true})
		}
		for j := range 2 {
			href := fmt.Sprintf("new%03d-%d.vcf", i, j)
			writes = append(writes, write{href: href, fn: "New " + href})
		}
	}
	if tg.MaxParallel() < 2 {
		t.Fatalf("MaxParallel %d: writes are not batched", tg.MaxParallel())
	}
	errs := make([]error, len(writes))
	newTags := make([]string, len(writes))
	var wg gosync.WaitGroup
	for i, w := range writes {
		wg.Go(func() {
			newTags[i], errs[i] = tg.Put(ctx, w.href, person(w.href, w.fn), w.etag)
		})
	}
	wg.Wait()
	list, err := tg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range writes {
		if w.conflict {
			if !errors.Is(errs[i], ksync.ErrConflict) {
				t.Errorf("%s: %v, want ErrConflict", w.href, errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("%s: %v", w.href, errs[i])
			continue
		}
		if list[w.href] != newTags[i] {
			t.Errorf("%s: listed ETag %q, Put returned %q", w.href, list[w.href], newTags[i])
		}
		got, err := tg.Get(ctx, []string{w.href})
		if err != nil || card.Text(got[w.href].Card.Value(vcard.FieldFormattedName)) != w.fn {
			t.Errorf("%s: holds %v (%v), want %q", w.href, got[w.href].Card, err, w.fn)
		}
	}
	for _, name := range dirNames(t, dir) {
		if strings.HasPrefix(name, ".") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
	if len(list) != n/3+2*(n/3) {
		t.Errorf("%d files, want %d", len(list), n/3+2*(n/3))
	}
}

// Deletes in flight together with writes share their commit: each keeps
// its own condition (a stale ETag or a gone file is a conflict and touches
// nothing), the others are gone, the writes land whole, and the whole lot
// costs far fewer folder fsyncs than one a delete.
func TestParallelDeletesShareTheCommit(t *testing.T) {
	ctx := context.Background()
	tg, dir := newTarget(t)
	const n = 300
	tags := map[string]string{}
	for i := range n {
		href := fmt.Sprintf("c%03d.vcf", i)
		tags[href] = mustPut(t, tg, href, person(href, "Before "+href), "")
	}
	before := tg.dirSyncs.Load()
	type op struct {
		href, etag string
		put        bool
		conflict   bool
	}
	var ops []op
	for i := range n {
		href := fmt.Sprintf("c%03d.vcf", i)
		switch i % 5 {
		case 0, 1, 2: // a delete from the right ETag
			ops = append(ops, op{href: href, etag: tags[href]})
		case 3: // a delete from an ETag another program made stale
			ops = append(ops, op{href: href, etag: "1;1;1", conflict: true})
		case 4: // an update, in the same batches
			ops = append(ops, op{href: href, etag: tags[href], put: true})
		}
	}
	ops = append(ops, op{href: "gone.vcf", etag: "1;2;3", conflict: true})
	errs := make([]error, len(ops))
	var wg gosync.WaitGroup
	for i, o := range ops {
		wg.Go(func() {
			if o.put {
				_, errs[i] = tg.Put(ctx, o.href, person(o.href, "After "+o.href), o.etag)
			} else {
				errs[i] = tg.Delete(ctx, o.href, o.etag)
			}
		})
	}
	wg.Wait()
	syncs := tg.dirSyncs.Load() - before
	list, err := tg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range ops {
		_, there := list[o.href]
		switch {
		case o.conflict:
			if !errors.Is(errs[i], ksync.ErrConflict) {
				t.Errorf("%s: %v, want ErrConflict", o.href, errs[i])
			}
			if o.href != "gone.vcf" && list[o.href] != tags[o.href] {
				t.Errorf("%s: a delete that failed its condition changed the file", o.href)
			}
		case errs[i] != nil:
			t.Errorf("%s: %v", o.href, errs[i])
		case o.put:
			got, err := tg.Get(ctx, []string{o.href})
			if err != nil || card.Text(got[o.href].Card.Value(vcard.FieldFormattedName)) != "After "+o.href {
				t.Errorf("%s: holds %v (%v), want the update", o.href, got[o.href].Card, err)
			}
		case there:
			t.Errorf("%s: still there after its Delete returned", o.href)
		}
	}
	for _, name := range dirNames(t, dir) {
		if strings.HasPrefix(name, ".") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
	if want := int64(len(ops) / 4); syncs > want {
		t.Errorf("%d folder fsyncs for %d deletes and writes in flight together, want at most %d", syncs, len(ops), want)
	}
}
