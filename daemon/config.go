package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"kith/sources/carddav"
	ksync "kith/sync"
	"kith/sync/decay"
	"kith/sync/normalize"
)

// Config is kith's configuration file, decoded from TOML. Every key is
// described in config.example.toml.
type Config struct {
	// StateDir holds the state database and, by default, the report.
	StateDir string `toml:"state_dir"`
	// DefaultRegion is the ISO 3166 region for phone numbers written without
	// a country code.
	DefaultRegion string `toml:"default_region"`
	// Interval is the daemon's sync period.
	Interval Duration `toml:"interval"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`
	// Sources are read, never written.
	Sources []SourceConfig `toml:"source"`
	// Targets receive the merged set.
	Targets []TargetConfig `toml:"target"`
	// Report says where the report goes.
	Report ReportConfig `toml:"report"`
	// UserEmails are the user's own addresses: they tell the user's replies
	// in calendars and mail from everyone else's.
	UserEmails []string `toml:"user_emails"`
	// Calendars yield attended events as interactions.
	Calendars []CalendarConfig `toml:"calendar"`
	// Mail yields sent (and answered) mail as interactions.
	Mail []MailConfig `toml:"mail"`
	// PhoneLogs yield calls and texts from phone-log exports as interactions.
	PhoneLogs []PhoneLogConfig `toml:"phonelog"`
	// Server is the embedded CardDAV server ([server]); nil when the config
	// has no [server] table.
	Server *ServerConfig `toml:"server"`
	// MaxShrink is the fraction of a source's records (or of the cards kith
	// keeps on a target) that may disappear in one sync before kith holds
	// the change back and asks for --allow-shrink.
	MaxShrink float64 `toml:"max_shrink"`
	// DateOrder is how slashed dates in notes are read: "dmy" (20/11/2026,
	// the default) or "mdy" (11/20/2026).
	DateOrder string `toml:"date_order"`
	// Decay are the relationship decay model's parameters ([decay]).
	Decay decay.Params `toml:"decay"`
	// Limits bound what kith reads of one file, card or calendar ([limits]).
	Limits Limits `toml:"limits"`

	// path is the file the config was read from, for messages.
	path string
}

// SourceConfig is one [[source]] table.
type SourceConfig struct {
	Name string `toml:"name"`
	Kind string `toml:"kind"`
	// Path is the folder of a vdir or scans source.
	Path string `toml:"path"`
	DAV
	// Addressbooks picks CardDAV address books by display name or path
	// segment; empty means all.
	Addressbooks []string `toml:"addressbooks"`
}

// TargetConfig is one [[target]] table.
type TargetConfig struct {
	Name string `toml:"name"`
	Kind string `toml:"kind"`
	// Path is the folder of a vdir target.
	Path string `toml:"path"`
	DAV
}

// DAV holds the keys of a CardDAV source or target. The password is never
// in the config itself: it is read from a file, an environment variable or
// a systemd credential.
type DAV struct {
	// URL is a collection URL or a server URL to discover address books from.
	URL      string `toml:"url"`
	Username string `toml:"username"`
	// PasswordFile is a file holding the password (trailing newline ignored).
	PasswordFile string `toml:"password_file"`
	// PasswordEnv names an environment variable holding the password.
	PasswordEnv string `toml:"password_env"`
	// PasswordCredential names a systemd credential (LoadCredential=) in
	// $CREDENTIALS_DIRECTORY holding the password.
	PasswordCredential string `toml:"password_credential"`
	// Timeout bounds the wait for the server: one CardDAV or CalDAV
	// request, body included, or one IMAP answer; 0 means the client's
	// default (2m).
	Timeout Duration `toml:"timeout"`
	// CAFile is a PEM file of certificate authorities trusted beside the
	// system's for the server (a home server's own CA, or its self-signed
	// certificate).
	CAFile string `toml:"ca_file"`
}

// checkServer reports a timeout or a ca_file without a server, and a
// timeout out of 1s..1h (shorter fails a slow but working server; longer
// is a hang).
func (d DAV) checkServer(key string, bad func(key, format string, args ...any)) {
	if d.URL == "" && d.CAFile != "" {
		bad(key+".ca_file", "goes with url (a server)")
	}
	switch t := d.Timeout.Duration; {
	case t == 0:
	case d.URL == "":
		bad(key+".timeout", "goes with url (a server)")
	case t < time.Second || t > time.Hour:
		bad(key+".timeout", "%s is not between 1s and 1h", t)
	}
}

// serverKeys are the keys of DAV checkServer speaks for, alone.
func (d DAV) serverKeys() DAV { return DAV{Timeout: d.Timeout, CAFile: d.CAFile} }

