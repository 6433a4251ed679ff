package daemon

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/emersion/go-vcard"

	"kith/internal/atomicfile"
	"kith/internal/davserver"
	"kith/internal/state"
	"kith/sources/calendar"
	"kith/sources/carddav"
	"kith/sources/mail"
	"kith/sources/phonelog"
	"kith/sources/scans"
	"kith/sources/vdir"
	ksync "kith/sync"
	"kith/sync/assess"
	"kith/sync/decay"
	"kith/sync/interactions"
	"kith/sync/match"
	"kith/sync/report"
)

// Runner runs syncs for one configuration: read every source, merge, write
// every target, save the state, write the report.
type Runner struct {
	cfg     *Config
	log     *slog.Logger
	engine  *ksync.Engine
	sources []ksync.Source
	targets []ksync.Target
	// interactions are the calendars and mailboxes.
	interactions []ksync.InteractionSource
	// Now is the clock; tests set it.
	Now func() time.Time
	// progress, when set, is where the first read of a big mailbox reports
	// how far it got (a terminal).
	progress io.Writer
	// DryRun makes Sync compute everything and write nothing: the changes
	// it would make go to the dry-run writer (SetDryRun).
	DryRun bool
	dryOut io.Writer
	// external and kept are this sync's interactions from calendars and
	// mail: read now, and kept from before for sources that failed.
	external []ksync.Interaction
	kept     map[string][]ksync.Interaction
	// build and cfgHash identify kith's build and cfg, worked out once
	// (by the first Sync).
	build, cfgHash string
	// book is the embedded server's book, made once per state store.
	book      ksync.Target
	bookStore *state.Store
	// loadState loads the whole state (Store.Load; tests count the calls).
	loadState func(*state.Store, context.Context) (*ksync.State, error)
	// AllowShrink applies a source's snapshot, and a target's listing, even
	// when it shrank by more than the config's max_shrink.
	AllowShrink bool
	// crashAfter, for crash tests only, kills the process right after the
	// first target write of this kind ("put", "delete"): WithCrashAfter.
	crashAfter string
}

// SetDryRun makes Sync print what it would change to w and write nothing.
func (r *Runner) SetDryRun(w io.Writer) { r.DryRun, r.dryOut = true, w }

