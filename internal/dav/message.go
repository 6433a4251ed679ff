package dav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of what is read from an error body and shown of it.
const (
	MaxErrorBody  = 16 << 10
	maxMessageLen = 240
	maxXMLTokens  = 2000
)

// sabreNS is the namespace of sabre/dav's (Nextcloud's, Baikal's) own
// elements in a DAV:error body: exception class, version, message.
const sabreNS = "http://sabredav.org/ns"

// ServerMessage returns what a server's error body says, for a message:
// for a DAV:error body (RFC 4918 section 16) its message element (sabre's
// s:message) and the names of its preconditions; for any other body a
// short, sanitised excerpt. A body that repeats the request's headers, or
// any of secrets, is not quoted at all.
func ServerMessage(body []byte, secrets []string) (msg string, preconditions []string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", nil
	}
	if body[0] == '<' {
		if m, pre, ok := davError(body); ok {
			return sanitise(m, secrets), pre
		}
		body = stripTags(body)
	}
	return sanitise(string(body), secrets), nil
}

// davError reads a DAV:error body: the text of its message element (any
// namespace; sabre's s:message, or a responsedescription), and the local
// names of its other children that are not sabre's own.
func davError(body []byte) (msg string, preconditions []string, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	depth, tokens := 0, 0
	var inMessage bool
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) && ok {
				break
			}
			return text.String(), preconditions, ok
		}
		if tokens++; tokens > maxXMLTokens {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if t.Name.Local != "error" {
					return "", nil, false
				}
				ok = true
				continue
			}
			if depth != 2 {
				continue
			}
			switch {
			case t.Name.Local == "message" || t.Name.Local == "responsedescription":
				inMessage = true
			case t.Name.Space == sabreNS:
			default:
				if len(preconditions) < 10 {
					preconditions = append(preconditions, t.Name.Local)
				}
			}
		case xml.EndElement:
			if depth == 2 {
				inMessage = false
			}
			depth--
		case xml.CharData:
			if inMessage && text.Len() < MaxErrorBody {
				text.Write(t)
			}
		}
	}
	return text.String(), preconditions, ok
}

// stripTags returns the text of an HTML or XML body, tags left out.
func stripTags(b []byte) []byte {
	var out []byte
	in := false
	for _, c := range b {
		switch {
		case c == '<':
			in = true
			out = append(out, ' ')
		case c == '>':
			in = false
		case !in:
			out = append(out, c)
		}
	}
	return out
}

// sanitise makes s fit for one log line: invalid UTF-8 and control
// characters dropped, white space collapsed, cut to maxMessageLen. A text
// that looks like an echo of request headers, or holds a secret, is
// replaced by a note.
func sanitise(s string, secrets []string) string {
	low := strings.ToLower(s)
	if strings.Contains(low, "authorization") && (strings.Contains(low, "basic ") || strings.Contains(low, "digest ") || strings.Contains(low, "bearer ")) {
		return "(the answer repeats the request's headers; not shown)"
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			return "(the answer holds the credentials; not shown)"
		}
	}
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if r == utf8.RuneError || (!unicode.IsPrint(r) && !unicode.IsSpace(r)) {
			continue
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
			n++
		}
		if n >= maxMessageLen {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