// CalendarConfig is one [[calendar]] table: .ics files or folders, and/or
// a CalDAV server.
type CalendarConfig struct {
	Name  string   `toml:"name"`
	Paths []string `toml:"paths"`
	DAV
	// Calendars picks CalDAV calendars by display name or path segment.
	Calendars []string `toml:"calendars"`
	// MaxAttendees skips larger events; default 8.
	MaxAttendees int `toml:"max_attendees"`
}

// MailConfig is one [[mail]] table: Maildir folders and mbox files, or
// the folders of an IMAP server (url, username, password_*).
type MailConfig struct {
	Name string `toml:"name"`
	// Sent are the mailboxes of mail the user sent: paths, or with url
	// IMAP folder names (default: the folder marked \Sent).
	Sent []string `toml:"sent"`
	// Received are other mailboxes; only mail from people the user wrote
	// to counts. With url, IMAP folder names (default: INBOX).
	Received []string `toml:"received"`
	DAV
	// MaxRecipients skips mail to more people; default 5.
	MaxRecipients int `toml:"max_recipients"`
}

// PhoneLogConfig is one [[phonelog]] table: a folder of Android "SMS Backup
// & Restore" exports (calls-*.xml, sms-*.xml).
type PhoneLogConfig struct {
	Name string `toml:"name"`
	Path string `toml:"path"`
}

// ServerConfig is the [server] table: kith serves the merged book itself,
// and the book is a target named ServerTarget.
type ServerConfig struct {
	// Listen is the address to listen on; default 127.0.0.1:5233.
	Listen string `toml:"listen"`
	// UsersFile holds "user:bcrypt-hash" lines (kith passwd USER writes one).
	UsersFile string `toml:"users_file"`
	// TLSCert and TLSKey serve HTTPS when both are set.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// TrustForwardedFor counts failed logins per X-Forwarded-For address;
	// set it only behind a reverse proxy that sets that header.
	TrustForwardedFor bool `toml:"trust_forwarded_for"`
	// BookName is the address book's display name; default "People".
	BookName string `toml:"book_name"`
}

// ServerTarget is the target name of the embedded server's book.
const ServerTarget = "server"

// DefaultListen is the embedded server's default address.
const DefaultListen = "127.0.0.1:5233"

// ReportConfig is the [report] table.
type ReportConfig struct {
	// Dir is where report.json, report.md and report.html are written;
	// default <state_dir>/report.
	Dir string `toml:"dir"`
	// StateCategories adds each contact's state as a CATEGORIES value
	// (kith-fading, kith-cold, …) on the merged cards.
	StateCategories bool `toml:"state_categories"`
}

// Duration is a time.Duration written as a string such as "15m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration in Go's notation.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Defaults for keys left out of the config file.
const (
	DefaultStateDir = "/var/lib/kith"
	DefaultInterval = 15 * time.Minute
	// DefaultMaxShrink lets a source lose at most half its records in one sync.
	DefaultMaxShrink = 0.5
)

// Source and target kinds this build knows.
var (
	sourceKinds = []string{"vdir", "scans", "carddav"}
	targetKinds = []string{"vdir", "carddav"}
)

// LoadConfig reads, decodes, completes and validates the config at path.
// Relative paths in it are taken relative to the config file's folder.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := ParseConfig(data, filepath.Dir(path))
	if err == nil {
		err = cfg.CheckPaths()
	}
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.path = path
	return cfg, nil
}