// NewRunner builds the sources and targets cfg names.
func NewRunner(cfg *Config, log *slog.Logger) (*Runner, error) {
	eng, err := ksync.NewEngine(cfg.DefaultRegion)
	if err != nil {
		return nil, fmt.Errorf("default_region: %w", err)
	}
	r := &Runner{cfg: cfg, log: log, engine: eng, Now: time.Now, loadState: (*state.Store).Load}
	probes := carddav.ProbeGates{}
	for _, sc := range cfg.Sources {
		var src ksync.Source
		switch sc.Kind {
		case "vdir":
			src, err = vdir.NewSource(sc.Name, sc.Path, cfg.Limits.card(), log)
		case "scans":
			src, err = scans.New(sc.Name, sc.Path, cfg.Limits.scans(), log)
		case "carddav":
			src, err = newCardDAVSource(cfg, sc, probes.For(sc.URL), log)
		default:
			err = fmt.Errorf("kind %q is not supported", sc.Kind)
		}
		if err != nil {
			// A source that cannot be set up now (its folder is gone, its
			// server unreachable) fails its reads: its contacts stay and the
			// other sources sync on.
			src = brokenSource{name: sc.Name, err: err}
		}
		r.sources = append(r.sources, src)
	}
	for _, tc := range cfg.Targets {
		var t ksync.Target
		switch tc.Kind {
		case "vdir":
			t, err = vdir.NewTarget(tc.Name, tc.Path, cfg.Limits.card())
		case "carddav":
			t, err = newCardDAVTarget(cfg, tc, probes.For(tc.URL), log)
		default:
			err = fmt.Errorf("kind %q is not supported", tc.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", tc.Name, err)
		}
		r.targets = append(r.targets, t)
	}
	if err := r.buildInteractionSources(); err != nil {
		return nil, err
	}
	return r, nil
}

func newCardDAVSource(cfg *Config, sc SourceConfig, probes *carddav.ProbeGate, log *slog.Logger) (ksync.Source, error) {
	pw, err := sc.Password()
	if err != nil {
		return nil, err
	}
	o := carddav.Options{Name: sc.Name, URL: sc.URL, Username: sc.Username, Password: pw,
		Addressbooks: sc.Addressbooks, MaxAnswer: int64(cfg.Limits.CardDAVAnswerSize), Card: cfg.Limits.card(), Probes: probes, Logger: log, Timeout: sc.Timeout.Duration}
	if o.HTTPClient, err = sc.httpClient(carddav.DefaultTimeout); err != nil {
		return nil, err
	}
	// Never read what kith writes: its CardDAV targets' collections, and
	// the embedded server's book.
	for _, tc := range cfg.Targets {
		if tc.Kind == "carddav" {
			o.Exclude = append(o.Exclude, carddav.Excluded{URL: tc.URL, Why: fmt.Sprintf("the collection of target %q", tc.Name)})
		}
	}
	if cfg.Server != nil {
		o.ExcludeTokenPrefix = serverTokenPrefix
	}
	return carddav.NewSource(o)
}

// serverTokenPrefix starts every sync token of the embedded server's book
// (internal/davserver): a CardDAV source that finds a book with such a
// token skips it.
const serverTokenPrefix = "http://kith.invalid/ns/sync/"

func newCardDAVTarget(cfg *Config, tc TargetConfig, probes *carddav.ProbeGate, log *slog.Logger) (ksync.Target, error) {
	pw, err := tc.Password()
	if err != nil {
		return nil, err
	}
	hc, err := tc.httpClient(carddav.DefaultTimeout)
	if err != nil {
		return nil, err
	}
	return carddav.NewTarget(carddav.Options{Name: tc.Name, URL: tc.URL, Username: tc.Username, Password: pw,
		MaxAnswer: int64(cfg.Limits.CardDAVAnswerSize), Card: cfg.Limits.card(), Probes: probes, Logger: log, Timeout: tc.Timeout.Duration, HTTPClient: hc})
}

// interactionWindow is how far back calendars and mail are read: shared
// history older than that has faded (half-life 4.3 years) below notice.
const interactionWindow = 3 * 365 * 24 * time.Hour

// buildInteractionSources sets up the calendars and mailboxes cfg names.
func (r *Runner) buildInteractionSources() error {
	now := func() time.Time { return r.Now() }
	for _, cc := range r.cfg.Calendars {
		pw, err := cc.Password()
		if err != nil {
			return fmt.Errorf("calendar %q: %w", cc.Name, err)
		}
		hc, err := cc.httpClient(calendar.DefaultTimeout)
		if err != nil {
			return fmt.Errorf("calendar %q: %w", cc.Name, err)
		}
		src, err := calendar.New(calendar.Options{
			Name: cc.Name, Paths: cc.Paths, URL: cc.URL, Username: cc.Username, Password: pw, HTTPClient: hc,
			Calendars: cc.Calendars, UserEmails: r.cfg.UserEmails, MaxAttendees: cc.MaxAttendees, Now: now, Logger: r.log,
			Limits: calendar.Limits{Size: int64(r.cfg.Limits.CalendarSize), Depth: r.cfg.Limits.CalendarDepth}, Timeout: cc.Timeout.Duration,
		})
		if err != nil {
			return fmt.Errorf("calendar %q: %w", cc.Name, err)
		}
		r.interactions = append(r.interactions, src)
	}
	for _, mc := range r.cfg.Mail {
		var boxes []mail.Mailbox
		for _, p := range mc.Sent {
			boxes = append(boxes, mail.Mailbox{Path: p, Sent: true})
		}
		for _, p := range mc.Received {
			boxes = append(boxes, mail.Mailbox{Path: p})
		}
		opts := mail.Options{
			Name: mc.Name, Mailboxes: boxes, UserEmails: r.cfg.UserEmails, MaxRecipients: mc.MaxRecipients, Now: now, Logger: r.log,
		}
		if mc.URL != "" {
			pw, err := mc.Password()
			if err != nil {
				return fmt.Errorf("mail %q: %w", mc.Name, err)
			}
			opts.Mailboxes = nil
			opts.IMAP = &mail.IMAP{URL: mc.URL, Username: mc.Username, Password: pw, Sent: mc.Sent, Received: mc.Received, CAFile: mc.CAFile, Timeout: mc.Timeout.Duration}
		}
		src, err := mail.New(opts)
		if err != nil {
			return fmt.Errorf("mail %q: %w", mc.Name, err)
		}
		r.interactions = append(r.interactions, src)
	}
	for _, pc := range r.cfg.PhoneLogs {
		src, err := phonelog.New(phonelog.Options{Name: pc.Name, Path: pc.Path, Region: r.cfg.DefaultRegion, Now: now, Logger: r.log})
		if err != nil {
			return fmt.Errorf("phonelog %q: %w", pc.Name, err)
		}
		r.interactions = append(r.interactions, src)
	}
	return nil
}

// externalRead is what the calendars and mailboxes gave in one sync.
type externalRead struct {
	found  []ksync.Interaction
	failed []string // names of the interaction sources that could not be read
	errs   []string // their errors, for the summary
	hash   string   // identifies what was read, to tell a sync in which nothing changed
	// versions are the incremental sources brought up to date (name →
	// version), whose interactions are loaded only when the sync goes on.
	versions map[string]string
}

// readExternal reads every calendar and mailbox. Incremental sources
// (ksync.IncrementalSource) only bring items up to date: loadExternal
// loads their interactions when the sync needs them.
func (r *Runner) readExternal(ctx context.Context, now time.Time, items ksync.ItemStore) externalRead {
	ext := externalRead{versions: map[string]string{}}
	if r.progress != nil {
		ctx = ksync.WithProgress(ctx, func(line string) { fmt.Fprintf(r.progress, "kith: %s\n", line) })
	}
	for _, src := range r.interactions {
		var ins []ksync.Interaction
		var err error
		if inc, ok := src.(ksync.IncrementalSource); ok {
			var v string
			if v, err = inc.Update(ctx, items); err == nil {
				ext.versions[src.Name()] = v
			}
		} else {
			ins, err = src.Interactions(ctx, now.Add(-interactionWindow))
		}
		if err != nil {
			if ctx.Err() != nil {
				return ext
			}
			ext.fail(src.Name(), err, r.log)
			continue
		}
		ext.found = append(ext.found, ins...)
	}
	ext.rehash()
	return ext
}

// loadExternal loads the interactions of the incremental sources that
// were brought up to date; one that fails is kept as it was.
func (r *Runner) loadExternal(ctx context.Context, ext *externalRead, now time.Time, items ksync.ItemStore) error {
	failed := false
	for _, src := range r.interactions {
		inc, ok := src.(ksync.IncrementalSource)
		if _, read := ext.versions[src.Name()]; !ok || !read {
			continue
		}
		ins, err := inc.Load(ctx, items, now.Add(-interactionWindow))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			delete(ext.versions, src.Name())
			ext.fail(src.Name(), err, r.log)
			failed = true
			continue
		}
		ext.found = append(ext.found, ins...)
	}
	if failed {
		ext.rehash()
	}
	return nil
}

