package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Options configure a Source.
type Options struct {
	// Name is the configured name; it is the Source of every interaction
	// and names the mailboxes in errors and logs.
	Name string
	// Mailboxes are the Maildir folders and mbox files to read.
	Mailboxes []Mailbox
	// IMAP is a mail server to read folders from; nil means none.
	IMAP *IMAP
	// UserEmails are the user's own addresses: mail from one of them is
	// mail the user sent. At least one is required.
	UserEmails []string
	// MaxRecipients is the largest number of recipients (To, Cc and Bcc,
	// the user included) for a mail to count; 0 means DefaultMaxRecipients.
	MaxRecipients int
	// Location is the zone in which a mail's day is taken; nil means
	// time.Local.
	Location *time.Location
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives the package's logs; nil discards them.
	Logger *slog.Logger
}

// Mailbox is one Maildir folder (holding cur and new) or mbox file.
type Mailbox struct {
	Path string
	// Sent marks the user's Sent folder: all of its mail counts as sent by
	// the user, whatever its From says (an alias the user did not list).
	Sent bool
}

// DefaultMaxRecipients is the MaxRecipients used when Options leave it at
// zero: a mail to more people is an announcement, not contact.
const DefaultMaxRecipients = 5

func (o *Options) check() error {
	if o.Name == "" {
		return errors.New("mail: name: missing")
	}
	if len(o.Mailboxes) == 0 && o.IMAP == nil {
		return fmt.Errorf("mail %q: mailboxes: none given", o.Name)
	}
	for _, m := range o.Mailboxes {
		if m.Path == "" {
			return fmt.Errorf("mail %q: mailboxes: empty path", o.Name)
		}
	}
	if len(o.UserEmails) == 0 {
		return fmt.Errorf("mail %q: user_emails: missing (needed to tell sent from received mail)", o.Name)
	}
	switch {
	case o.MaxRecipients < 0:
		return fmt.Errorf("mail %q: max_recipients: must not be negative", o.Name)
	case o.MaxRecipients == 0:
		o.MaxRecipients = DefaultMaxRecipients
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// IMAP is a mail server whose folders are read (headers only).
type IMAP struct {
	// URL is imaps://host[:port] (TLS, port 993 by default) or
	// imap://host[:port] (port 143, STARTTLS required unless the host is a
	// loopback address).
	URL      string
	Username string
	// Password is never logged nor stored.
	Password string
	// Sent are the folders of mail the user sent; empty means the folder
	// the server marks \Sent (special-use), if any.
	Sent []string
	// Received are the other folders; empty means INBOX.
	Received []string
	// CAFile is a PEM file of certificate authorities trusted beside the
	// system's: a home server's own CA, or its self-signed certificate.
	CAFile string
	// TLS configures TLS; nil means the system's roots (and CAFile's).
	TLS *tls.Config
	// Timeout bounds each wait for the server (connecting, each read
	// and write); 0 means DefaultTimeout.
	Timeout time.Duration

	// dial connects to the server's address; nil means a net.Dialer.
	// Tests set it to reach a server under a name that is not loopback.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}
