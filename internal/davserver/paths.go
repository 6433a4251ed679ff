package davserver

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"kith/sync/card"
)

// kind is the kind of resource a path names.
type kind int

const (
	kindRoot       kind = iota // "/": discovery
	kindPrincipals             // "/dav/": the principal collection
	kindPrincipal              // "/dav/USER/"
	kindHome                   // "/dav/USER/contacts/"
	kindBook                   // "/dav/USER/contacts/people/"
	kindCard                   // "/dav/USER/contacts/people/NAME"
)

func principalPath(user string) string { return davPrefix + "/" + url.PathEscape(user) + "/" }
func homePath(user string) string      { return principalPath(user) + homeName + "/" }
func bookPath(user string) string      { return homePath(user) + bookSlug + "/" }
func cardPath(user, name string) string {
	return bookPath(user) + url.PathEscape(name)
}

// errBadPath is a path that tries to leave its place (dot segments,
// encoded slashes, control characters): 400.
var errBadPath = errors.New("bad path")

// errNoPath is a path that names nothing the server has: 404.
var errNoPath = errors.New("not found")

// location is a parsed request path.
type location struct {
	kind kind
	// name is the card's name inside the book (kindCard only).
	name string
}

// parsePath resolves the escaped path of a request made by user. Every
// segment is unescaped on its own, so an encoded slash can never add a
// level, and dot segments are refused rather than resolved.
func parsePath(escaped, user string) (location, error) {
	if escaped == "/" || escaped == "" {
		return location{kind: kindRoot}, nil
	}
	if !strings.HasPrefix(escaped, "/") {
		return location{}, errBadPath
	}
	segs := strings.Split(strings.TrimSuffix(escaped[1:], "/"), "/")
	dir := strings.HasSuffix(escaped, "/")
	for i, seg := range segs {
		s, err := url.PathUnescape(seg)
		if err != nil {
			return location{}, errBadPath
		}
		if s == "" || s == "." || s == ".." {
			return location{}, errBadPath
		}
		segs[i] = s
	}
	if segs[0] != strings.TrimPrefix(davPrefix, "/") {
		return location{}, errNoPath
	}
	switch len(segs) {
	case 1:
		return location{kind: kindPrincipals}, nil
	}
	if segs[1] != user {
		return location{}, errNoPath
	}
	switch {
	case len(segs) == 2:
		return location{kind: kindPrincipal}, nil
	case segs[2] != homeName:
		return location{}, errNoPath
	case len(segs) == 3:
		return location{kind: kindHome}, nil
	case segs[3] != bookSlug:
		return location{}, errNoPath
	case len(segs) == 4:
		return location{kind: kindBook}, nil
	case len(segs) == 5 && !dir:
		if err := checkName(segs[4]); err != nil {
			return location{}, errBadPath
		}
		return location{kind: kindCard, name: segs[4]}, nil
	}
	return location{}, errNoPath
}

// checkName accepts a card name that is a plain, visible file name: the
// engine's hrefs ("<uid>.vcf") become file names in vdir targets, so the
// server never stores one that could not be.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty card name")
	case len(name) > 255:
		return fmt.Errorf("card name %q: longer than 255 bytes", name[:32]+"…")
	case strings.ContainsAny(name, "/\\"):
		return fmt.Errorf("card name %q: contains a slash", name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("card name %q: hidden or relative", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("card name %q: control character", name)
		}
	}
	return nil
}

// checkUID refuses a raw UID that could escape a folder if some program
// used it as a file name (kith's vdir targets name files "<uid>.vcf"), raw
// or unescaped.
func checkUID(uid string) error {
	switch {
	case strings.Contains(strings.NewReplacer(`\,`, "", `\;`, "").Replace(uid), `\`):
		return fmt.Errorf("UID %q: contains a backslash", uid)
	case uid != card.Text(uid):
		return checkUID(card.Text(uid))
	case len(uid) > 1024:
		return errors.New("UID longer than 1024 bytes")
	case strings.ContainsAny(uid, "/\\"):
		return fmt.Errorf("UID %q: contains a slash", uid)
	case strings.Contains(uid, ".."):
		return fmt.Errorf("UID %q: contains \"..\"", uid)
	case strings.HasPrefix(uid, "."):
		return fmt.Errorf("UID %q: starts with a dot", uid)
	}
	for _, r := range uid {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("UID %q: control character", uid)
		}
	}
	return nil
}

// hrefPath returns the escaped path of an href from a request body, which
// may be a full URL or a path.
func hrefPath(href string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return "", errBadPath
	}
	return u.EscapedPath(), nil
}