func (ext *externalRead) fail(name string, err error, log *slog.Logger) {
	ext.failed = append(ext.failed, name)
	ext.errs = append(ext.errs, nameErr("", name, err))
	log.Warn("interactions not read; the last ones known are kept", "source", name, "err", err)
}

// rehash works out hash from what the non-incremental sources found and
// the incremental ones' versions.
func (ext *externalRead) rehash() {
	h := sha256.New()
	for _, in := range ext.found {
		fmt.Fprintf(h, "%s %s %q %q %d %q\n", in.Date.Format(time.DateOnly), in.Kind, in.Source, in.Ref, in.People, in.Who)
	}
	for _, name := range slices.Sorted(maps.Keys(ext.versions)) {
		fmt.Fprintf(h, "version %q %s\n", name, ext.versions[name])
	}
	fmt.Fprintf(h, "failed %q\n", ext.failed)
	ext.hash = hex.EncodeToString(h.Sum(nil))
}

// kept returns, for the sources that failed, the interactions they gave
// before (already tied to contacts in prev), so that a contact does not
// look neglected because a server was down.
func (ext externalRead) kept(prev *ksync.State) map[string][]ksync.Interaction {
	kept := map[string][]ksync.Interaction{}
	for _, name := range ext.failed {
		for uid, all := range prev.Interactions {
			for _, in := range all {
				if in.Source == name {
					kept[uid] = append(kept[uid], in)
				}
			}
		}
	}
	return kept
}

// Keys of State.Meta the runner keeps.
const (
	metaDay      = "sync.day"      // the day of the last full sync (states are judged by the day)
	metaExternal = "sync.external" // externalRead.hash of the last full sync
	metaConfig   = "sync.config"   // configHash of the last full sync
)

