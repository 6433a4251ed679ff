// Package dirscan reads a folder source incrementally: it walks the folder,
// reads only the files that changed since the last walk (by modification
// time, size and inode, the way vdirsyncer's filesystem storage tells), and
// says which records are gone. The cursor kith stores with the records
// remembers each file's stamp and the record IDs it gave.
package dirscan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"kith/internal/fsname"
	ksync "kith/sync"
	"kith/sync/card"
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
	// Bad says the file gave a problem at this stamp: it is read again
	// when it changes.
	Bad bool `json:"bad,omitempty"`
}

const version = 1

// ReadFunc turns the content of one file into records and problems,
// appended to snap. id is the file's slash-separated path relative to the
// folder, mtime its modification time.
type ReadFunc func(data []byte, mtime time.Time, id string, snap *ksync.Snapshot)

// Options say which files a walk reads, and how much of each.
type Options struct {
	// Want says which file names hold cards.
	Want func(name string) bool
	// MaxSize is the largest file read, in bytes; 0 means no limit. A
	// larger file is a Problem (a *card.LimitError naming SizeKey).
	MaxSize int64
	// SizeKey is MaxSize's key in the config file's [limits] table.
	SizeKey string
}

// Read walks dir for source name and reads the files opts want.
//
// Only regular files are read: a FIFO, socket or device with a wanted name
// is a Problem, never opened (opening a FIFO would block the sync). A
// symbolic link is followed only when its target, all links resolved, is a
// regular file inside dir; a link out of the folder (to /proc/self/environ,
// to a secret) is a Problem and its target is never opened. Folder links
// are not followed.
//
// With an empty or unusable cursor every file is read and the snapshot is
// Full; otherwise only new and changed files are read, and the snapshot
// lists the records gone. A file that gave a problem is not read again, nor
// its problem reported again, until it changes (or its permissions do);
// its records are kept, not taken for gone.
func Read(ctx context.Context, name, dir, prev string, opts Options, read ReadFunc) (ksync.Snapshot, error) {
	var old cursor
	full := prev == "" || json.Unmarshal([]byte(prev), &old) != nil || old.Version != version
	if full {
		old = cursor{}
	}
	// The folder itself may be a link (/srv/scans -> /mnt/disk/scans): walk
	// where it points, and judge links against that.
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return ksync.Snapshot{}, err
	}
	next := cursor{Version: version, Files: map[string]entry{}}
	snap := ksync.Snapshot{Source: name, Full: full}
	var badDirs []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if path == root {
			return err // the folder itself: unreadable means the source is
		}
		rel, rerr := filepath.Rel(root, path)
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
			snap.Problems = append(snap.Problems, ksync.Problem{Source: name, ID: id, Err: fmt.Errorf("reading folder: %w", unwrapPath(err))})
			badDirs = append(badDirs, id+"/")
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !opts.Want(d.Name()) {
			return nil
		}
		f := look(root, path, d, opts)
		if e, ok := old.Files[id]; ok && f.stamp != "" && e.Stamp == f.stamp {
			next.Files[id] = e // unchanged (good or bad): not read, nothing reported
			return nil
		}
		nrec, nprob := len(snap.Records), len(snap.Problems)
		if f.err == nil {
			var data []byte
			if data, f.err = f.Read(); f.err == nil {
				read(data, f.Info.ModTime().UTC(), id, &snap)
			}
		}
		if f.err != nil {
			snap.Problems = append(snap.Problems, ksync.Problem{Source: name, ID: id, Err: f.err})
		}
		e := entry{Stamp: f.stamp}
		for _, r := range snap.Records[nrec:] {
			e.IDs = append(e.IDs, r.ID)
		}
		if len(snap.Problems) > nprob {
			// Keep the IDs it had so none is taken for gone; read it again
			// once it changes.
			e.Bad = true
			e.IDs = union(e.IDs, old.Files[id].IDs)
		}
		next.Files[id] = e
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

// file is what look found out about a directory entry before reading it.
type file struct {
	File         // what to read: the entry, or its link's target
	stamp string // the entry's version; "" when it could not be told
	err   error  // why it is not read
}