// ParseConfig decodes TOML config data, resolves relative paths against
// baseDir, applies defaults and validates the result.
func ParseConfig(data []byte, baseDir string) (*Config, error) {
	cfg := Config{Decay: decay.DefaultParams(), MaxShrink: DefaultMaxShrink}
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return nil, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
	}
	cfg.applyDefaults(baseDir)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (c *Config) applyDefaults(baseDir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	c.StateDir = abs(c.StateDir)
	if c.Interval.Duration == 0 {
		c.Interval.Duration = DefaultInterval
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.DateOrder == "" {
		c.DateOrder = "dmy"
	}
	if c.Server != nil {
		if c.Server.Listen == "" {
			c.Server.Listen = DefaultListen
		}
		if c.Server.UsersFile == "" {
			c.Server.UsersFile = filepath.Join(c.StateDir, "users")
		}
		c.Server.UsersFile = abs(c.Server.UsersFile)
		c.Server.TLSCert, c.Server.TLSKey = abs(c.Server.TLSCert), abs(c.Server.TLSKey)
	}
	for i := range c.Sources {
		c.Sources[i].Path = abs(c.Sources[i].Path)
		c.Sources[i].CAFile = abs(c.Sources[i].CAFile)
	}
	for i := range c.Targets {
		c.Targets[i].Path = abs(c.Targets[i].Path)
		c.Targets[i].CAFile = abs(c.Targets[i].CAFile)
	}
	for i := range c.Calendars {
		c.Calendars[i].CAFile = abs(c.Calendars[i].CAFile)
		for j := range c.Calendars[i].Paths {
			c.Calendars[i].Paths[j] = abs(c.Calendars[i].Paths[j])
		}
	}
	for i := range c.Mail {
		c.Mail[i].CAFile = abs(c.Mail[i].CAFile)
		if c.Mail[i].URL != "" {
			continue // folder names on the server, not paths
		}
		for j := range c.Mail[i].Sent {
			c.Mail[i].Sent[j] = abs(c.Mail[i].Sent[j])
		}
		for j := range c.Mail[i].Received {
			c.Mail[i].Received[j] = abs(c.Mail[i].Received[j])
		}
	}
	for i := range c.PhoneLogs {
		c.PhoneLogs[i].Path = abs(c.PhoneLogs[i].Path)
	}
	if c.Report.Dir == "" {
		c.Report.Dir = filepath.Join(c.StateDir, "report")
	}
	c.Report.Dir = abs(c.Report.Dir)
	c.Limits.applyDefaults()
}

// Validate checks the config's values (not the file system: see
// CheckPaths) and returns every problem found, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Interval.Duration < time.Minute {
		bad("interval", "%s is shorter than the minimum of 1m", c.Interval.Duration)
	}
	if _, err := normalize.New(c.DefaultRegion); err != nil {
		bad("default_region", "%q is not an ISO 3166 region code", c.DefaultRegion)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.MaxShrink <= 0 || c.MaxShrink > 1 {
		bad("max_shrink", "%v is not a fraction above 0 and at most 1", c.MaxShrink)
	}
	if c.DateOrder != "dmy" && c.DateOrder != "mdy" {
		bad("date_order", "%q is not dmy or mdy", c.DateOrder)
	}
	if err := c.Decay.Validate(); err != nil {
		errs = append(errs, err)
	}
	c.Limits.validate(bad)
	if len(c.Sources) == 0 {
		bad("source", "no [[source]] configured")
	}
	names := map[string]string{ksync.RestoredSource: "kith's restored contacts"}
	if c.Server != nil {
		names[ServerTarget] = "[server] book"
		if (c.Server.TLSCert == "") != (c.Server.TLSKey == "") {
			bad("server.tls_cert", "tls_cert and tls_key go together")
		}
		if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
			bad("server.listen", "%q: %v", c.Server.Listen, err)
		}
	}
	checkName := func(table string, i int, name string) string {
		key := fmt.Sprintf("%s[%d]", table, i)
		if name == "" {
			bad(key+".name", "missing")
			return key
		}
		key = fmt.Sprintf("%s %q", table, name)
		if prev, dup := names[name]; dup {
			bad(key+".name", "duplicate name (also used by a %s)", prev)
		}
		names[name] = table
		return key
	}
	for i, s := range c.Sources {
		key := checkName("source", i, s.Name)
		if !slices.Contains(sourceKinds, s.Kind) {
			bad(key+".kind", "%q is not one of %s", s.Kind, strings.Join(sourceKinds, ", "))
		}
		checkLocation(key, s.Kind, s.Path, s.DAV, bad)
		s.checkServer(key, bad)
	}
	for i, t := range c.Targets {
		key := checkName("target", i, t.Name)
		if !slices.Contains(targetKinds, t.Kind) {
			bad(key+".kind", "%q is not one of %s", t.Kind, strings.Join(targetKinds, ", "))
		}
		checkLocation(key, t.Kind, t.Path, t.DAV, bad)
		t.checkServer(key, bad)
	}
	c.checkOwnRead(bad)
	for i, cc := range c.Calendars {
		key := checkName("calendar", i, cc.Name)
		if len(cc.Paths) == 0 && cc.URL == "" {
			bad(key+".paths", "neither paths nor url given")
		}
		cc.checkServer(key, bad)
	}
	for i, m := range c.Mail {
		key := checkName("mail", i, m.Name)
		switch {
		case m.URL != "":
			if u, err := url.Parse(m.URL); err != nil || (u.Scheme != "imaps" && u.Scheme != "imap") || u.Host == "" {
				bad(key+".url", "%q is not an imaps:// or imap:// URL", m.URL)
			} else if u.User != nil {
				bad(key+".url", "must not hold a user or password: use username and password_file, password_env or password_credential")
			}
			if m.Username == "" {
				bad(key+".username", "missing (needed with url)")
			}
			if m.PasswordFile+m.PasswordEnv+m.PasswordCredential == "" {
				bad(key+".password_file", "missing: set password_file, password_env or password_credential")
			}
		case len(m.Sent)+len(m.Received) == 0:
			bad(key+".sent", "no mailbox given (sent, received)")
		case m.DAV != m.serverKeys():
			bad(key+".username", "username and password keys go with url (an IMAP server)")
		}
		m.checkServer(key, bad)
	}
	for i, p := range c.PhoneLogs {
		key := checkName("phonelog", i, p.Name)
		if p.Path == "" {
			bad(key+".path", "missing")
		}
	}
	if len(c.Calendars)+len(c.Mail) > 0 && len(c.UserEmails) == 0 {
		bad("user_emails", "needed to read calendars and mail: your own addresses")
	}
	return errors.Join(errs...)
}