// configHash identifies the configuration a full sync ran with: a change to
// it (a decay parameter, a category name) may change every card.
func configHash(cfg *Config) string {
	b, err := json.Marshal(cfg) // follows pointers, unlike %v
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// read is what reading one source or listing one target gave.
type read struct {
	snap    ksync.Snapshot
	listing map[string]string // a target's href → ETag
	err     error
}

// nothingChanged reports whether this sync can change nothing: every
// source read gave no change, every target holds exactly the cards kith
// wrote, every card was made from its contact's golden card as it stands
// (no write failed), calendars and mail gave what they gave last time, the merge's
// fingerprint is the same, it is the same day (states move with days), and
// the report files stand. Then the state need not even be loaded.
func (r *Runner) nothingChanged(light *state.Light, fingerprint string, now time.Time, srcReads, tgtReads []read, ext externalRead, targets []ksync.Target) bool {
	if !r.metaUnchanged(light, fingerprint, now) || !externalUnchanged(light, ext) {
		return false
	}
	for _, rd := range srcReads {
		if !sourceUnchanged(rd) {
			return false
		}
	}
	for i, rd := range tgtReads {
		if !targetUnchanged(light, targets[i].Name(), rd) {
			return false
		}
	}
	return true
}

// metaUnchanged is the part of nothingChanged known before anything is
// read: same merge fingerprint, config and day, no card behind its
// contact, report files in place.
func (r *Runner) metaUnchanged(light *state.Light, fingerprint string, now time.Time) bool {
	return light.Meta[ksync.MetaFingerprint] == fingerprint && light.Meta[metaDay] == now.Format(time.DateOnly) &&
		light.Meta[metaConfig] == r.cfgHash && light.Behind == 0 && r.reportFilesExist()
}

// externalUnchanged reports whether the calendars and mail gave what they
// gave at the last full sync.
func externalUnchanged(light *state.Light, ext externalRead) bool {
	return light.Meta[metaExternal] == ext.hash && len(ext.failed) == 0
}

// sourceUnchanged reports whether a source's read changed nothing.
func sourceUnchanged(rd read) bool { return rd.err == nil && rd.snap.Empty() }

// targetUnchanged reports whether a target's listing holds exactly the
// cards kith wrote there, one a contact.
func targetUnchanged(light *state.Light, name string, rd read) bool {
	if rd.err != nil {
		return false
	}
	if light.Entries[name] != light.Contacts {
		return false // a card to write or to bring back
	}
	written := light.ETags[name]
	if len(written) != len(rd.listing) {
		return false
	}
	for href, etag := range rd.listing {
		if w, ok := written[href]; !ok || w != etag {
			return false
		}
	}
	return true
}

// Summary is what one sync did; String gives the one-line form logged after
// every sync.
type Summary struct {
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Sources  int           `json:"sources"`
	Records  int           `json:"records"`
	Contacts int           `json:"contacts"`
	Created  int           `json:"created"`
	Updated  int           `json:"updated"`
	Removed  int           `json:"removed"`
	// UserEdits counts target cards the user edited; their edits were kept.
	UserEdits int `json:"user_edits"`
	// Skipped lists the items that could not be read, "source: id: reason".
	Skipped []string `json:"skipped"`
	// Errors lists sources and targets that failed as a whole.
	Errors []string `json:"errors"`
	// DryRun is set when nothing was written: the counts are what a sync would do.
	DryRun bool `json:"dry_run,omitempty"`
}

// Complete reports whether every source was read and every target written.
// Skipped items do not make a sync incomplete: they are reported and read
// again when they change.
func (s *Summary) Complete() bool { return len(s.Errors) == 0 }

// String returns the one-line summary.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d sources, %d records, %d contacts, %d cards written (%d new), %d removed",
		s.Sources, s.Records, s.Contacts, s.Created+s.Updated, s.Created, s.Removed)
	if s.UserEdits > 0 {
		fmt.Fprintf(&b, ", %d user edits kept", s.UserEdits)
	}
	if n := len(s.Skipped); n > 0 {
		fmt.Fprintf(&b, ", %d skipped (%s", n, s.Skipped[0])
		if n > 1 {
			fmt.Fprintf(&b, "; and %d more", n-1)
		}
		b.WriteString(")")
	}
	if n := len(s.Errors); n > 0 {
		fmt.Fprintf(&b, ", %d errors (%s)", n, strings.Join(s.Errors, "; "))
	}
	fmt.Fprintf(&b, ", %s", s.Duration.Round(time.Millisecond))
	if s.DryRun {
		b.WriteString(" (dry run: nothing was written)")
	}
	return b.String()
}

