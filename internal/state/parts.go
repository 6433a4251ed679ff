package state

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"strings"
)

// A value of the cursors or meta table from bigValue bytes on is stored in
// parts (value_parts), cut where its content says (content-defined
// chunking, as backup tools cut files): a vdir source's cursor holds every
// file's stamp, 9 MB for 100,000 files, and the merge's possible
// duplicates can run to megabytes, yet a sync changes a few files or
// pairs. The row keeps the list of its parts' hashes; a change rewrites
// the parts it falls in and that list, not the value. A cut depends only
// on the 64 bytes before it, so an insertion or a removal moves the cuts
// near it and no others.
const (
	bigValue = 64 << 10
	partMin  = 2 << 10
	partMax  = 64 << 10
	// partCut is tested against the rolling hash's top bits: a cut every
	// 8 KiB on average.
	partCut  = (1<<13 - 1) << (64 - 13)
	hashSize = 16 // bytes of a part's SHA-256 kept as its name
)

// gearTable returns the rolling hash's byte values (splitmix64 from a fixed
// seed). Cuts need not stay the same across versions: parts are named by
// their content, and those no longer named are dropped.
func gearTable() *[256]uint64 {
	var g [256]uint64
	x := uint64(0x6b697468) // "kith"
	for i := range g {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		g[i] = z ^ z>>31
	}
	return &g
}

// cut splits v into parts of partMin to partMax bytes (the last may be
// shorter) where a rolling hash of the bytes before says so.
func cut(v string) []string {
	gear := gearTable()
	var parts []string
	for len(v) > 0 {
		end := min(len(v), partMax)
		var h uint64
		for i := 0; i < end; i++ {
			h = h<<1 + gear[v[i]]
			if i+1 >= partMin && h&partCut == 0 {
				end = i + 1
				break
			}
		}
		parts = append(parts, v[:end])
		v = v[end:]
	}
	return parts
}

func partHash(p string) [hashSize]byte {
	sum := sha256.Sum256([]byte(p))
	return [hashSize]byte(sum[:hashSize])
}

// partOwner names a value's parts in value_parts.
func partOwner(table, key string) string { return table + ":" + key }

// putValue writes one row of table (cursors or meta; keyCol and valueCol
// name its columns): a small value in the row itself, a big one in parts,
// of which only those not stored yet are written and those no longer part
// of it deleted.
func (w *writer) putValue(table, keyCol, valueCol, key, v string) error {
	owner := partOwner(table, key)
	if len(v) < bigValue {
		if err := w.exec("INSERT OR REPLACE INTO "+table+"("+keyCol+", "+valueCol+", parts) VALUES (?, ?, NULL)", key, v); err != nil {
			return err
		}
		return w.exec("DELETE FROM value_parts WHERE owner = ?", owner)
	}
	stored, err := w.partHashes(owner)
	if err != nil {
		return err
	}
	parts := cut(v)
	list := make([]byte, 0, hashSize*len(parts))
	keep := make(map[[hashSize]byte]bool, len(parts))
	for _, p := range parts {
		h := partHash(p)
		list = append(list, h[:]...)
		if keep[h] {
			continue
		}
		keep[h] = true
		if !stored[h] {
			if err := w.exec("INSERT INTO value_parts(owner, hash, data) VALUES (?, ?, ?)", owner, h[:], []byte(p)); err != nil {
				return err
			}
		}
	}
	for h := range stored {
		if !keep[h] {
			if err := w.exec("DELETE FROM value_parts WHERE owner = ? AND hash = ?", owner, h[:]); err != nil {
				return err
			}
		}
	}
	return w.exec("INSERT OR REPLACE INTO "+table+"("+keyCol+", "+valueCol+", parts) VALUES (?, '', ?)", key, list)
}

// deleteValue deletes one row of table and its parts.
func (w *writer) deleteValue(table, keyCol, key string) error {
	if err := w.exec("DELETE FROM "+table+" WHERE "+keyCol+" = ?", key); err != nil {
		return err
	}
	return w.exec("DELETE FROM value_parts WHERE owner = ?", partOwner(table, key))
}

// partHashes returns the hashes of the parts stored for owner.
func (w *writer) partHashes(owner string) (map[[hashSize]byte]bool, error) {
	if err := w.wait(); err != nil {
		return nil, err
	}
	rows, err := w.tx.QueryContext(w.ctx, "SELECT hash FROM value_parts WHERE owner = ?", owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[hashSize]byte]bool{}
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		if len(h) == hashSize {
			out[[hashSize]byte(h)] = true
		}
	}
	return out, rows.Err()
}

// queryer is what joinParts reads with: the database or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// joinParts returns the value whose parts' hashes list holds, stored for
// the row key of table.
func joinParts(ctx context.Context, q queryer, table, key string, list []byte) (string, error) {
	if len(list)%hashSize != 0 {
		return "", fmt.Errorf("%s %q: list of parts of %d bytes", table, key, len(list))
	}
	rows, err := q.QueryContext(ctx, "SELECT hash, data FROM value_parts WHERE owner = ?", partOwner(table, key))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	parts := map[[hashSize]byte][]byte{}
	for rows.Next() {
		var h, data []byte
		if err := rows.Scan(&h, &data); err != nil {
			return "", err
		}
		if len(h) == hashSize {
			parts[[hashSize]byte(h)] = data
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	var b strings.Builder
	size := 0
	for i := 0; i < len(list); i += hashSize {
		size += len(parts[[hashSize]byte(list[i:i+hashSize])])
	}
	b.Grow(size)
	for i := 0; i < len(list); i += hashSize {
		p, ok := parts[[hashSize]byte(list[i:i+hashSize])]
		if !ok {
			return "", fmt.Errorf("%s %q: part %d of %d missing", table, key, i/hashSize+1, len(list)/hashSize)
		}
		b.Write(p)
	}
	return b.String(), nil
}
