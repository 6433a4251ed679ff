package state

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	ksync "kith/sync"
)

// A big cursor or meta value survives a save and a load whole, through
// every change: a few entries changed, grown, shrunk below bigValue,
// grown again, removed. A removed one leaves no part behind.
func TestBigValuesRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 30000
	states := []struct {
		name     string
		cur, pos string
	}{
		{"big", benchCursor(n, 0, ""), benchPossible(n, 0.5)},
		{"ten files changed", benchCursor(n, 10, "new"), benchPossible(n, 0.6)},
		{"files added", benchCursor(n+500, 10, "new"), benchPossible(n+500, 0.6)},
		{"small", "token-1", `[]`},
		{"big again", benchCursor(n, 0, ""), benchPossible(n, 0.5)},
		{"gone", "", ""},
	}
	prev := ksync.NewState()
	for _, s := range states {
		next := ksync.NewState()
		if s.cur != "" {
			next.Cursors["book"] = s.cur
			next.Meta[ksync.MetaPossible] = s.pos
		}
		if err := st.Save(ctx, prev, next, Run{}); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, err := st.Load(ctx)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got.Cursors["book"] != s.cur || got.Meta[ksync.MetaPossible] != s.pos {
			t.Errorf("%s: loaded cursor of %d bytes and possible duplicates of %d, saved %d and %d", s.name,
				len(got.Cursors["book"]), len(got.Meta[ksync.MetaPossible]), len(s.cur), len(s.pos))
		}
		if light, err := st.LoadLight(ctx); err != nil || light.Cursors["book"] != s.cur {
			t.Errorf("%s: light state's cursor of %d bytes (%v), saved %d", s.name, len(light.Cursors["book"]), err, len(s.cur))
		}
		prev = next
	}
	var parts int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM value_parts").Scan(&parts); err != nil || parts != 0 {
		t.Errorf("%d parts left (%v) once the values are gone", parts, err)
	}
}

// A save after a sync that changed ten files of a big folder writes about
// what changed, not the folder's whole cursor again (it was 9 MB on disk
// for every such sync of 100,000 files).
func TestSmallChangeToBigCursorWritesLittle(t *testing.T) {
	if bytesWritten() == 0 {
		t.Skip("no /proc/self/io here")
	}
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 30000
	prev := ksync.NewState()
	prev.Cursors["book"] = benchCursor(n, 0, "")
	if err := st.Save(ctx, nil, prev, Run{}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		next := ksync.NewState()
		next.Cursors["book"] = benchCursor(n, 10, fmt.Sprint("moved-", i))
		runtime.GC()
		w0 := bytesWritten()
		if err := st.Save(ctx, prev, next, Run{}); err != nil {
			t.Fatal(err)
		}
		if w := bytesWritten() - w0; w > int64(len(next.Cursors["book"])/10) {
			t.Errorf("save %d: %d bytes written for a cursor of %d in which ten files moved", i, w, len(next.Cursors["book"]))
		}
		prev = next
	}
}

// A state written before migration 12 keeps its big cursor in the row: it
// is read as it is, and the next change stores it in parts.
func TestBigCursorFromBeforePartsIsRead(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old := benchCursor(10000, 0, "")
	if _, err := st.DB().Exec("INSERT INTO cursors(source, cursor) VALUES ('book', ?)", old); err != nil {
		t.Fatal(err)
	}
	got, err := st.Cursors(ctx)
	if err != nil || got["book"] != old {
		t.Fatalf("cursor of %d bytes (%v), stored %d", len(got["book"]), err, len(old))
	}
	next := ksync.NewState()
	next.Cursors["book"] = benchCursor(10000, 3, "x")
	if err := st.Save(ctx, &ksync.State{Cursors: got}, next, Run{}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Cursors(ctx); err != nil || got["book"] != next.Cursors["book"] {
		t.Errorf("after a change: cursor of %d bytes (%v), saved %d", len(got["book"]), err, len(next.Cursors["book"]))
	}
}

// Parts are cut where the content says: they join into the value, stay
// within their bounds, and a change moves the cuts near it only.
func TestCut(t *testing.T) {
	v := benchCursor(20000, 0, "")
	a := cut(v)
	checkParts(t, v, a)
	if len(a) < len(v)/(16<<10) || len(a) > len(v)/(4<<10) {
		t.Errorf("%d parts for %d bytes, want about one each 8 KiB", len(a), len(v))
	}
	w := strings.Replace(v, `"card-010000.vcf"`, `"card-010000.vcf","card-010000-copy.vcf"`, 1)
	b := cut(w)
	checkParts(t, w, b)
	old := map[string]bool{}
	for _, p := range a {
		old[p] = true
	}
	fresh := 0
	for _, p := range b {
		if !old[p] {
			fresh++
		}
	}
	if fresh > 2 {
		t.Errorf("an insertion made %d new parts of %d, want at most 2", fresh, len(b))
	}
}

func checkParts(t *testing.T, v string, parts []string) {
	t.Helper()
	if strings.Join(parts, "") != v {
		t.Fatal("the parts do not join into the value")
	}
	for i, p := range parts {
		if len(p) > partMax || len(p) < partMin && i < len(parts)-1 {
			t.Errorf("part %d of %d has %d bytes", i, len(parts), len(p))
		}
	}
}

// FuzzCut: whatever the value, its parts join into it and keep their
// bounds.
func FuzzCut(f *testing.F) {
	f.Add([]byte(benchCursor(100, 0, "")))
	f.Add([]byte(strings.Repeat("a", 3*partMax+5)))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParts(t, string(b), cut(string(b)))
	})
}