// Sync runs one sync against the state in st. It returns an error only when
// nothing could be saved (state unreadable, merge failed); failing sources
// and targets are in Summary.Errors and the rest still syncs.
func (r *Runner) Sync(ctx context.Context, st *state.Store) (*Summary, error) {
	start := r.Now()
	phases := newPhases()
	defer func() { r.log.Debug("sync phases", phases.attrs()...) }()
	sum := &Summary{Started: start, Sources: len(r.sources)}
	// The reads start as soon as the cursors are known, and the light part
	// of the state loads while the servers answer: most of a sync in which
	// nothing changed is waiting for them.
	cursors, err := st.Cursors(ctx)
	if err != nil {
		return sum, err
	}
	targets, err := r.allTargets(st)
	if err != nil {
		return sum, err
	}
	raw := slices.Clone(targets)
	restoreTargetCursors(raw, cursors)
	// What mail and phone logs read item by item; a dry run keeps its
	// changes in memory.
	var items ksync.ItemStore = st.Items()
	if r.DryRun {
		items = &ksync.MemItems{Base: items}
	}
	// The whole state is loaded as soon as a read shows that this sync
	// changes something, while the other reads go on: most of the time goes
	// to waiting on servers and disks. A sync in which nothing changed
	// (most of them) never starts it, and leaves the cores to the server.
	var (
		prev      *ksync.State
		loadErr   error
		loaded    = make(chan struct{})
		startLoad gosync.Once
	)
	loadCtx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	load := func() {
		startLoad.Do(func() {
			go func() {
				defer close(loaded)
				prev, loadErr = r.loadState(st, loadCtx)
			}()
		})
	}
	// noLoad waits for a load that was started, or makes sure none starts.
	noLoad := func() {
		cancelLoad()
		startLoad.Do(func() { close(loaded) })
		<-loaded
	}
	// Each read, once done, waits for the light state to tell whether it
	// changed anything (lightOK false: the light state could not be
	// loaded, and the sync ends).
	readCtx, cancelReads := context.WithCancel(ctx)
	defer cancelReads()
	var light *state.Light
	lightDone := make(chan struct{})
	lightOK := false
	changed := func(unchanged func() bool) {
		<-lightDone
		if lightOK && !unchanged() {
			load()
		}
	}
	srcReads := make([]read, len(r.sources))
	tgtReads := make([]read, len(targets))
	var ext externalRead
	var wg gosync.WaitGroup
	for i, src := range r.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := &srcReads[i]
			rd.snap, rd.err = src.Read(readCtx, cursors[src.Name()])
			changed(func() bool { return sourceUnchanged(*rd) })
		}()
	}
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := &tgtReads[i]
			rd.listing, rd.err = t.List(readCtx)
			changed(func() bool { return targetUnchanged(light, t.Name(), *rd) })
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		ext = r.readExternal(readCtx, start, items)
		changed(func() bool { return externalUnchanged(light, ext) })
	}()
	if r.cfgHash == "" {
		// Worked out while the servers answer: it costs a fresh process
		// a millisecond or two.
		r.build, r.cfgHash = buildID(), configHash(r.cfg)
	}
	in := ksync.Input{Now: start}
	light, err = st.LoadLight(ctx)
	if err == nil {
		in.Constraints, err = constraints(ctx, st)
	}
	if err != nil {
		cancelReads()
		close(lightDone)
		wg.Wait()
		return sum, err
	}
	for _, src := range r.sources {
		in.Priority = append(in.Priority, src.Name())
	}
	in.Fingerprint = r.fingerprint(in)
	if r.DryRun || !r.metaUnchanged(light, in.Fingerprint, start) {
		load()
	}
	lightOK = true
	close(lightDone)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		noLoad()
		return sum, err
	}
	phases.done("read")

	if !r.DryRun && r.nothingChanged(light, in.Fingerprint, start, srcReads, tgtReads, ext, targets) {
		noLoad()
		next := &ksync.State{Cursors: map[string]string{}}
		for k, v := range light.Cursors {
			next.Cursors[k] = v
		}
		for i, src := range r.sources {
			next.Cursors[src.Name()] = srcReads[i].snap.Cursor
		}
		saveTargetCursors(raw, next.Cursors)
		sum.Records, sum.Contacts = light.Records, light.Contacts
		sum.Duration = r.Now().Sub(start)
		// When no cursor moved either there is nothing to keep: the sync
		// writes nothing (no runs row, no transaction, no fsync).
		if !maps.Equal(light.Cursors, next.Cursors) {
			if err := st.Save(ctx, &ksync.State{Cursors: light.Cursors}, next, state.Run{Started: start, Finished: r.Now(), Summary: sum}); err != nil {
				return sum, err
			}
		}
		r.checkpoint(ctx, st)
		phases.done("save")
		return sum, nil
	}
	load()
	<-loaded
	phases.done("load")
	if loadErr != nil {
		return sum, loadErr
	}
	in.Prev = prev
	for i, t := range targets {
		err := tgtReads[i].err
		var snap ksync.Snapshot
		if err == nil {
			err = r.checkTargetShrink(prev, t, tgtReads[i].listing)
		}
		if err == nil {
			snap, err = newOnTarget(ctx, t, prev, tgtReads[i].listing)
		}
		if err != nil {
			if ctx.Err() != nil {
				return sum, ctx.Err()
			}
			// Its adopted records stay; cards made there wait for the next sync.
			in.Failed = append(in.Failed, t.Name())
			r.log.Warn("target not listed; cards made there wait for the next sync", "target", t.Name(), "err", err)
			targets[i] = failedListing{Target: t, err: err}
			continue
		}
		targets[i] = &listedTarget{Target: t, listing: tgtReads[i].listing}
		in.Snapshots = append(in.Snapshots, snap)
	}
	// Contacts brought back by kith restore are kith's own records: an
	// empty read keeps them.
	in.Snapshots = append(in.Snapshots, ksync.Snapshot{Source: ksync.RestoredSource, Cursor: prev.Cursors[ksync.RestoredSource]})
	for i, src := range r.sources {
		snap, err := srcReads[i].snap, srcReads[i].err
		if err == nil {
			snap.Source = src.Name()
			err = r.checkShrink(prev, snap)
		}
		if err != nil {
			in.Failed = append(in.Failed, src.Name())
			sum.Errors = append(sum.Errors, nameErr("source", src.Name(), err))
			r.log.Warn("source not applied; its records stay as they were", "source", src.Name(), "err", err)
			continue
		}
		in.Snapshots = append(in.Snapshots, snap)
	}
	if err := r.loadExternal(ctx, &ext, start, items); err != nil {
		return sum, err
	}
	r.external, r.kept = ext.found, ext.kept(prev)
	for _, e := range ext.errs {
		sum.Errors = append(sum.Errors, e)
	}
	phases.done("adopt")
	out, as, cmds, err := r.mergeAndWrite(ctx, st, in, targets, sum)
	phases.done("merge_write")
	if err != nil {
		return sum, err
	}
	if len(cmds) > 0 && !r.DryRun {
		// The user asked on a card to split or join: record the decisions
		// and merge again at once, so the phone shows the result now.
		if err := r.applyCommands(ctx, st, out.State, cmds); err != nil {
			return sum, err
		}
		if in.Constraints, err = constraints(ctx, st); err != nil {
			return sum, err
		}
		in.Prev = out.State
		in.Fingerprint = r.fingerprint(in)
		if out, as, _, err = r.mergeAndWrite(ctx, st, in, targets, sum); err != nil {
			return sum, err
		}
	}
	for _, p := range out.Problems {
		sum.Skipped = append(sum.Skipped, fmt.Sprintf("%s: %s: %v", p.Source, p.ID, p.Err))
		r.log.Warn("skipped", "source", p.Source, "item", p.ID, "reason", p.Err)
	}
	sum.Records, sum.Contacts = len(out.State.Records), len(out.Contacts)
	rep := r.buildReport(out, as, start)
	phases.done("assess")
	sum.Duration = r.Now().Sub(start)
	if r.DryRun {
		sum.DryRun = true
		return sum, nil
	}
	out.State.Meta[metaDay] = start.Format(time.DateOnly)
	out.State.Meta[metaExternal] = ext.hash
	out.State.Meta[metaConfig] = r.cfgHash
	saveTargetCursors(raw, out.State.Cursors)
	// The report is written before the state is saved, so that its hash is
	// saved only once the files stand.
	if err := r.writeReport(rep, out.State.Meta); err != nil {
		sum.Errors = append(sum.Errors, err.Error())
	}
	phases.done("report")
	r.pruneCursors(out.State.Cursors, targets)
	r.pruneItems(ctx, st)
	if err := st.Save(ctx, prev, out.State, state.Run{Started: start, Finished: r.Now(), Summary: sum}); err != nil {
		return sum, err
	}
	r.checkpoint(ctx, st)
	phases.done("save")
	sum.Duration = r.Now().Sub(start)
	return sum, nil
}

