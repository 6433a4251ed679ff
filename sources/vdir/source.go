package vdir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"kith/internal/dirscan"
	ksync "kith/sync"
	"kith/sync/card"
)

// Source reads a vdir as a kith source. It is read-only and safe for
// concurrent use.
type Source struct {
	name string
	dir  string
	lim  card.Limits
	log  *slog.Logger
}

var _ ksync.Source = (*Source)(nil)

// NewSource returns a source named name that reads the vdir at dir; a card
// over lim is skipped like a broken one. It fails when dir does not exist or
// is not a directory.
func NewSource(name, dir string, lim card.Limits, log *slog.Logger) (*Source, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("source %q: vdir %s: %w", name, dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("source %q: vdir %s: not a directory", name, dir)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{name: name, dir: dir, lim: lim, log: log.With("source", name)}, nil
}

// Name returns the source's configured name.
func (s *Source) Name() string { return s.name }

// Read returns the cards of the vdir. With the cursor of its last snapshot
// it reads only new and changed files and lists the records gone (see
// internal/dirscan); without, it reads every file (a Full snapshot).
// Record IDs are paths relative to the folder, slash-separated. Hidden files
// and folders and temporary names are skipped. A file that cannot be read or
// decoded becomes a Problem and the others are still read. Read fails only
// when the folder itself cannot be read or ctx is done.
func (s *Source) Read(ctx context.Context, cursor string) (ksync.Snapshot, error) {
	// A vdir file holds one card: the card size limit bounds the file.
	opts := dirscan.Options{Want: isVCF, MaxSize: s.lim.Size, SizeKey: "card_size"}
	snap, err := dirscan.Read(ctx, s.name, s.dir, cursor, opts, func(data []byte, mtime time.Time, id string, snap *ksync.Snapshot) {
		rec, err := s.decode(data, mtime, id)
		if err != nil {
			snap.Problems = append(snap.Problems, ksync.Problem{Source: s.name, ID: id, Err: err})
			return
		}
		snap.Records = append(snap.Records, rec)
	})
	if err != nil {
		return ksync.Snapshot{}, fmt.Errorf("source %q: reading vdir %s: %w", s.name, s.dir, err)
	}
	// Problems are returned, not logged: the caller reports them once.
	s.log.Debug("vdir read", "dir", s.dir, "full", snap.Full, "records", len(snap.Records), "deleted", len(snap.Deleted), "problems", len(snap.Problems))
	return snap, nil
}

// decode decodes one card file. The error says what went wrong without
// repeating the path, which the Problem carries.
func (s *Source) decode(data []byte, mtime time.Time, id string) (ksync.Record, error) {
	c, err := s.lim.Decode(data)
	if err != nil {
		return ksync.Record{}, fmt.Errorf("decoding: %w", err)
	}
	seen := card.Revision(c)
	if seen.IsZero() {
		seen = mtime
	}
	return ksync.Record{Source: s.name, ID: id, Card: c, Hash: card.Hash(c), Seen: seen}, nil
}

// unwrapPath drops the *fs.PathError wrapper, whose path the caller reports
// as the record ID already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
