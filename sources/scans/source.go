package scans

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-vcard"

	"kith/internal/dirscan"
	ksync "kith/sync"
	"kith/sync/card"
)

// Source reads a folder of card-scanner exports. It is read-only and safe
// for concurrent use.
type Source struct {
	name string
	dir  string
	lim  Limits
	log  *slog.Logger
}

// Limits bound what kith reads from a scan folder; a zero field means no
// limit. An item over one is skipped like a broken one: a file over File or
// with a header over CSVColumns as a whole, a card or a row on its own.
type Limits struct {
	// File is the largest file read, in bytes.
	File int64
	// Card bounds each card of a .vcf file; its Properties also bounds the
	// card a CSV row makes.
	Card card.Limits
	// CSVColumns is the most columns a CSV header may have.
	CSVColumns int
	// CSVRowSize is the largest CSV row, in bytes.
	CSVRowSize int64
}

var _ ksync.Source = (*Source)(nil)

// New returns a source named name that reads the scan folder dir within the
// limits lim. It fails when dir does not exist or is not a directory.
func New(name, dir string, lim Limits, log *slog.Logger) (*Source, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("source %q: scan folder %s: %w", name, dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("source %q: scan folder %s: not a directory", name, dir)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{name: name, dir: dir, lim: lim, log: log.With("source", name)}, nil
}

// Name returns the source's configured name.
func (s *Source) Name() string { return s.name }

// Read returns the cards in the ".vcf", ".vcard" and ".csv" files of the
// folder and its subfolders. With the cursor of its last snapshot it reads
// only new and changed files and lists the records gone (see
// internal/dirscan); without, it reads everything (a Full snapshot). Hidden
// files and folders and temporary names are skipped.
//
// Record IDs are paths relative to the folder, slash-separated, with "#N"
// for the Nth card of a vCard file holding several and for the Nth data row
// of a CSV file. Every record is Scanned; its Seen is the card's REV, else the
// row's scan date, else the file's modification time. A file, card or row
// that cannot be read becomes a Problem and the rest are still read. Read
// fails only when the folder itself cannot be read or ctx is done.
func (s *Source) Read(ctx context.Context, cursor string) (ksync.Snapshot, error) {
	want := func(name string) bool {
		switch strings.ToLower(filepath.Ext(name)) {
		case ".vcf", ".vcard", ".csv":
			return true
		}
		return false
	}
	opts := dirscan.Options{Want: want, MaxSize: s.lim.File, SizeKey: "file_size"}
	snap, err := dirscan.Read(ctx, s.name, s.dir, cursor, opts, func(data []byte, mtime time.Time, id string, snap *ksync.Snapshot) {
		if strings.EqualFold(path.Ext(id), ".csv") {
			s.readCSV(snap, data, mtime, id)
		} else {
			s.readVCF(snap, data, mtime, id)
		}
	})
	if err != nil {
		return ksync.Snapshot{}, fmt.Errorf("source %q: reading scan folder %s: %w", s.name, s.dir, err)
	}
	// Problems are returned, not logged: the caller reports them once.
	s.log.Debug("scan folder read", "dir", s.dir, "full", snap.Full, "records", len(snap.Records), "deleted", len(snap.Deleted), "problems", len(snap.Problems))
	return snap, nil
}

func (s *Source) problem(snap *ksync.Snapshot, id string, err error) {
	snap.Problems = append(snap.Problems, ksync.Problem{Source: s.name, ID: id, Err: err})
}

func (s *Source) record(snap *ksync.Snapshot, id string, c vcard.Card, seen time.Time) {
	snap.Records = append(snap.Records, ksync.Record{
		Source: s.name, ID: id, Card: c, Hash: card.Hash(c), Seen: seen, Scanned: true,
	})
}

func (s *Source) readVCF(snap *ksync.Snapshot, data []byte, mtime time.Time, id string) {
	// UTF-16 is the one encoding a vCard's CHARSET parameters cannot
	// describe; Windows tools write it, with a BOM or without.
	if _, ok := utf16Order(data); ok {
		text, err := decodeText(data)
		if err != nil {
			s.problem(snap, id, err)
			return
		}
		data = []byte(text)
	}
	if !complete(data) {
		s.problem(snap, id, errors.New("incomplete (still being written?): last line is not END:VCARD"))
		return
	}
	entries, err := s.lim.Card.DecodeAll(data)
	if err != nil {
		s.problem(snap, id, fmt.Errorf("decoding: %w", err))
		return
	}
	for _, e := range entries {
		eid := id
		if len(entries) > 1 {
			eid = id + "#" + strconv.Itoa(e.Index)
		}
		if e.Err != nil {
			s.problem(snap, eid, fmt.Errorf("card %d: %w", e.Index, e.Err))
			continue
		}
		seen := card.Revision(e.Card)
		if seen.IsZero() {
			seen = mtime
		}
		s.record(snap, eid, e.Card, seen)
	}
}

// complete reports whether the last non-blank line of data is END:VCARD: a
// file that a scanner app is still writing ends elsewhere.
func complete(data []byte) bool {
	data = bytes.TrimRight(data, " \t\r\n\x00")
	i := bytes.LastIndexAny(data, "\r\n")
	last := bytes.TrimSpace(data[i+1:])
	return bytes.EqualFold(last, []byte("END:VCARD"))
}

func (s *Source) readCSV(snap *ksync.Snapshot, data []byte, mtime time.Time, id string) {
	rows, err := parseCSV(data, s.lim)
	if err != nil {
		s.problem(snap, id, err)
		// Rows read before a read error are still good.
	}
	for _, r := range rows {
		rid := id + "#" + strconv.Itoa(r.Row)
		if r.Err != nil {
			s.problem(snap, rid, r.Err)
			continue
		}
		seen := card.Revision(r.Card)
		if seen.IsZero() {
			seen = r.Scanned
		}
		if seen.IsZero() {
			seen = mtime
		}
		s.record(snap, rid, r.Card, seen)
	}
}