// pruneCursors drops from cursors those of sources and targets no longer
// in the config, as their records and target entries went: a source
// added back under its name is then read whole, not from a cursor that
// speaks of records the state no longer holds.
func (r *Runner) pruneCursors(cursors map[string]string, targets []ksync.Target) {
	keep := map[string]bool{ksync.RestoredSource: true}
	for _, src := range r.sources {
		keep[src.Name()] = true
	}
	for _, t := range targets {
		keep[t.Name()], keep[targetCursorKey(t.Name())] = true, true
	}
	for k := range cursors {
		if !keep[k] {
			delete(cursors, k)
		}
	}
}

// pruneItems drops what calendars, mail and phone logs no longer in the
// config read (item_boxes, items), as the records of a removed source go.
// A failure is only logged: the next full sync tries again.
func (r *Runner) pruneItems(ctx context.Context, st *state.Store) {
	var keep []string
	for _, src := range r.interactions {
		keep = append(keep, src.Name())
	}
	n, err := st.Items().Prune(ctx, keep)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("items of removed sources not dropped; the next sync tries again", "err", err)
		}
		return
	}
	if n > 0 {
		r.log.Info("items of sources no longer configured dropped", "items", n)
	}
}

// checkpoint folds the state's write-ahead log into the database after a
// sync, so that it never grows into the disk. The sync is saved either
// way: a failure is only logged, and the next sync tries again.
func (r *Runner) checkpoint(ctx context.Context, st *state.Store) {
	if err := st.Checkpoint(ctx); err != nil && ctx.Err() == nil {
		r.log.Warn("state not checkpointed; the next sync tries again", "err", err)
	}
}

// phases times the steps of a sync for the debug log (wall clock, not the
// Runner's clock, which tests fix).
type phases struct {
	last  time.Time
	names []string
	took  []time.Duration
}

func newPhases() *phases { return &phases{last: time.Now()} }

func (p *phases) done(name string) {
	now := time.Now()
	p.names, p.took = append(p.names, name), append(p.took, now.Sub(p.last))
	p.last = now
}

func (p *phases) attrs() []any {
	var out []any
	for i, n := range p.names {
		out = append(out, n, p.took[i].Round(time.Millisecond))
	}
	return out
}

// allTargets returns the configured targets and, with [server], the
// embedded server's book (kept in the state database).
func (r *Runner) allTargets(st *state.Store) ([]ksync.Target, error) {
	if r.cfg.Server == nil {
		return r.targets, nil
	}
	if r.book == nil || r.bookStore != st {
		srv, err := davserver.New(davserver.Options{DB: st.DB(), UsersFile: r.cfg.Server.UsersFile, Logger: r.log,
			BookName: r.cfg.Server.BookName, Now: r.Now})
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		r.book, r.bookStore = srv.Target(ServerTarget), st
	}
	return append(slices.Clip(r.targets), r.book), nil
}

