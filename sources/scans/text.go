package scans

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decodeText turns the bytes of a text export into UTF-8: a UTF-8 BOM is
// stripped, UTF-16 is decoded (with a BOM, or without one when the NUL bytes
// give it away, as some Windows tools write it), and bytes that are not UTF-8
// are read as windows-1252, the code page of most Windows exports, or as Mac
// Roman when the lines end in a lone CR, as a Mac's do.
func decodeText(data []byte) (string, error) {
	if order, ok := utf16Order(data); ok {
		return decodeUTF16(data, order)
	}
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		return strings.ToValidUTF8(string(data[len(utf8BOM):]), "\uFFFD"), nil
	case utf8.Valid(data):
		return string(data), nil
	case bytes.IndexByte(data, '\n') < 0 && bytes.IndexByte(data, '\r') >= 0:
		// Lines that end in a lone CR come from a Mac: Excel for Mac's
		// "CSV (Macintosh)" writes Mac Roman, where ü is 0x9F (Ÿ in
		// windows-1252).
		out, err := charmap.Macintosh.NewDecoder().Bytes(data)
		if err != nil {
			return "", fmt.Errorf("decoding Mac Roman: %w", err)
		}
		return string(out), nil
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("decoding windows-1252: %w", err)
	}
	return string(out), nil
}

// loneCRsToLF turns every CR that is not followed by an LF into an LF:
// encoding/csv ends lines at LF only, and would read a file whose lines end
// in a lone CR (a Mac's) as one row.
func loneCRsToLF(text string) string {
	if !strings.Contains(text, "\r") {
		return text
	}
	b := []byte(text)
	for i, c := range b {
		if c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			b[i] = '\n'
		}
	}
	return string(b)
}

// utf16Order reports whether data is UTF-16 text, and in which byte order:
// it starts with a byte order mark, or its first two characters are ASCII
// with a NUL byte each (as some Windows tools write it, without a mark).
func utf16Order(data []byte) (unicode.Endianness, bool) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return unicode.LittleEndian, true
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return unicode.BigEndian, true
	case len(data) >= 4 && data[0] != 0 && data[1] == 0 && data[2] != 0 && data[3] == 0:
		return unicode.LittleEndian, true
	case len(data) >= 4 && data[0] == 0 && data[1] != 0 && data[2] == 0 && data[3] != 0:
		return unicode.BigEndian, true
	}
	return unicode.LittleEndian, false
}

func decodeUTF16(data []byte, order unicode.Endianness) (string, error) {
	out, err := unicode.UTF16(order, unicode.UseBOM).NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("decoding UTF-16: %w", err)
	}
	return string(out), nil
}

// detectDelimiter guesses the field separator of a CSV text from its first
// line that holds one (a note or a title may come before the header): the
// one of comma, semicolon and tab that occurs most often outside quotes.
// Ties and a text with none go to the comma.
func detectDelimiter(text string) rune {
	var comma, semi, tab int
	quoted := false
	lines := 0
	for _, r := range text {
		if r == '\n' && !quoted {
			if lines++; comma+semi+tab > 0 || lines == leadRows {
				break
			}
			continue
		}
		switch r {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				comma++
			}
		case ';':
			if !quoted {
				semi++
			}
		case '\t':
			if !quoted {
				tab++
			}
		}
	}
	switch {
	case tab > comma && tab > semi:
		return '\t'
	case semi > comma:
		return ';'
	}
	return ','
}
