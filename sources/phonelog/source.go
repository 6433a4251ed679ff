package phonelog

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/dirscan"
	"kith/internal/fsname"
	ksync "kith/sync"
	"kith/sync/normalize"
)

// Options configure a Source.
type Options struct {
	// Name is the configured name; it is the Source of every interaction.
	Name string
	// Path is the folder holding the exports (subfolders are read too).
	Path string
	// Region is the ISO 3166 region of numbers written without a country
	// code.
	Region string
	// Location is the zone in which an interaction's day is taken; nil
	// means time.Local.
	Location *time.Location
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives the package's logs; nil discards them.
	Logger *slog.Logger
}

// MaxFileSize is the largest export file read: larger ones are reported
// and skipped (a backup with MMS pictures of a decade stays far below).
const MaxFileSize = 4 << 30

// Source reads an export folder as an incremental interaction source.
type Source struct {
	opts Options
	norm *normalize.Normalizer
	log  *slog.Logger
	tag  string // identifies what decides how entries are read and counted
}

var (
	_ ksync.IncrementalSource = (*Source)(nil)
	_ ksync.InteractionSource = (*Source)(nil)
)

// New returns a Source for opts. The folder is read by Update.
func New(opts Options) (*Source, error) {
	if opts.Name == "" {
		return nil, errors.New("phonelog: name: missing")
	}
	if opts.Path == "" {
		return nil, fmt.Errorf("phonelog %q: path: missing", opts.Name)
	}
	norm, err := normalize.New(opts.Region)
	if err != nil {
		return nil, fmt.Errorf("phonelog %q: region: %w", opts.Name, err)
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Source{opts: opts, norm: norm, log: opts.Logger.With("phonelog", opts.Name)}
	s.tag = fmt.Sprintf("%d %s %s", entryVersion, norm.Region(), opts.Location)
	return s, nil
}

// Name returns the configured name.
func (s *Source) Name() string { return s.opts.Name }

// entry is what is kept of one call or text.
type entry struct {
	Kind   string   `json:"k"`           // ksync.KindCall or ksync.KindText
	Out    bool     `json:"o,omitempty"` // the user called or wrote
	Date   int64    `json:"d"`           // unix milliseconds
	Who    []string `json:"w"`           // the other people's numbers, E.164 where possible
	People int      `json:"p,omitempty"` // people taking part besides the user, when more than Who
}

// entryVersion changes when entries are read differently: files read by
// an older version are read again.
const entryVersion = 1

// cursor is what the store remembers of one export file.
type cursor struct {
	Tag     string `json:"tag"`
	Stamp   string `json:"stamp,omitempty"` // "" = read again next time
	Content string `json:"c"`
}

// isExport tells whether a file name is an SMS Backup & Restore export.
func isExport(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".xml") && (strings.HasPrefix(n, "calls") || strings.HasPrefix(n, "sms"))
}

// racyWindow: a file changed this recently may still be written within the
// same timestamp; it is read again on the next sync.
const racyWindow = 2 * time.Second

// Interactions reads the folder in full, keeping nothing: what Update and
// Load do with a fresh store.
func (s *Source) Interactions(ctx context.Context, since time.Time) ([]ksync.Interaction, error) {
	return ksync.ReadAll(ctx, s, since)
}

