package sync

import (
	"context"
	"maps"
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