// checkOwnRead refuses a source that names a target's own collection or
// folder: kith never reads what it writes (its merged cards would come back
// as records, and a contact deleted from its source would live on). A
// CardDAV source that finds a target's book among others skips it instead.
func (c *Config) checkOwnRead(bad func(key, format string, args ...any)) {
	for _, s := range c.Sources {
		for _, t := range c.Targets {
			same := false
			switch {
			case s.Kind == "carddav" && t.Kind == "carddav":
				same = carddav.SameCollection(s.URL, t.URL)
			case (s.Kind == "vdir" || s.Kind == "scans") && t.Kind == "vdir" && s.Path != "" && t.Path != "":
				// A folder source reads its subfolders too: a target in
				// one is read back.
				if within(t.Path, s.Path) {
					bad(fmt.Sprintf("source %q", s.Name), "reads target %q's folder %s (it is %s or inside it); kith never reads what it writes (put the target outside the source's folder)", t.Name, t.Path, s.Path)
				}
			}
			if same {
				bad(fmt.Sprintf("source %q", s.Name), "reads target %q's own collection; kith never reads what it writes (point the source at the books to read)", t.Name)
			}
		}
	}
}

// within reports whether folder dir is parent or inside it, links
// resolved as far as the folders exist.
func within(dir, parent string) bool {
	rel, err := filepath.Rel(resolvePath(parent), resolvePath(dir))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolvePath is p absolute with its links resolved: of p itself when it
// exists, else of its nearest folder that does.
func resolvePath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		if dir == filepath.Dir(dir) {
			return abs
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// checkLocation checks that a folder kind has a path and a carddav kind a
// URL, each without the other's keys.
func checkLocation(key, kind, path string, dav DAV, bad func(key, format string, args ...any)) {
	if kind == "carddav" {
		if dav.URL == "" {
			bad(key+".url", "missing")
		} else if u, err := url.Parse(dav.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key+".url", "%q is not an http or https URL", dav.URL)
		} else if u.User != nil {
			bad(key+".url", "must not hold a user or password: use username and password_file, password_env or password_credential")
		}
		if path != "" {
			bad(key+".path", "not used by kind carddav (url is)")
		}
		return
	}
	if path == "" {
		bad(key+".path", "missing")
	}
	if dav != dav.serverKeys() {
		bad(key+".url", "url, username and password keys are for kind carddav")
	}
}

// CheckPaths checks that every source folder exists and can be read and
// that every target folder exists or can be made.
func (c *Config) CheckPaths() error {
	var errs []error
	for _, s := range c.Sources {
		if s.Kind == "carddav" {
			continue
		}
		if err := checkDir(s.Path, false); err != nil {
			errs = append(errs, fmt.Errorf("source %q.path: %w", s.Name, err))
		}
	}
	for _, t := range c.Targets {
		if t.Kind == "carddav" {
			continue
		}
		if err := checkDir(t.Path, true); err != nil {
			errs = append(errs, fmt.Errorf("target %q.path: %w", t.Name, err))
		}
	}
	for _, p := range c.PhoneLogs {
		if err := checkDir(p.Path, false); err != nil {
			errs = append(errs, fmt.Errorf("phonelog %q.path: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// checkDir reports whether path names a readable folder; when mayCreate is
// set a missing folder is fine as long as its parent exists.
func checkDir(path string, mayCreate bool) error {
	if path == "" {
		return errors.New("missing")
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) && mayCreate {
		if _, perr := os.Stat(filepath.Dir(path)); perr == nil {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a folder", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	f.Close()
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