// Update reads the export files that are new or changed since the last
// Update into store, and drops those that are gone. A file that cannot be
// read is logged and keeps what it gave before; it fails only when the
// folder cannot be read.
func (s *Source) Update(ctx context.Context, store ksync.ItemStore) (string, error) {
	name := s.opts.Name
	curs, err := store.Cursors(ctx, name)
	if err != nil {
		return "", fmt.Errorf("phonelog %q: %w", name, err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(s.opts.Path, func(path string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if path == s.opts.Path {
			return err
		}
		if fsname.Skip(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if err != nil {
			s.log.Warn("folder not read", "path", path, "err", err)
			if d != nil && d.IsDir() {
				// What it held is kept: mark its files seen.
				rel, _ := filepath.Rel(s.opts.Path, path)
				for k := range curs {
					if strings.HasPrefix(k, filepath.ToSlash(rel)+"/") {
						seen[k] = true
					}
				}
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || !isExport(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(s.opts.Path, path)
		if err != nil {
			return err
		}
		box := filepath.ToSlash(rel)
		seen[box] = true
		return s.updateFile(ctx, store, path, box, curs[box])
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("phonelog %q: %s: %w", name, s.opts.Path, err)
	}
	v, err := ksync.Settle(ctx, store, name, func(box string) bool { return seen[box] }, s.tag, func(_, cur string) string {
		var c cursor
		json.Unmarshal([]byte(cur), &c)
		return c.Content
	})
	if err != nil {
		return "", fmt.Errorf("phonelog %q: %w", name, err)
	}
	return v, nil
}

func keys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// updateFile reads one export file when it changed.
func (s *Source) updateFile(ctx context.Context, store ksync.ItemStore, path, box, prevCursor string) error {
	var prev cursor
	json.Unmarshal([]byte(prevCursor), &prev)
	f, fi, err := dirscan.OpenRegular(path)
	if err != nil {
		s.log.Warn("export not read", "file", path, "err", err)
		return nil
	}
	defer f.Close()
	stamp := dirscan.Stamp(fi)
	if time.Since(fi.ModTime()) < racyWindow {
		stamp = ""
	}
	if prev.Tag == s.tag && stamp != "" && prev.Stamp == stamp {
		return nil
	}
	if fi.Size() > MaxFileSize {
		s.log.Warn("export not read", "file", path, "err", fmt.Sprintf("%d bytes, more than the limit of %d", fi.Size(), int64(MaxFileSize)))
		return nil
	}
	put := map[string][]byte{}
	n, err := s.read(ctx, f, put)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("export read in part", "file", path, "entries", n, "err", err)
		if prevCursor != "" {
			return nil // keep what it gave when it was whole
		}
		stamp = "" // read again next time
	}
	h := sha256.New()
	for _, k := range slices.Sorted(keys(put)) {
		fmt.Fprintf(h, "%q %s\n", k, put[k])
	}
	next, _ := json.Marshal(cursor{Tag: s.tag, Stamp: stamp, Content: hex.EncodeToString(h.Sum(nil)[:12])})
	s.log.Debug("export read", "file", path, "entries", n, "kept", len(put))
	return store.Update(ctx, s.opts.Name, ksync.BoxChange{Box: box, Reset: true, Put: put, Cursor: string(next)})
}

// wanted are the elements and attributes read.
var wanted = map[string]map[string]bool{
	"call": {"number": true, "duration": true, "date": true, "type": true},
	"sms":  {"address": true, "date": true, "type": true},
	"mms":  {"address": true, "date": true, "msg_box": true},
	"addr": {"address": true, "type": true},
}

// MMS address types (PduHeaders): from, to, cc, bcc.
const (
	mmsFrom = "137"
	mmsTo   = "151"
	mmsCc   = "130"
	mmsBcc  = "129"
)

// read scans one export into put (key → entry) and returns how many
// elements it read.
func (s *Source) read(ctx context.Context, r io.Reader, put map[string][]byte) (int, error) {
	sc := newScanner(r, wanted)
	var mms *mmsState
	n := 0
	flush := func() {
		if mms != nil {
			s.putMMS(mms, put)
			mms = nil
		}
	}
	for {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		el, err := sc.next()
		if errors.Is(err, io.EOF) {
			flush()
			return n, nil
		}
		if err != nil {
			flush()
			return n, err
		}
		n++
		a := el.attrs
		switch el.name {
		case "call":
			flush()
			dur, _ := strconv.Atoi(a["duration"])
			var out bool
			switch a["type"] {
			case "1": // incoming
			case "2":
				out = true
			default: // missed, voicemail, rejected, blocked
				continue
			}
			num, ok := s.number(a["number"])
			date, derr := strconv.ParseInt(a["date"], 10, 64)
			if dur <= 0 || !ok || derr != nil || date <= 0 {
				continue
			}
			s.putEntry(put, "call "+a["date"]+" "+num, entry{Kind: ksync.KindCall, Out: out, Date: date, Who: []string{num}})
		case "sms":
			flush()
			var out bool
			switch a["type"] {
			case "1": // received
			case "2":
				out = true
			default: // drafts, outbox, failed, queued
				continue
			}
			num, ok := s.number(a["address"])
			date, derr := strconv.ParseInt(a["date"], 10, 64)
			if !ok || derr != nil || date <= 0 {
				continue
			}
			s.putEntry(put, "sms "+a["date"]+" "+num+" "+a["type"], entry{Kind: ksync.KindText, Out: out, Date: date, Who: []string{num}})
		case "mms":
			flush()
			date, derr := strconv.ParseInt(a["date"], 10, 64)
			box := a["msg_box"]
			if derr != nil || date <= 0 || box != "1" && box != "2" {
				continue
			}
			mms = &mmsState{date: date, out: box == "2", key: "mms " + a["date"] + " " + box}
		case "addr":
			if mms == nil || len(mms.addrs) >= 64 {
				continue
			}
			num, ok := s.number(a["address"])
			if !ok || slices.ContainsFunc(mms.addrs, func(x mmsAddr) bool { return x.num == num }) {
				continue
			}
			mms.addrs = append(mms.addrs, mmsAddr{num: num, typ: a["type"]})
		}
	}
}

// mmsState is an MMS whose addresses are being read.
type mmsState struct {
	key   string
	date  int64
	out   bool
	addrs []mmsAddr
}

type mmsAddr struct{ num, typ string }

// putMMS keeps an MMS: a sent one with its recipients, a received one with
// its sender (the other recipients, the user among them, make the group).
func (s *Source) putMMS(m *mmsState, put map[string][]byte) {
	e := entry{Kind: ksync.KindText, Out: m.out, Date: m.date}
	if m.out {
		for _, a := range m.addrs {
			if a.typ == mmsTo || a.typ == mmsCc || a.typ == mmsBcc {
				e.Who = append(e.Who, a.num)
			}
		}
	} else {
		for _, a := range m.addrs {
			if a.typ == mmsFrom {
				e.Who = []string{a.num}
			}
		}
		e.People = max(len(m.addrs)-1, 1) // all but the user
	}
	if len(e.Who) == 0 {
		return
	}
	s.putEntry(put, m.key+" "+strings.Join(e.Who, ","), e)
}

func (s *Source) putEntry(put map[string][]byte, key string, e entry) {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // strings and numbers only
	}
	put[key] = b
}

// number normalises a phone number; short codes, alphanumeric senders
// ("VODAFONE") and withheld numbers are no one's.
func (s *Source) number(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "-1" || raw == "-2" || strings.EqualFold(raw, "null") {
		return "", false
	}
	e, ok := s.norm.Phone(raw)
	if !ok || len(strings.TrimPrefix(e, "+")) < 6 {
		return "", false
	}
	return e, true
}

// Load returns the calls and texts on or after since's day from what
// store holds, each once however many exports hold it, sorted by date,
// kind and Ref.
func (s *Source) Load(ctx context.Context, store ksync.ItemStore, since time.Time) ([]ksync.Interaction, error) {
	name := s.opts.Name
	curs, err := store.Cursors(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("phonelog %q: %w", name, err)
	}
	all := map[string]entry{}
	for _, box := range slices.Sorted(keys(curs)) {
		items, err := store.Items(ctx, name, box)
		if err != nil {
			return nil, fmt.Errorf("phonelog %q: %s: %w", name, box, err)
		}
		for k, v := range items {
			if _, dup := all[k]; dup {
				continue
			}
			var e entry
			if json.Unmarshal(v, &e) == nil && len(e.Who) > 0 {
				all[k] = e
			}
		}
	}
	writtenTo := map[string]bool{}
	for _, e := range all {
		if e.Kind == ksync.KindText && e.Out {
			for _, w := range e.Who {
				writtenTo[w] = true
			}
		}
	}
	now := s.opts.Now()
	sinceDay := s.day(since)
	var out []ksync.Interaction
	for k, e := range all {
		date := time.UnixMilli(e.Date)
		if date.After(now) {
			date = now
		}
		if s.day(date).Before(sinceDay) {
			continue
		}
		if e.Kind == ksync.KindText && !e.Out && !writtenTo[e.Who[0]] {
			continue
		}
		out = append(out, ksync.Interaction{
			Date: s.day(date), Kind: e.Kind, Source: name, Ref: k,
			People: max(e.People, len(e.Who)), Who: e.Who,
		})
	}
	slices.SortFunc(out, func(a, b ksync.Interaction) int {
		return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Ref, b.Ref))
	})
	return out, nil
}

// day returns the UTC midnight of the day t falls on in the Location.
func (s *Source) day(t time.Time) time.Time {
	y, m, d := t.In(s.opts.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