// File is a regular file that Look (or a walk) found may be read, and how
// much of it.
type File struct {
	// Path is what is opened.
	Path string
	// Info is Path's Lstat: Read reads only that very file.
	Info    fs.FileInfo
	maxSize int64
	sizeKey string
}

// Look finds out what is at path without opening it or following a link,
// and whether it may be read: only a regular file of at most maxSize bytes
// (0: no limit) may. Anything else is an error saying what it is: a
// symbolic link (never followed, wherever it leads), a FIFO (opening it
// would block), a socket, a device, a folder; a larger file is a
// *card.LimitError naming sizeKey, the limit's key in [limits]. A path
// that does not exist gives an error that is fs.ErrNotExist.
func Look(path string, maxSize int64, sizeKey string) (File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return File{}, unwrapPath(err)
	}
	f := File{Path: path, Info: fi, maxSize: maxSize, sizeKey: sizeKey}
	return f, f.check()
}

// check refuses what f.Info says may not be read.
func (f File) check() error {
	m := f.Info.Mode()
	switch {
	case m&fs.ModeSymlink != 0:
		return errors.New("a symbolic link: not followed")
	case !m.IsRegular():
		return fmt.Errorf("not a regular file (%s): not read", kind(m))
	case f.maxSize > 0 && f.Info.Size() > f.maxSize:
		return &card.LimitError{Key: f.sizeKey, What: "file", Got: f.Info.Size(), Max: f.maxSize}
	}
	return nil
}

// look finds out what the entry at path is without opening it, and whether
// it may be read.
func look(root, path string, d fs.DirEntry, opts Options) file {
	fi, err := d.Info()
	if err != nil {
		return file{err: fmt.Errorf("reading: %w", unwrapPath(err))}
	}
	f := file{File: File{Path: path, Info: fi, maxSize: opts.MaxSize, sizeKey: opts.SizeKey}, stamp: Stamp(fi)}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			f.err = errors.New("symbolic link to nothing that can be read: not followed")
			return f
		}
		if !inside(root, target) {
			f.err = errors.New("symbolic link to a file outside the folder: not followed")
			return f
		}
		tfi, err := os.Lstat(target)
		if err != nil {
			f.err = fmt.Errorf("reading link target: %w", unwrapPath(err))
			return f
		}
		// The link's own stamp and its target's: either changing is a
		// new version.
		f.Path, f.Info, f.stamp = target, tfi, f.stamp+">"+Stamp(tfi)
	}
	f.err = f.check()
	return f
}

// Read reads f, which Look said may be read. It opens without blocking and
// without following a link, and checks that what it opened is still that
// file: one swapped for a FIFO or a link since the look is not read. Of a
// file that grew since, no more than the size limit is read.
func (f File) Read() ([]byte, error) {
	fd, err := os.OpenFile(f.Path, openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("opening: %w", unwrapPath(err))
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading: %w", unwrapPath(err))
	}
	if !fi.Mode().IsRegular() || !os.SameFile(fi, f.Info) {
		return nil, errors.New("replaced while being read: read again when it changes")
	}
	var r io.Reader = fd
	if f.maxSize > 0 {
		r = io.LimitReader(fd, f.maxSize+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading: %w", unwrapPath(err))
	}
	if f.maxSize > 0 && int64(len(data)) > f.maxSize {
		return nil, &card.LimitError{Key: f.sizeKey, What: "file", Max: f.maxSize}
	}
	return data, nil
}

// inside reports whether path lies in the folder root (both free of links).
func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// kind names a file type for a message.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a plain file"
}

// unwrapPath drops the *fs.PathError wrapper, whose path the Problem's ID
// gives already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Stamp is a file's version: modification time, size and, where the system
// has them, inode and change time. Editors that replace a file by rename
// change the inode; a chmod changes the change time.
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

// OpenRegular opens the file at path for reading if it is a regular file,
// without blocking (on a FIFO, a device) and without following a final
// symbolic link; anything else is an error. The watcher uses it to look at
// a file's end.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file (%s)", path, kind(fi.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
