package mail

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/textproto"
	"strings"
)

// maxLine is the longest line kept; the rest of a longer line is dropped
// (long lines are bodies; a header line is far shorter).
const maxLine = 64 << 10

// maxHeader bounds the header of one message; the rest is ignored.
const maxHeader = 1 << 20

// lineReader reads lines without their line ending (LF or CRLF), keeping at
// most maxLine bytes of each.
type lineReader struct {
	br  *bufio.Reader
	buf []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, maxLine)}
}

// reset makes l read r, keeping its buffer.
func (l *lineReader) reset(r io.Reader) { l.br.Reset(r) }

// next returns the next line; the slice is valid until the next call. It
// returns io.EOF after the last line.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.br.ReadSlice('\n')
		if len(l.buf)+len(chunk) <= maxLine {
			l.buf = append(l.buf, chunk...)
		}
		switch {
		case err == nil:
			return trimEOL(l.buf), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(l.buf) == 0 && len(chunk) == 0 {
				return nil, io.EOF
			}
			return trimEOL(l.buf), nil
		default:
			return nil, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// header holds a message's header fields by canonical name, unfolded,
// in order of appearance.
type header map[string][]string

// get returns the first value of a field, "" when absent.
func (h header) get(name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// headerBuilder collects header lines: a field starts with "Name:", a line
// starting with a space or tab continues it, anything else (a line without
// a colon, a name with spaces) is ignored rather than failing the message.
type headerBuilder struct {
	h    header
	name string
	val  strings.Builder
	size int
}

func newHeaderBuilder() *headerBuilder { return &headerBuilder{h: header{}} }

func (b *headerBuilder) line(l []byte) {
	if b.size += len(l); b.size > maxHeader {
		return
	}
	if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
		if b.name != "" {
			b.val.WriteByte(' ')
			b.val.Write(bytes.TrimSpace(l))
		}
		return
	}
	b.flush()
	i := bytes.IndexByte(l, ':')
	if i <= 0 {
		return
	}
	name := bytes.TrimRight(l[:i], " \t") // "Subject :" occurs
	if !validName(name) {
		return
	}
	b.name = textproto.CanonicalMIMEHeaderKey(string(name))
	b.val.Write(bytes.TrimSpace(l[i+1:]))
}

func (b *headerBuilder) flush() {
	if b.name != "" {
		b.h[b.name] = append(b.h[b.name], b.val.String())
	}
	b.name = ""
	b.val.Reset()
}

func (b *headerBuilder) done() header {
	b.flush()
	return b.h
}

// validName tells whether a header field name is printable ASCII without
// spaces or colons (RFC 5322 ftext).
func validName(n []byte) bool {
	if len(n) == 0 {
		return false
	}
	for _, c := range n {
		if c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// readHeader reads a message's header from r up to the blank line that
// ends it (or the end of r); the body is never read.
func readHeader(r io.Reader) (header, error) {
	return readHeaderFrom(newLineReader(r))
}

// readHeaderFrom reads a header from lr's stream.
func readHeaderFrom(lr *lineReader) (header, error) {
	b := newHeaderBuilder()
	for {
		l, err := lr.next()
		if errors.Is(err, io.EOF) {
			return b.done(), nil
		}
		if err != nil {
			return nil, err
		}
		if len(l) == 0 {
			return b.done(), nil
		}
		b.line(l)
	}
}