// nameErr returns err's message prefixed with the thing's kind and name,
// unless the message names it already.
func nameErr(kind, name string, err error) string {
	prefix := strconv.Quote(name)
	if kind != "" {
		prefix = kind + " " + prefix
	}
	msg := err.Error()
	if strings.Contains(msg, strconv.Quote(name)) {
		return msg
	}
	return prefix + ": " + msg
}

// fingerprint names everything a merge depends on besides the records:
// the sources' priority, the user's decisions, the phone region, and this
// build of kith (a new version may merge differently).
func (r *Runner) fingerprint(in ksync.Input) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q\n", in.Priority, r.cfg.DefaultRegion)
	for _, c := range in.Constraints {
		fmt.Fprintf(h, "%q %q %v\n", c.A, c.B, c.Together)
	}
	fmt.Fprintln(h, r.build)
	return hex.EncodeToString(h.Sum(nil))
}

// buildID names this build of kith: a new version may merge differently.
func buildID() string {
	var b strings.Builder
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintln(&b, bi.GoVersion, bi.Main.Version, bi.Main.Sum)
		for _, s := range bi.Settings {
			if strings.HasPrefix(s.Key, "vcs.") {
				fmt.Fprintln(&b, s.Key, s.Value)
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			// A rebuilt binary without VCS stamps still differs in time and size.
			fmt.Fprintln(&b, fi.ModTime().UnixNano(), fi.Size())
		}
	}
	return b.String()
}

// constraints returns the user's split and join decisions in force.
func constraints(ctx context.Context, st *state.Store) ([]match.Constraint, error) {
	decisions, err := st.Decisions(ctx)
	if err != nil {
		return nil, err
	}
	var cs []match.Constraint
	for _, d := range decisions {
		cs = append(cs, match.Constraint{A: d.A, B: d.B, Together: d.Together})
	}
	return cs, nil
}

// mergeAndWrite merges the input and writes every target, recording its
// deletes in st before it makes them. It returns the
// outcome (with the targets' new entries in its state), the assessor that
// annotated the cards, and the split/join commands found on cards.
func (r *Runner) mergeAndWrite(ctx context.Context, st *state.Store, in ksync.Input, all []ksync.Target, sum *Summary) (*ksync.Outcome, *assess.Assessor, []cardCommand, error) {
	out, err := r.engine.Merge(ctx, in)
	if err != nil {
		return nil, nil, nil, err
	}
	as := assess.New(assess.Options{
		Decay:           r.cfg.Decay,
		Notes:           interactions.Options{DayFirst: r.cfg.DateOrder != "mdy"},
		StateCategories: r.cfg.Report.StateCategories,
		Normalizer:      r.engine.Normalizer(),
	}, in.Now, out.Contacts, out.State.Records, func(uid string) time.Time { return out.State.Contacts[uid].Created }, r.external)
	for uid, ins := range r.kept {
		if out.State.Contacts[uid] != nil {
			as.AddMatched(uid, ins...)
		}
	}

	var cmds []cardCommand
	var mu gosync.Mutex // annotate runs in the engine's parallel writers
	annotate := func(uid string, c vcard.Card) vcard.Card {
		c, found := takeCommands(c)
		mu.Lock()
		for _, k := range found {
			cmds = append(cmds, cardCommand{uid: uid, kind: k})
		}
		mu.Unlock()
		return as.Annotate(uid, c)
	}
	targets := map[string]map[string]*ksync.TargetEntry{}
	left := map[string][]ksync.LeftCard{} // by UID: cards removed because their contact left its sources
	for _, uid := range out.Left {
		left[uid] = nil
	}
	for _, t := range all {
		name := t.Name()
		intents := ksync.Intents{Pending: in.Prev.Pending[name], Record: func(ctx context.Context, ds []*ksync.Intent) error {
			return st.RecordIntents(ctx, name, ds)
		}}
		if r.DryRun {
			t, intents.Record = &dryTarget{Target: t, w: r.dryOut}, nil
		}
		if r.crashAfter != "" {
			t = &crashTarget{Target: t, op: r.crashAfter}
		}
		entries, ts, err := r.engine.SyncTarget(ctx, t, out.Contacts, in.Prev.GoldenOf, in.Prev.Targets[name], intents, annotate, r.log)
		targets[name] = entries
		if len(ts.Unsettled) > 0 {
			out.State.Pending[name] = ts.Unsettled
		}
		sum.Created += ts.Created
		sum.Updated += ts.Updated
		sum.Removed += ts.Removed
		sum.UserEdits += ts.UserEdits
		for _, lc := range ts.Left {
			left[lc.UID] = append(left[lc.UID], lc)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, nil, ctx.Err()
			}
			sum.Errors = append(sum.Errors, err.Error())
			r.log.Warn("target failed", "target", t.Name(), "err", err)
		}
	}
	out.State.Targets = targets
	ksync.SettleReturns(out.Contacts, targets, out.State.Left)
	// What the user wrote on the cards of contacts that left their sources
	// stays in the state, for kith restore.
	for uid, cards := range left {
		golden, _ := in.Prev.GoldenOf(uid)
		out.State.Left[uid] = r.engine.Leave(uid, golden, cards, out.State.Left[uid], in.Now)
	}
	return out, as, cmds, nil
}

