package sync

import (
	"context"
	"strings"
	"testing"
)

// Settle drops the boxes not kept, and its version moves with the kept
// boxes' content and the tag, not with the rest of their cursors.
func TestSettle(t *testing.T) {
	ctx := context.Background()
	store := &MemItems{}
	content := func(_, cur string) string { c, _, _ := strings.Cut(cur, "|"); return c }
	put := func(box, cursor string) {
		t.Helper()
		if err := store.Update(ctx, "src", BoxChange{Box: box, Cursor: cursor, Put: map[string][]byte{"k": []byte(box)}}); err != nil {
			t.Fatal(err)
		}
	}
	settle := func(tag string, keep ...string) string {
		t.Helper()
		v, err := Settle(ctx, store, "src", func(box string) bool {
			for _, k := range keep {
				if k == box {
					return true
				}
			}
			return false
		}, tag, content)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	put("a", "1|x")
	put("b", "2|x")
	put("gone", "3|x")
	v1 := settle("t", "a", "b")
	if curs, _ := store.Cursors(ctx, "src"); len(curs) != 2 || curs["gone"] != "" {
		t.Errorf("cursors after settling %q, want a and b", curs)
	}
	for _, tt := range []struct {
		name   string
		change func()
		tag    string
		same   bool
	}{
		{"nothing", func() {}, "t", true},
		{"cursor outside the content", func() { put("a", "1|y") }, "t", true},
		{"content", func() { put("a", "9|y") }, "t", false},
		{"tag", func() {}, "u", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.change()
			if v := settle(tt.tag, "a", "b"); (v == v1) != tt.same {
				t.Errorf("version %s, first %s: want same=%v", v, v1, tt.same)
			}
			put("a", "1|x")
		})
	}
}
