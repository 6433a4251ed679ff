package davserver

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// appleAgents are User-Agent fragments of Apple's contacts clients, which
// drop vCard 4.0 cards: they get 3.0 whatever is stored.
var appleAgents = []string{
	"iOS/", "iPadOS/", "iPhone", "macOS/", "Mac OS X/", "Mac_OS_X", "Mac+OS+X",
	"dataaccessd", "accountsd", "AddressBook", "CFNetwork", "DAVKit", "Contacts/",
}

// isApple reports whether the request comes from an Apple client.
func isApple(r *http.Request) bool {
	ua := r.Header.Get("User-Agent")
	for _, a := range appleAgents {
		if strings.Contains(ua, a) {
			return true
		}
	}
	return false
}

// wantVersion is the vCard version to serve: the one asked for (address-data
// version, or the version parameter of a text/vcard Accept range), else 3.0
// for Apple clients, else "" (as stored).
func wantVersion(r *http.Request, asked string) string {
	if asked != "" {
		return asked
	}
	for _, accept := range r.Header.Values("Accept") {
		for _, rng := range strings.Split(accept, ",") {
			mt, _, _ := strings.Cut(rng, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if mt != "text/vcard" && mt != "text/x-vcard" {
				continue
			}
			if v := versionParam(rng); v != "" && !strings.Contains(rng, "q=0;") && !strings.HasSuffix(strings.TrimSpace(rng), "q=0") {
				return v
			}
		}
	}
	if isApple(r) {
		return "3.0"
	}
	return ""
}

// versionHead is how much of a stored card is looked at for its VERSION:
// listings read only that much of each card, and every place that decides
// how a card is served looks at the same bytes, so that the ETag a listing
// gives and the card a GET returns always agree.
const versionHead = 1024

// storedVersion returns the VERSION value of vCard text without decoding
// it, looking at its first versionHead bytes only; "" when there is none.
func storedVersion(data []byte) string {
	if len(data) > versionHead {
		data = data[:versionHead]
	}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) > 8 && bytes.EqualFold(line[:8], []byte("VERSION:")) {
			return string(bytes.TrimSpace(line[8:]))
		}
	}
	return ""
}

// Versions a stored card can be served as, besides as stored.
const (
	v3 = "3.0"
	v4 = "4.0"
)

// conversion returns the version a card stored in version stored is
// converted to for a client that wants version: "" when it is served as
// stored (nothing asked, an unknown version asked, or the card is in that
// version already).
func conversion(stored, version string) string {
	switch {
	case version == v3 && stored != v3:
		return v3
	case version == v4 && !strings.HasPrefix(stored, "4"):
		return v4
	}
	return ""
}

// reprETag is the ETag of one representation of a card whose stored form
// has etag: the stored card and each of its conversions have a strong ETag
// of their own (RFC 9110 8.8.3), so that a client never takes a 3.0
// rendering for the 4.0 card it wrote. A conversion is a function of the
// stored bytes, so its ETag changes exactly when the stored card does.
func reprETag(etag, conv string) string {
	switch conv {
	case v3:
		return etag + "-v3"
	case v4:
		return etag + "-v4"
	}
	return etag
}

// storedETag returns the stored card's ETag that a representation's ETag
// names.
func storedETag(tag string) string {
	if base, ok := strings.CutSuffix(tag, "-v3"); ok {
		return base
	}
	if base, ok := strings.CutSuffix(tag, "-v4"); ok {
		return base
	}
	return tag
}

// render returns a stored card as a client should get it: converted to the
// version conversion names (vCard 3.0 for Apple, 4.0 for a client that asks
// for it), limited to fields when fields is not nil.
func render(data []byte, version string, fields []string) []byte {
	conv := conversion(storedVersion(data), version)
	if conv == "" && fields == nil {
		return data
	}
	c, err := card.Decode(data)
	if err != nil {
		return data // stored cards decoded when they were written
	}
	switch conv {
	case v3:
		c = card.ToV3(c)
	case v4:
		c = card.ToV4(c)
	}
	if fields != nil {
		keep := vcard.Card{vcard.FieldVersion: c[vcard.FieldVersion], vcard.FieldUID: c[vcard.FieldUID]}
		for _, f := range fields {
			if v, ok := c[f]; ok {
				keep[f] = v
			}
		}
		for k, v := range keep {
			if v == nil {
				delete(keep, k)
			}
		}
		c = keep
	}
	return card.EncodeBytes(c)
}