// buildReport judges every contact, records the interactions and this
// week's state counts in the new state, and returns the report.
func (r *Runner) buildReport(out *ksync.Outcome, as *assess.Assessor, now time.Time) *report.Report {
	rep := &report.Report{GeneratedAt: now.UTC().Truncate(time.Second)}
	names := map[string]string{}
	var all []decay.Assessment
	// Every contact's cards on the targets, wherever they stand (a card
	// adopted in place keeps the href the user's client gave it).
	onTargets := map[string][]vcard.Card{}
	for _, target := range slices.Sorted(maps.Keys(out.State.Targets)) {
		entries := out.State.Targets[target]
		for _, href := range slices.Sorted(maps.Keys(entries)) {
			if e := entries[href]; !e.Deleted && !e.Group && e.Card != nil {
				onTargets[e.UID] = append(onTargets[e.UID], e.Card)
			}
		}
	}
	for _, c := range out.Contacts {
		// The golden card and every target's copy (which carries the user's
		// note lines) tell what happened.
		cards := append([]vcard.Card{c.Card}, onTargets[c.UID]...)
		name := c.Name()
		names[c.UID] = name
		all = append(all, as.Assess(c.UID, name, cards...))
		if ins := as.Interactions(c.UID, cards...); len(ins) > 0 {
			out.State.Interactions[c.UID] = ins
		}
		rep.Contacts = append(rep.Contacts, report.Contact{UID: c.UID, Name: name, Members: c.Members})
	}
	report.Sort(rep.Contacts)
	rep.Assess(all, r.cfg.Decay)
	rep.SetDuplicates(duplicates(out.Possible, names))
	for _, l := range out.State.Left {
		if _, back := names[l.UID]; back {
			continue // its words are on their way to the targets
		}
		rep.Left = append(rep.Left, report.Left{UID: l.UID, Name: ksync.DisplayName(l.Card), Date: l.Left.Format(time.DateOnly), Edited: l.Edited})
	}
	slices.SortFunc(rep.Left, func(a, b report.Left) int {
		return cmp.Or(cmp.Compare(b.Date, a.Date), cmp.Compare(a.Name, b.Name), cmp.Compare(a.UID, b.UID))
	})
	week := report.WeekOf(now)
	for _, w := range slices.Sorted(maps.Keys(out.State.History)) {
		if w != week {
			rep.History = append(rep.History, report.Week{Start: w, Counts: out.State.History[w]})
		}
	}
	out.State.History[week] = rep.StateCounts()
	return rep
}

// metaReport is the State.Meta key of the last report's content hash.
const metaReport = "report.hash"

// writeReport writes report.json, report.md and report.html, each
// atomically, unless their content (all but the time of making) is what
// the last sync wrote and the files are still there. meta keeps the hash.
func (r *Runner) writeReport(rep *report.Report, meta map[string]string) error {
	if err := os.MkdirAll(r.cfg.Report.Dir, 0o750); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	hash, err := rep.ContentHash()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if meta[metaReport] == hash && r.reportFilesExist() {
		return nil
	}
	delete(meta, metaReport)
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"report.json", rep.WriteJSON},
		{"report.md", rep.WriteMarkdown},
		{"report.html", rep.WriteHTML},
	} {
		var buf bytes.Buffer
		if err := f.write(&buf); err != nil {
			return fmt.Errorf("report: %s: %w", f.name, err)
		}
		path := filepath.Join(r.cfg.Report.Dir, f.name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, buf.Bytes()) {
			continue // the same as last time (the page changes once a day)
		}
		if err := atomicfile.Write(path, buf.Bytes(), 0o640); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	meta[metaReport] = hash
	return nil
}

// reportFiles are the files writeReport makes.
var reportFiles = []string{"report.json", "report.md", "report.html"}

func (r *Runner) reportFilesExist() bool {
	for _, f := range reportFiles {
		if _, err := os.Stat(filepath.Join(r.cfg.Report.Dir, f)); err != nil {
			return false
		}
	}
	return true
}

// ErrIncomplete is returned by Once when the sync ran but a source or target failed.
var ErrIncomplete = errors.New("sync incomplete")

// brokenSource stands in for a source that could not be set up.
type brokenSource struct {
	name string
	err  error
}

func (b brokenSource) Name() string { return b.name }

func (b brokenSource) Read(context.Context, string) (ksync.Snapshot, error) {
	return ksync.Snapshot{}, b.err
}
