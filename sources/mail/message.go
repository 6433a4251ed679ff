package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/text/encoding/htmlindex"
)

// message is what kith needs of one mail.
type message struct {
	date       time.Time // zero when neither the header nor the mailbox gave one
	ref        string    // Message-ID without brackets, else a header hash
	from       string    // normalised sender address, "" when none
	recipients []string  // normalised To, Cc and Bcc addresses, without duplicates
	skip       string    // why it is not personal mail, "" when it is
}

// parser reads the header fields kith needs.
type parser struct {
	addr  *mail.AddressParser
	email func(string) string // normalises one address, "" when it is none
}

// newParser returns a parser whose address lists may hold encoded words in
// any charset; a charset it does not know is read as bytes, since only the
// addresses matter.
func newParser(email func(string) string) *parser {
	return &parser{
		addr: &mail.AddressParser{WordDecoder: &mime.WordDecoder{
			CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
				enc, err := htmlindex.Get(charset)
				if err != nil {
					return input, nil
				}
				return enc.NewDecoder().Reader(input), nil
			},
		}},
		email: email,
	}
}

// noReplyLocal are the local parts (before any "+tag", lower case) of
// addresses that only send machine mail.
var noReplyLocal = map[string]bool{
	"noreply": true, "no-reply": true, "no_reply": true,
	"donotreply": true, "do-not-reply": true, "do_not_reply": true,
	"mailer-daemon": true, "postmaster": true,
	"notification": true, "notifications": true, "notify": true,
	"bounce": true, "bounces": true, "automated": true,
}

// noReplyPrefix are prefixes of such local parts ("noreply-billing",
// "bounces-123").
var noReplyPrefix = []string{"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "bounce"}

// noReply tells whether a normalised address only sends machine mail.
func noReply(addr string) bool {
	local, _, ok := strings.Cut(addr, "@")
	if !ok {
		return false
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	if noReplyLocal[local] {
		return true
	}
	for _, p := range noReplyPrefix {
		if strings.HasPrefix(local, p) {
			return true
		}
	}
	return false
}

// bulk returns why a header marks list, bulk or automatic mail, or "".
func bulk(h header) string {
	for _, f := range []string{"List-Id", "List-Unsubscribe", "List-Post"} {
		if _, ok := h[f]; ok {
			return "mailing list (" + f + ")"
		}
	}
	switch p := strings.ToLower(strings.TrimSpace(h.get("Precedence"))); p {
	case "bulk", "list", "junk":
		return "Precedence: " + p
	}
	if v, ok := h["Auto-Submitted"]; ok {
		a := strings.ToLower(strings.TrimSpace(v[0]))
		if i := strings.IndexAny(a, " ;("); i >= 0 {
			a = a[:i]
		}
		if a != "no" {
			return "Auto-Submitted: " + a
		}
	}
	for _, f := range []string{"X-Autoreply", "X-Autorespond"} {
		if _, ok := h[f]; ok {
			return "automatic reply (" + f + ")"
		}
	}
	return ""
}

// addresses parses the address lists of the named fields into normalised
// addresses.
func (p *parser) addresses(h header, fields ...string) ([]string, error) {
	var out []string
	for _, f := range fields {
		for _, v := range h[f] {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			list, err := p.addr.ParseList(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for _, a := range list {
				if e := p.email(a.Address); e != "" {
					out = append(out, e)
				}
			}
		}
	}
	return out, nil
}

// message reads what kith needs from a header. fallback is the date
// to use when the Date header is missing or unreadable.
func (p *parser) message(h header, fallback time.Time) message {
	m := message{ref: messageID(h)}
	if d, err := parseDate(h.get("Date")); err == nil {
		m.date = d
	} else {
		m.date = fallback
	}
	from, err := p.addresses(h, "From")
	if err != nil {
		m.skip = "unreadable address: " + err.Error()
		return m
	}
	if len(from) > 0 {
		m.from = from[0]
	}
	rcpt, err := p.addresses(h, "To", "Cc", "Bcc")
	if err != nil {
		m.skip = "unreadable address: " + err.Error()
		return m
	}
	seen := map[string]bool{}
	for _, r := range rcpt {
		if !seen[r] {
			seen[r] = true
			m.recipients = append(m.recipients, r)
		}
	}
	m.skip = bulk(h)
	return m
}

// messageID returns the Message-ID without its angle brackets, or a hash
// of the fields that identify a mail when there is none.
func messageID(h header) string {
	id := strings.TrimSpace(h.get("Message-Id"))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id != "" && !strings.ContainsAny(id, " \t<>") {
		return id
	}
	sum := sha256.New()
	for _, f := range []string{"From", "To", "Cc", "Date", "Subject"} {
		fmt.Fprintf(sum, "%s: %s\n", f, strings.Join(h[f], "\n"))
	}
	return "sha256:" + hex.EncodeToString(sum.Sum(nil)[:16])
}

// dateLayouts are the Date forms net/mail refuses but mailers write.
var dateLayouts = []string{
	"Monday, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 -0700 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"2006-01-02 15:04:05 -0700",
	time.RFC3339,
	time.ANSIC,
	time.UnixDate,
}

// parseDate reads a Date header.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("no date")
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t, nil
	}
	if i := strings.IndexByte(s, '('); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable date %q", s)
}
