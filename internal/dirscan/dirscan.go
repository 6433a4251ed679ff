// Package dirscan reads a folder source incrementally: it walks the folder,
// reads only the files that changed since the last walk (by modification
// time, size and inode, the way vdirsyncer's filesystem storage tells), and
// says which records are gone. The cursor kith stores with the records
// remembers each file's stamp and the record IDs it gave.
package dirscan

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"kith/internal/fsname"
	ksync "kith/sync"
)

// cursor is what a walk remembers, stored as JSON in the Snapshot's Cursor.
type cursor struct {
	Version int              `json:"v"`
	Files   map[string]entry `json:"files"`
}

// entry is one file as the last walk saw it.
type entry struct {
	Stamp string   `json:"s"`
	IDs   []string `json:"ids"`
}

const version = 1

// ReadFunc reads the file at path (id is its slash-separated path relative
// to the folder) and appends its records and problems to snap.
type ReadFunc func(path, id string, snap *ksync.Snapshot)

// Read walks dir for source name. want says which file names hold cards.
// With an empty or unusable cursor every file is read and the snapshot is
// Full; otherwise only new and changed files are read, and the snapshot
// lists the records gone. A file that gave a problem is read again on every
// walk, so its problem is reported until it is fixed.
func Read(ctx context.Context, name, dir, prev string, want func(name string) bool, read ReadFunc) (ksync.Snapshot, error) {
	var old cursor
	full := prev == "" || json.Unmarshal([]byte(prev), &old) != nil || old.Version != version
	if full {
		old = cursor{}
	}
	next := cursor{Version: version, Files: map[string]entry{}}
	snap := ksync.Snapshot{Source: name, Full: full}
	var badDirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if path == dir {
			return err // the folder itself: unreadable means the source is
		}
		rel, rerr := filepath.Rel(dir, path)
		if rerr != nil {
			return rerr
		}
		id := filepath.ToSlash(rel)
		if fsname.Skip(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if err != nil {
			// An unreadable subfolder: report it, keep what it held, go on.
			snap.Problems = append(snap.Problems, ksync.Problem{Source: name, ID: id, Err: fmt.Errorf("reading folder: %w", err)})
			badDirs = append(badDirs, id+"/")
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !want(d.Name()) {
			return nil
		}
		stamp := ""
		if fi, err := d.Info(); err == nil {
			stamp = Stamp(fi)
		}
		if e, ok := old.Files[id]; ok && stamp != "" && e.Stamp == stamp {
			next.Files[id] = e // unchanged: not read
			return nil
		}
		nrec, nprob := len(snap.Records), len(snap.Problems)
		read(path, id, &snap)
		e := entry{Stamp: stamp}
		for _, r := range snap.Records[nrec:] {
			e.IDs = append(e.IDs, r.ID)
		}
		if len(snap.Problems) == nprob && stamp != "" {
			next.Files[id] = e
		} else {
			// Read again next time; keep the IDs it had so none is taken for gone.
			e.Stamp = ""
			e.IDs = union(e.IDs, old.Files[id].IDs)
			next.Files[id] = e
		}
		return nil
	})
	if err != nil {
		return ksync.Snapshot{}, err
	}
	if !full {
		for id, e := range old.Files {
			n, seen := next.Files[id]
			if !seen && slices.ContainsFunc(badDirs, func(p string) bool { return strings.HasPrefix(id, p) }) {
				next.Files[id] = e // behind an unreadable folder: not gone
				continue
			}
			for _, rid := range e.IDs {
				if !slices.Contains(n.IDs, rid) {
					snap.Deleted = append(snap.Deleted, rid)
				}
			}
		}
		slices.Sort(snap.Deleted)
	}
	b, err := json.Marshal(next)
	if err != nil {
		return ksync.Snapshot{}, err
	}
	snap.Cursor = string(b)
	return snap, nil
}

// Stamp is a file's version: modification time, size and, where the system
// has one, inode. Editors that replace a file by rename change the inode.
func Stamp(fi fs.FileInfo) string {
	return fmt.Sprintf("%d;%d%s", fi.ModTime().UnixNano(), fi.Size(), inode(fi))
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
