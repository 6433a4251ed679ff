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

// storedVersion returns the VERSION value of vCard text without decoding it.
func storedVersion(data []byte) string {
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

// render returns a stored card as a client should get it: converted to
// vCard 3.0 when version is "3.0" and the card is not 3.0, limited to fields
// when fields is not nil. A card stored as 3.0 is served as 3.0 to a client
// asking for 4.0: kith has no 3.0 → 4.0 conversion, and every 4.0 client
// reads 3.0.
func render(data []byte, version string, fields []string) []byte {
	convert := version == "3.0" && storedVersion(data) != "3.0"
	if !convert && fields == nil {
		return data
	}
	c, err := card.Decode(data)
	if err != nil {
		return data // stored cards decoded when they were written
	}
	if convert {
		c = card.ToV3(c)
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
