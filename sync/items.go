package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	gosync "sync"
)

// MemItems is an ItemStore in memory, optionally over another one: reads
// fall through to Base for boxes it has not changed, and changes stay in
// memory. Tests use it alone; a dry run puts it over the state so that
// nothing is written. It is safe for concurrent use.
type MemItems struct {
	// Base is read for boxes not changed here; nil means none.
	Base ItemStore

	mu    gosync.Mutex
	boxes map[string]map[string]*memBox // source → box → content; nil box = dropped
}

type memBox struct {
	cursor string
	items  map[string][]byte
}

// Cursors returns the cursors of source's boxes.
func (m *MemItems) Cursors(ctx context.Context, source string) (map[string]string, error) {
	out := map[string]string{}
	if m.Base != nil {
		base, err := m.Base.Cursors(ctx, source)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, base)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for box, b := range m.boxes[source] {
		if b == nil {
			delete(out, box)
		} else {
			out[box] = b.cursor
		}
	}
	return out, nil
}

// Items returns a box's items; the map is the caller's.
func (m *MemItems) Items(ctx context.Context, source, box string) (map[string][]byte, error) {
	m.mu.Lock()
	b, ok := m.boxes[source][box]
	if ok {
		defer m.mu.Unlock()
		if b == nil {
			return map[string][]byte{}, nil
		}
		return maps.Clone(b.items), nil
	}
	m.mu.Unlock()
	if m.Base == nil {
		return map[string][]byte{}, nil
	}
	return m.Base.Items(ctx, source, box)
}

// Update applies the changes in memory.
func (m *MemItems) Update(ctx context.Context, source string, changes ...BoxChange) error {
	// Boxes not yet copied from Base are read before the lock is taken.
	copies := map[string]*memBox{}
	for _, c := range changes {
		if c.Drop || c.Reset || m.has(source, c.Box) {
			continue
		}
		items := map[string][]byte{}
		cursor := ""
		if m.Base != nil {
			var err error
			if items, err = m.Base.Items(ctx, source, c.Box); err != nil {
				return err
			}
			curs, err := m.Base.Cursors(ctx, source)
			if err != nil {
				return err
			}
			cursor = curs[c.Box]
		}
		copies[c.Box] = &memBox{cursor: cursor, items: items}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.boxes == nil {
		m.boxes = map[string]map[string]*memBox{}
	}
	if m.boxes[source] == nil {
		m.boxes[source] = map[string]*memBox{}
	}
	for _, c := range changes {
		if c.Drop {
			m.boxes[source][c.Box] = nil
			continue
		}
		b := m.boxes[source][c.Box]
		if b == nil || c.Reset {
			b = copies[c.Box]
			if b == nil || c.Reset {
				b = &memBox{items: map[string][]byte{}}
			}
			m.boxes[source][c.Box] = b
		}
		for _, k := range c.Delete {
			delete(b.items, k)
		}
		for k, v := range c.Put {
			b.items[k] = v
		}
		b.cursor = c.Cursor
	}
	return nil
}

func (m *MemItems) has(source, box string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.boxes[source][box]
	return ok // a dropped box is known too: it starts empty
}

// Settle ends an IncrementalSource's Update: it drops the boxes of source
// that keep does not hold, and returns the source's version, a digest of
// tag (what in the source's options decides what counts) and of each
// remaining box's content (content of its cursor: the part that changes
// with what Load returns), in box order.
func Settle(ctx context.Context, store ItemStore, source string, keep func(box string) bool, tag string, content func(box, cursor string) string) (string, error) {
	curs, err := store.Cursors(ctx, source)
	if err != nil {
		return "", err
	}
	var drop []BoxChange
	for box := range curs {
		if !keep(box) {
			drop = append(drop, BoxChange{Box: box, Drop: true})
			delete(curs, box)
		}
	}
	if len(drop) > 0 {
		slices.SortFunc(drop, func(a, b BoxChange) int { return strings.Compare(a.Box, b.Box) })
		if err := store.Update(ctx, source, drop...); err != nil {
			return "", err
		}
	}
	v := sha256.New()
	fmt.Fprintln(v, tag)
	for _, box := range slices.Sorted(maps.Keys(curs)) {
		fmt.Fprintf(v, "%q %s\n", box, content(box, curs[box]))
	}
	return hex.EncodeToString(v.Sum(nil)), nil
}
