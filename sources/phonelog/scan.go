package phonelog

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
)

// maxValue is the longest attribute value kept; longer ones (message
// bodies, MMS pictures in base64) are skipped as they stream by.
const maxValue = 1024

// maxName bounds element and attribute names.
const maxName = 64

// maxAttrs bounds the attributes kept per element.
const maxAttrs = 64

// element is one start tag: its name and the attributes asked for.
type element struct {
	name  string
	attrs map[string]string
}

// scanner reads the start tags of an XML stream without building a tree:
// memory stays bounded whatever the input (a 200 MB MMS picture in an
// attribute is skipped byte by byte). It knows what SMS Backup & Restore
// writes: elements with attributes, comments, processing instructions,
// CDATA, a DOCTYPE; entities in kept values are decoded. Malformed input
// ends the scan with an error, never a hang or a crash.
type scanner struct {
	r    *bufio.Reader
	want map[string]map[string]bool // element → attributes to keep
	buf  []byte
}

func newScanner(r io.Reader, want map[string]map[string]bool) *scanner {
	return &scanner{r: bufio.NewReaderSize(r, 64<<10), want: want}
}

var errMalformed = errors.New("malformed XML")

// next returns the next wanted start tag, or io.EOF at the end.
func (s *scanner) next() (element, error) {
	for {
		if _, err := s.r.ReadSlice('<'); err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue // text between tags: skipped
			}
			return element{}, err
		}
		c, err := s.r.ReadByte()
		if err != nil {
			return element{}, eof(err)
		}
		switch c {
		case '?':
			if err := s.skipUntil("?>"); err != nil {
				return element{}, err
			}
			continue
		case '!':
			if err := s.skipBang(); err != nil {
				return element{}, err
			}
			continue
		case '/':
			if err := s.skipUntil(">"); err != nil {
				return element{}, err
			}
			continue
		}
		s.r.UnreadByte()
		name, err := s.name()
		if err != nil {
			return element{}, err
		}
		attrs := s.want[name]
		el := element{name: name}
		if attrs != nil {
			el.attrs = map[string]string{}
		}
		if err := s.attributes(attrs, el.attrs); err != nil {
			return element{}, err
		}
		if attrs != nil {
			return el, nil
		}
	}
}

func eof(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// name reads an element or attribute name.
func (s *scanner) name() (string, error) {
	s.buf = s.buf[:0]
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return "", eof(err)
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/' || c == '=' {
			s.r.UnreadByte()
			if len(s.buf) == 0 {
				return "", errMalformed
			}
			return string(s.buf), nil
		}
		if c == '<' || c == '"' || c == '\'' || len(s.buf) >= maxName {
			return "", errMalformed
		}
		s.buf = append(s.buf, c)
	}
}

func (s *scanner) skipSpace() (byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, eof(err)
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c, nil
		}
	}
}

// attributes reads the attributes up to the tag's end, keeping those in
// want (nil: none) into out.
func (s *scanner) attributes(want map[string]bool, out map[string]string) error {
	for n := 0; ; n++ {
		c, err := s.skipSpace()
		if err != nil {
			return err
		}
		switch c {
		case '>':
			return nil
		case '/':
			if c, err = s.r.ReadByte(); err != nil {
				return eof(err)
			} else if c != '>' {
				return errMalformed
			}
			return nil
		}
		s.r.UnreadByte()
		name, err := s.name()
		if err != nil {
			return err
		}
		if c, err = s.skipSpace(); err != nil {
			return err
		} else if c != '=' {
			return errMalformed
		}
		q, err := s.skipSpace()
		if err != nil {
			return err
		}
		if q != '"' && q != '\'' {
			return errMalformed
		}
		keep := want[name] && n < maxAttrs
		v, err := s.value(q, keep)
		if err != nil {
			return err
		}
		if keep {
			out[name] = v
		}
	}
}

// value reads an attribute value up to the quote q; kept values longer
// than maxValue are dropped (read as "").
func (s *scanner) value(q byte, keep bool) (string, error) {
	s.buf = s.buf[:0]
	long := false
	for {
		chunk, err := s.r.ReadSlice(q)
		if keep && !long {
			if len(s.buf)+len(chunk) > maxValue+1 {
				long = true
			} else {
				s.buf = append(s.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			if !keep || long {
				return "", nil
			}
			return unescape(string(s.buf[:len(s.buf)-1])), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return "", eof(err)
		}
	}
}

// skipUntil skips past the next occurrence of end.
func (s *scanner) skipUntil(end string) error {
	last := end[len(end)-1]
	tail := make([]byte, 0, len(end))
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return eof(err)
		}
		if len(tail) == len(end) {
			tail = append(tail[:0], tail[1:]...)
		}
		tail = append(tail, c)
		if c == last && string(tail) == end {
			return nil
		}
	}
}

// skipBang skips a comment, CDATA section or declaration after "<!".
func (s *scanner) skipBang() error {
	head, err := s.r.Peek(2)
	if err == nil && string(head) == "--" {
		return s.skipUntil("-->")
	}
	if head, err := s.r.Peek(7); err == nil && string(head) == "[CDATA[" {
		return s.skipUntil("]]>")
	}
	return s.skipUntil(">")
}

// unescape decodes the five XML entities and character references; an
// unknown entity is kept as written.
func unescape(v string) string {
	if !strings.Contains(v, "&") {
		return v
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(v, '&')
		if i < 0 {
			b.WriteString(v)
			return b.String()
		}
		b.WriteString(v[:i])
		v = v[i:]
		j := strings.IndexByte(v, ';')
		if j < 0 || j > 12 {
			b.WriteByte('&')
			v = v[1:]
			continue
		}
		ent := v[1:j]
		switch {
		case ent == "amp":
			b.WriteByte('&')
		case ent == "lt":
			b.WriteByte('<')
		case ent == "gt":
			b.WriteByte('>')
		case ent == "quot":
			b.WriteByte('"')
		case ent == "apos":
			b.WriteByte('\'')
		case strings.HasPrefix(ent, "#x") || strings.HasPrefix(ent, "#X"):
			if n, err := strconv.ParseUint(ent[2:], 16, 32); err == nil && n <= 0x10FFFF {
				b.WriteRune(rune(n))
			}
		case strings.HasPrefix(ent, "#"):
			if n, err := strconv.ParseUint(ent[1:], 10, 32); err == nil && n <= 0x10FFFF {
				b.WriteRune(rune(n))
			}
		default:
			b.WriteString(v[:j+1])
		}
		v = v[j+1:]
	}
}
