package calendar

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Options configure a Source. A Source reads Paths, a CalDAV server, or both.
type Options struct {
	// Name is the configured name; it is the Source of every interaction
	// and names the calendar in errors and logs.
	Name string
	// Paths are .ics files or folders searched recursively for .ics files.
	Paths []string
	// URL is a CalDAV server, calendar home or calendar collection; empty
	// means no CalDAV.
	URL string
	// Username and Password log in when Username is set, with Basic or
	// Digest as the server asks (dav.Auth: over http nothing is sent
	// before the server names its scheme). The password is never logged
	// or put in an error, and goes only to the configured server.
	Username string
	Password string
	// Calendars picks CalDAV calendars by display name or last path
	// segment; empty means every calendar that holds events.
	Calendars []string
	// UserEmails are the user's own addresses, used to find the user among
	// an event's organizer and attendees. At least one is required.
	UserEmails []string
	// MaxAttendees is the largest number of people invited (the user
	// included, rooms and resources not) for an event to count; 0 means
	// DefaultMaxAttendees.
	MaxAttendees int
	// Location is the zone of floating times and of interaction days; nil
	// means time.Local.
	Location *time.Location
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// HTTPClient makes CalDAV requests; nil means a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one CalDAV request, body included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Logger receives the package's logs; nil discards them.
	Logger *slog.Logger
	// Limits bound each .ics file and CalDAV answer; zero fields mean
	// DefaultLimits'.
	Limits Limits
}

// DefaultLimits are the limits used where Options leave them at zero.
var DefaultLimits = Limits{Size: 64 << 20, Depth: 20}

// DefaultTimeout bounds one CalDAV request when Options leave Timeout at
// zero.
const DefaultTimeout = 2 * time.Minute

// DefaultMaxAttendees is the MaxAttendees used when Options leave it at
// zero: larger meetings are not personal contact (Dunbar's conversation
// size is about 4; a meeting of 8 is already a crowd).
const DefaultMaxAttendees = 8

// check validates o and fills in its defaults.
func (o *Options) check() error {
	if o.Name == "" {
		return errors.New("calendar: name: missing")
	}
	if len(o.Paths) == 0 && o.URL == "" {
		return fmt.Errorf("calendar %q: neither paths nor url given", o.Name)
	}
	for _, p := range o.Paths {
		if p == "" {
			return fmt.Errorf("calendar %q: paths: empty path", o.Name)
		}
	}
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil {
			return fmt.Errorf("calendar %q: url: %w", o.Name, errors.Unwrap(err))
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("calendar %q: url: scheme must be http or https", o.Name)
		}
		if u.Host == "" {
			return fmt.Errorf("calendar %q: url: no host", o.Name)
		}
		if u.User != nil {
			return fmt.Errorf("calendar %q: url: must not hold user or password", o.Name)
		}
	}
	if len(o.UserEmails) == 0 {
		return fmt.Errorf("calendar %q: user_emails: missing (needed to tell which events the user attended)", o.Name)
	}
	switch {
	case o.MaxAttendees < 0:
		return fmt.Errorf("calendar %q: max_attendees: must not be negative", o.Name)
	case o.MaxAttendees == 0:
		o.MaxAttendees = DefaultMaxAttendees
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: cmp.Or(o.Timeout, DefaultTimeout)}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Limits.Size <= 0 {
		o.Limits.Size = DefaultLimits.Size
	}
	if o.Limits.Depth <= 0 {
		o.Limits.Depth = DefaultLimits.Depth
	}
	return nil
}
