package card

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
)

// maxLine is the longest line Encode writes, in octets without the CRLF
// (RFC 6350 section 3.2).
const maxLine = 75

// Encode writes c as vCard text: BEGIN:VCARD, the VERSION property, then the
// other properties sorted by name (properties of one name in the card's
// order, which clients read as priority), parameters sorted by name, raw
// values written verbatim, lines folded at 75 octets (never inside a UTF-8
// sequence), CRLF line ends, END:VCARD. Equal cards give equal bytes.
// Property and parameter names are written upper-case, as Decode returns
// them, so a card built with "X-ABLabel" hashes like the card read back.
//
// Encode refuses a card with a property or group name that could not be read
// back (empty, BEGIN, END, or characters other than letters, digits, '-' and
// '_'), and writes nothing then. A line break in a raw value is written as
// `\n`, since a raw value cannot hold one.
func Encode(w io.Writer, c vcard.Card) error {
	if err := check(c); err != nil {
		return err
	}
	_, err := w.Write(EncodeBytes(c))
	return err
}

// EncodeBytes returns the vCard text Encode writes. A card Encode would
// refuse is written anyway, and will not read back as it was.
func EncodeBytes(c vcard.Card) []byte {
	e := encoder{buf: make([]byte, 0, 512)}
	e.raw("BEGIN:VCARD")
	names := make([]string, 0, len(c))
	for name := range c {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		ua, ub := upperASCII(a), upperASCII(b)
		if va, vb := ua == vcard.FieldVersion, ub == vcard.FieldVersion; va != vb {
			if va {
				return -1
			}
			return 1
		}
		if ua != ub {
			return strings.Compare(ua, ub)
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		for _, f := range c[name] {
			e.field(upperASCII(name), f)
		}
	}
	e.raw("END:VCARD")
	return e.buf
}

// Hash returns the hex SHA-256 of EncodeBytes(c): the content hash kith
// stores. Cards that differ only in the order of their parameters or of
// properties of different names have the same hash.
func Hash(c vcard.Card) string {
	sum := sha256.Sum256(EncodeBytes(c))
	return hex.EncodeToString(sum[:])
}

func check(c vcard.Card) error {
	for name, fields := range c {
		if u := upperASCII(name); !validName(name) || u == "BEGIN" || u == "END" {
			return fmt.Errorf("property %q: invalid name", clip(name))
		}
		for _, f := range fields {
			if f != nil && f.Group != "" && !validName(f.Group) {
				return fmt.Errorf("property %s: invalid group %q", name, clip(f.Group))
			}
		}
	}
	return nil
}

type encoder struct {
	buf  []byte
	line []byte // scratch: the unfolded line being written
}

func (e *encoder) raw(s string) {
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, '\r', '\n')
}

func (e *encoder) field(name string, f *vcard.Field) {
	if f == nil {
		return
	}
	l := e.line[:0]
	if f.Group != "" {
		l = append(l, f.Group...)
		l = append(l, '.')
	}
	l = append(l, name...)
	keys := make([]string, 0, len(f.Params))
	for k, vs := range f.Params {
		if len(vs) > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := strings.Compare(upperASCII(a), upperASCII(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		l = append(l, ';')
		l = append(l, upperASCII(k)...)
		l = append(l, '=')
		for i, v := range f.Params[k] {
			if i > 0 {
				l = append(l, ',')
			}
			l = appendParamValue(l, v)
		}
	}
	l = append(l, ':')
	l = appendValue(l, f.Value)
	e.line = l
	e.fold(l)
}

// fold writes l as lines of at most maxLine octets; continuation lines
// start with a space. A cut never falls inside a UTF-8 sequence.
func (e *encoder) fold(l []byte) {
	limit := maxLine
	for len(l) > limit {
		cut := limit
		for back := 0; back < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(l[cut]); back++ {
			cut--
		}
		if cut == 0 {
			cut = limit
		}
		e.buf = append(e.buf, l[:cut]...)
		e.buf = append(e.buf, '\r', '\n', ' ')
		l = l[cut:]
		limit = maxLine - 1
	}
	e.buf = append(e.buf, l...)
	e.buf = append(e.buf, '\r', '\n')
}

// appendValue appends a raw value; a line break, which a raw value cannot
// hold, becomes `\n`.
func appendValue(l []byte, v string) []byte {
	if !strings.ContainsAny(v, "\r\n") {
		return append(l, v...)
	}
	return append(l, newlinesToEscapes(v)...)
}

// appendParamValue appends v quoted when it holds ':' ';' ',' or starts or
// ends with a space or tab, with RFC 6868 escapes for a double quote, a line
// break and a caret that would otherwise read as an escape.
func appendParamValue(l []byte, v string) []byte {
	quote := strings.ContainsAny(v, ":;,") ||
		v != "" && (v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t')
	if quote {
		l = append(l, '"')
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"':
			l = append(l, '^', '\'')
		case '\r':
			if i+1 < len(v) && v[i+1] == '\n' {
				i++
			}
			l = append(l, '^', 'n')
		case '\n':
			l = append(l, '^', 'n')
		case '^':
			// A caret is doubled when what follows it would otherwise
			// read as an escape: ^ ' n, or a " or line break, which are
			// written as ^' and ^n.
			if i+1 < len(v) && strings.IndexByte("^'n\"\r\n", v[i+1]) >= 0 {
				l = append(l, '^', '^')
			} else {
				l = append(l, '^')
			}
		default:
			l = append(l, c)
		}
	}
	if quote {
		l = append(l, '"')
	}
	return l
}
