package card

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
)

// Entry is one card read from a file or stream.
type Entry struct {
	// Index is the 1-based position of the card in the input, counting
	// broken cards too.
	Index int
	// Card is the card read; nil when Err != nil.
	Card vcard.Card
	// Err says why the card could not be read: a *SyntaxError naming the
	// line and the reason, or a *LimitError.
	Err error
}

// SyntaxError is a card that could not be read: the line (1-based, in the
// input as given) and what is wrong with it.
type SyntaxError struct {
	// Line is the number of the offending line, or of the BEGIN:VCARD line
	// when the card as a whole is wrong (no END:VCARD).
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error returns "line N: reason".
func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func syntaxErr(line int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// DecodeAll reads every card in data: vCard 2.1, 3.0 and 4.0. Broken cards
// are returned with Err set and do not stop the others. err is non-nil only
// when data as a whole is unusable: empty, binary, or without any
// BEGIN:VCARD line. Text outside cards (before the first BEGIN:VCARD, between
// cards, after the last END:VCARD) is ignored.
//
// Values come out raw, as described in the package comment: QUOTED-PRINTABLE
// and CHARSET are decoded (and those parameters dropped, as they no longer
// describe the value), base64 values lose their line-break whitespace, and
// vCard 2.1 values are re-escaped the 3.0 way (a literal comma in a 2.1 NOTE
// becomes `\,`), so that every decoded card means the same when written out.
func DecodeAll(data []byte) (entries []Entry, err error) {
	return Limits{}.DecodeAll(data)
}

// DecodeAll is the package's DecodeAll with the limits l: a card over a
// limit comes back with Err set to a *LimitError, and costs no more memory
// than the limit (its lines are counted, not kept).
func (l Limits) DecodeAll(data []byte) (entries []Entry, err error) {
	data, err = inputToUTF8(data)
	if err != nil {
		return nil, err
	}
	r := lineReader{data: data, lf: -1, max: int(min(l.Size, int64(^uint(0)>>1)))}
	var cur *cardBuilder
	sawBegin := false
	for {
		text, num, ok := r.logical()
		if !ok {
			break
		}
		trimmed := bytes.TrimPrefix(bytes.TrimSpace(text), bom)
		if len(trimmed) == 0 {
			continue // blank lines between cards, 2.1 base64 terminators
		}
		if bytes.EqualFold(trimmed, beginLine) {
			sawBegin = true
			if cur != nil {
				entries = append(entries, cur.fail(syntaxErr(cur.begin, "card has no END:VCARD before the next BEGIN:VCARD on line %d", num)))
			}
			cur = &cardBuilder{index: len(entries) + 1, begin: num, lim: l, size: int64(len(text))}
			continue
		}
		if cur == nil {
			continue // junk outside a card
		}
		if bytes.EqualFold(trimmed, endLine) {
			entries = append(entries, cur.finish())
			cur = nil
			continue
		}
		cur.add(text, num, r.over)
	}
	if cur != nil {
		entries = append(entries, cur.fail(syntaxErr(cur.begin, "card has no END:VCARD")))
	}
	if !sawBegin {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, errors.New("empty input, no vCard")
		}
		if bytes.IndexByte(data, 0) >= 0 {
			return nil, errors.New("binary data, not a vCard")
		}
		return nil, errors.New("no BEGIN:VCARD line, not a vCard")
	}
	return entries, nil
}

// Decode reads exactly one card, as a vdir file or a CardDAV body holds it.
// Zero cards, several cards, or a broken card are errors.
func Decode(data []byte) (vcard.Card, error) {
	return Limits{}.Decode(data)
}

// Decode is the package's Decode with the limits l; a card over one is an
// error, a *LimitError.
func (l Limits) Decode(data []byte) (vcard.Card, error) {
	entries, err := l.DecodeAll(data)
	if err != nil {
		return nil, err
	}
	switch len(entries) {
	case 0:
		return nil, errors.New("no vCard")
	case 1:
		return entries[0].Card, entries[0].Err
	default:
		return nil, fmt.Errorf("%d vCards, want one", len(entries))
	}
}

var (
	bom       = []byte("\uFEFF")
	beginLine = []byte("BEGIN:VCARD")
	endLine   = []byte("END:VCARD")
)

// UTF16Order reports whether data, the start of a card file, is UTF-16 and
// in which byte order: by its byte order mark (FF FE little-endian, FE FF
// big-endian), or without one by its first character, ASCII in any card
// ("B" of BEGIN, a blank line), spelled with a zero byte after it
// (little-endian) or before it (big-endian). The watcher uses it to read
// a file's end.
func UTF16Order(data []byte) (binary.ByteOrder, bool) {
	switch {
	case len(data) < 2:
		return nil, false
	case data[0] == 0xFF && data[1] == 0xFE, data[0] != 0 && data[1] == 0:
		return binary.LittleEndian, true
	case data[0] == 0xFE && data[1] == 0xFF, data[0] == 0 && data[1] != 0:
		return binary.BigEndian, true
	}
	return nil, false
}

// inputToUTF8 strips a UTF-8 byte order mark and converts UTF-16 input (see
// UTF16Order) to UTF-8.
func inputToUTF8(data []byte) ([]byte, error) {
	if bytes.HasPrefix(data, bom) {
		return data[len(bom):], nil
	}
	order, ok := UTF16Order(data)
	if !ok {
		return data, nil
	}
	enc := unicode.LittleEndian
	if order == binary.BigEndian {
		enc = unicode.BigEndian
	}
	out, err := unicode.UTF16(enc, unicode.ExpectBOM).NewDecoder().Bytes(data)
	if err != nil {
		// No BOM: decode with the guessed byte order.
		out, err = unicode.UTF16(enc, unicode.IgnoreBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, fmt.Errorf("decoding UTF-16 input: %w", err)
		}
	}
	return bytes.TrimPrefix(out, bom), nil
}

// lineReader splits input into physical lines (CRLF, LF or lone CR) and
// joins them into logical lines: folded continuations, QUOTED-PRINTABLE soft
// line breaks, and vCard 2.1 base64 blocks whose lines are not indented. It
// runs in time linear in the input.
type lineReader struct {
	data []byte
	pos  int
	num  int // number of the last physical line consumed
	lf   int // index of the next LF at or after pos, len(data) if none
	// max is the longest logical line kept, 0 for no limit; over is set
	// when the last logical line was longer (and cut).
	max  int
	over bool

	peeked    bool
	peekLine  []byte
	peekNum   int
	peekNext  int
	peekFound bool
}

// peek returns the next physical line and its number without consuming it.
func (r *lineReader) peek() ([]byte, int, bool) {
	if r.peeked {
		return r.peekLine, r.peekNum, r.peekFound
	}
	r.peeked = true
	r.peekNum = r.num + 1
	if r.pos >= len(r.data) {
		r.peekLine, r.peekFound, r.peekNext = nil, false, r.pos
		return nil, r.peekNum, false
	}
	rest := r.data[r.pos:]
	end := len(rest)
	next := len(rest)
	if r.lf < r.pos {
		// Remember where the next LF is: with lone-CR line ends, looking
		// for it on every line would scan the rest of the input each time.
		r.lf = len(r.data)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			r.lf = r.pos + i
		}
	}
	if r.lf < len(r.data) {
		end, next = r.lf-r.pos, r.lf-r.pos+1
	}
	if j := bytes.IndexByte(rest[:end], '\r'); j >= 0 {
		end = j
		if j+1 == len(rest) || rest[j+1] != '\n' {
			next = j + 1 // lone CR
		} else {
			next = j + 2
		}
	}
	r.peekLine, r.peekFound, r.peekNext = rest[:end], true, r.pos+next
	return r.peekLine, r.peekNum, true
}

func (r *lineReader) advance() {
	r.peek()
	r.pos = r.peekNext
	r.num = r.peekNum
	r.peeked = false
}

// logical returns the next logical line and the number of its first
// physical line.
func (r *lineReader) logical() (text []byte, num int, ok bool) {
	first, num, ok := r.peek()
	if !ok {
		return nil, num, false
	}
	r.advance()
	text = first
	r.over = false
	last := first // the physical line appended last
	var flags lineFlags
	known, owned := false, false
	colon := bytes.IndexByte(first, ':') >= 0
	flagsOf := func() lineFlags {
		// The header is parsed once, when a colon has been seen: parsing
		// on every continuation line would be quadratic.
		if !known && colon {
			flags, _ = headerFlags(text)
			known = true
		}
		return flags
	}
	join := func(b []byte) {
		if !colon && bytes.IndexByte(b, ':') >= 0 {
			colon = true
		}
		if r.over || r.max > 0 && len(text)+len(b) > r.max {
			r.over = true // counted by the caller as over the card size
			return
		}
		if !owned || len(text)+len(b) > cap(text) {
			// Copy out of the input, so that appending never overwrites
			// it, and grow by doubling, which append does not do for
			// large slices: a 2 MB photo comes in 27,000 lines.
			size := len(text)
			if owned {
				size = cap(text)
			}
			buf := make([]byte, len(text), 2*size+len(b)+64)
			copy(buf, text)
			text, owned = buf, true
		}
		text = append(text, b...)
	}
	for {
		next, _, ok := r.peek()
		if !ok {
			break
		}
		switch {
		case len(last) > 0 && last[len(last)-1] == '=' && flagsOf().qp && !isCardBoundary(next):
			// QUOTED-PRINTABLE soft line break: the next line continues
			// the value verbatim.
			text = text[:len(text)-1]
			join(next)
		case len(next) > 0 && (next[0] == ' ' || next[0] == '\t'):
			join(next[1:])
		case flagsOf().base64 && isBase64Line(next):
			join(next)
		default:
			return text, num, true
		}
		last = next
		r.advance()
	}
	return text, num, true
}

func isCardBoundary(line []byte) bool {
	t := bytes.TrimSpace(line)
	return bytes.EqualFold(t, beginLine) || bytes.EqualFold(t, endLine)
}

func isBase64Line(line []byte) bool {
	if len(line) == 0 {
		return false
	}
	for _, c := range line {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

// lineFlags are what unfolding needs to know about a property line.
type lineFlags struct {
	qp, base64 bool
}

// headerFlags parses the start of a logical line; ok is false when the
// header is broken.
func headerFlags(line []byte) (lineFlags, bool) {
	h, err := parseHeader(line)
	if err != "" {
		return lineFlags{}, false
	}
	var f lineFlags
	for _, e := range h.params[paramEncoding] {
		switch strings.ToUpper(e) {
		case "QUOTED-PRINTABLE":
			f.qp = true
		case "BASE64", "B":
			f.base64 = true
		}
	}
	return f, true
}

const (
	paramEncoding = "ENCODING"
	paramCharset  = "CHARSET"
)

// header is a parsed property line.
type header struct {
	group, name string
	params      vcard.Params
	value       []byte
}

// parseHeader splits a logical line into group, name, parameters and raw
// value. err is a message, "" when the line is well formed.
func parseHeader(line []byte) (h header, err string) {
	n := len(line)
	i := 0
	for i < n && line[i] != '.' && line[i] != ';' && line[i] != ':' {
		i++
	}
	if i == n {
		return h, "no colon between the property name and its value"
	}
	start := 0
	if line[i] == '.' {
		h.group = string(line[:i])
		if !validName(h.group) {
			return h, fmt.Sprintf("invalid group name %q", clip(h.group))
		}
		i++
		start = i
		for i < n && line[i] != ';' && line[i] != ':' {
			i++
		}
		if i == n {
			return h, "no colon between the property name and its value"
		}
	}
	name := string(line[start:i])
	if !validName(name) {
		return h, fmt.Sprintf("invalid property name %q", clip(name))
	}
	h.name = upperASCII(name)
	add := func(k, v string) {
		if h.params == nil {
			h.params = make(vcard.Params)
		}
		h.params[k] = append(h.params[k], v)
	}
	for line[i] == ';' {
		i++
		ps := i
		for i < n && line[i] != '=' && line[i] != ';' && line[i] != ':' {
			i++
		}
		if i == n {
			return h, "no colon between the property name and its value"
		}
		pname := paramString(line[ps:i])
		if line[i] != '=' {
			// vCard 2.1 bare parameter: TEL;WORK;VOICE
			for _, v := range strings.Split(pname, ",") {
				if v != "" {
					add(bareParamKey(v), unescapeParam(v))
				}
			}
			continue
		}
		i++
		if pname == "" {
			return h, "parameter with no name"
		}
		key := upperASCII(pname)
		for {
			if i < n && line[i] == '"' {
				j := bytes.IndexByte(line[i+1:], '"')
				if j < 0 {
					return h, fmt.Sprintf("parameter %s: quoted value has no closing quote", key)
				}
				v := paramString(line[i+1 : i+1+j])
				i += j + 2
				if key == vcard.ParamType {
					// RFC 6350 writes several types in one quoted string:
					// TYPE="work,voice".
					for _, t := range strings.Split(v, ",") {
						add(key, unescapeParam(t))
					}
				} else {
					add(key, unescapeParam(v))
				}
				if i == n {
					return h, "no colon between the property name and its value"
				}
				if c := line[i]; c != ',' && c != ';' && c != ':' {
					return h, fmt.Sprintf("parameter %s: %q after a quoted value", key, rune(c))
				}
			} else {
				vs := i
				for i < n && line[i] != ',' && line[i] != ';' && line[i] != ':' {
					i++
				}
				if i == n {
					return h, "no colon between the property name and its value"
				}
				add(key, unescapeParam(paramString(line[vs:i])))
			}
			if line[i] != ',' {
				break
			}
			i++
		}
	}
	h.value = line[i+1:]
	return h, ""
}

// bareParamKey is the parameter a vCard 2.1 bare value belongs to.
func bareParamKey(v string) string {
	switch upperASCII(v) {
	case "QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT":
		return paramEncoding
	case "INLINE", "URL", "CONTENT-ID", "CID":
		return vcard.ParamValue
	default:
		return vcard.ParamType
	}
}

// paramString returns b as valid UTF-8 (windows-1252 when it is not UTF-8).
func paramString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out, _ := charmap.Windows1252.NewDecoder().Bytes(b)
	return string(out)
}

// unescapeParam decodes RFC 6868 caret escapes: ^n newline, ^' double
// quote, ^^ caret. Any other caret stays.
func unescapeParam(v string) string {
	if !strings.Contains(v, "^") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '^' && i+1 < len(v) {
			switch v[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\'':
				b.WriteByte('"')
				i++
				continue
			case '^':
				b.WriteByte('^')
				i++
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// validName reports whether s is a usable property or group name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// clip shortens s for an error message, and shows control characters as
// "?": a value quoted in a log must not move the cursor or ring a bell.
func clip(s string) string {
	if len(s) > 40 {
		i := 40
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 {
			return '?'
		}
		return r
	}, s)
}

// cardBuilder collects the lines of one card until END:VCARD.
type cardBuilder struct {
	index int
	begin int // line of BEGIN:VCARD
	props []prop
	err   error // a *SyntaxError or a *LimitError
	lim   Limits
	size  int64 // bytes of the card's logical lines so far
}

type prop struct {
	num int
	header
}

func (b *cardBuilder) fail(err error) Entry {
	if b.err != nil {
		err = b.err
	}
	return Entry{Index: b.index, Err: err}
}

// add takes one logical line of the card; cut says the line was longer than
// the card size limit and was cut.
func (b *cardBuilder) add(line []byte, num int, cut bool) {
	if b.err != nil {
		return
	}
	b.size += int64(len(line)) + 1
	if cut || b.lim.Size > 0 && b.size > b.lim.Size {
		b.err = &LimitError{Key: "card_size", What: "card", Max: b.lim.Size}
		b.props = nil
		return
	}
	if b.lim.Properties > 0 && len(b.props) >= b.lim.Properties {
		b.err = &LimitError{Key: "properties", What: "card", Unit: "properties", Max: int64(b.lim.Properties)}
		b.props = nil
		return
	}
	h, msg := parseHeader(line)
	if msg != "" {
		b.err = syntaxErr(num, "%s", msg)
		return
	}
	if h.name == "BEGIN" || h.name == "END" {
		b.err = syntaxErr(num, "%s:%s inside a vCard", h.name, clip(string(h.value)))
		return
	}
	b.props = append(b.props, prop{num: num, header: h})
}

// finish converts the collected lines into a card.
func (b *cardBuilder) finish() Entry {
	if b.err != nil {
		return b.fail(nil)
	}
	v21 := false
	for _, p := range b.props {
		if p.name == vcard.FieldVersion {
			v := strings.TrimSpace(string(p.value))
			v21 = strings.HasPrefix(v, "2") || strings.HasPrefix(v, "1")
			break
		}
	}
	c := make(vcard.Card, len(b.props))
	for _, p := range b.props {
		v, err := decodeValue(p.header, v21)
		if err != nil {
			return b.fail(syntaxErr(p.num, "%s: %v", p.name, err))
		}
		params := p.params
		delete(params, paramCharset)
		if enc := params[paramEncoding]; enc != nil {
			kept := enc[:0]
			for _, e := range enc {
				if !strings.EqualFold(e, "QUOTED-PRINTABLE") {
					kept = append(kept, e)
				}
			}
			if len(kept) == 0 {
				delete(params, paramEncoding)
			} else {
				params[paramEncoding] = kept
			}
		}
		if len(params) == 0 {
			params = nil
		}
		c[p.name] = append(c[p.name], &vcard.Field{Value: v, Params: params, Group: p.group})
	}
	return Entry{Index: b.index, Card: c}
}

// decodeValue turns the value of a property line into kith's raw
// convention: QUOTED-PRINTABLE and charset decoded, UTF-8, no line breaks,
// base64 without whitespace, escaped the vCard 3.0 way.
func decodeValue(h header, v21 bool) (string, error) {
	v := h.value
	var qp, b64 bool
	for _, e := range h.params[paramEncoding] {
		switch upperASCII(e) {
		case "QUOTED-PRINTABLE":
			qp = true
		case "BASE64", "B":
			b64 = true
		}
	}
	if qp {
		var err error
		if v, err = decodeQP(v); err != nil {
			return "", err
		}
	}
	if cs := h.params[paramCharset]; len(cs) > 0 {
		var err error
		if v, err = decodeCharset(v, cs[0]); err != nil {
			return "", err
		}
	} else if !utf8.Valid(v) {
		v, _ = charmap.Windows1252.NewDecoder().Bytes(v)
	}
	s := string(v)
	if b64 {
		s = stripSpace(s)
	}
	if strings.ContainsAny(s, "\r\n") {
		s = newlinesToEscapes(s)
	}
	if v21 && !b64 {
		s = escape21(h.name, s)
	}
	return s, nil
}

func decodeQP(v []byte) ([]byte, error) {
	if bytes.IndexByte(v, '=') < 0 {
		return v, nil
	}
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+1 == len(v) {
			break // a soft line break at the very end
		}
		if i+2 >= len(v) || unhex(v[i+1]) < 0 || unhex(v[i+2]) < 0 {
			return nil, fmt.Errorf("invalid quoted-printable sequence %q", v[i:min(i+3, len(v))])
		}
		out = append(out, byte(unhex(v[i+1])<<4|unhex(v[i+2])))
		i += 2
	}
	return out, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

func decodeCharset(v []byte, name string) ([]byte, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "utf-8" || n == "utf8" {
		if !utf8.Valid(v) {
			return nil, fmt.Errorf("value is not valid UTF-8 as CHARSET=%s says", name)
		}
		return v, nil
	}
	enc, err := htmlindex.Get(n)
	if err != nil {
		enc, err = ianaindex.IANA.Encoding(n)
		if err != nil || enc == nil {
			return nil, fmt.Errorf("unknown charset %q", clip(name))
		}
	}
	if isASCII(v) && !strings.HasPrefix(n, "utf-") && !strings.HasPrefix(n, "utf1") && !strings.HasPrefix(n, "iso-2022") {
		return v, nil
	}
	out, err := enc.NewDecoder().Bytes(v)
	if err != nil {
		return nil, fmt.Errorf("decoding CHARSET=%s: %w", clip(name), err)
	}
	if !utf8.Valid(out) {
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	return out, nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func stripSpace(s string) string {
	if !strings.ContainsAny(s, " \t") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// newlinesToEscapes writes CRLF, CR and LF as `\n`.
func newlinesToEscapes(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(`\n`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// valueKind says how a property's value is escaped.
type valueKind int

const (
	kindOther      valueKind = iota // URIs, numbers, dates, unknown: left alone
	kindText                        // one text value
	kindStructured                  // components separated by ';'
	kindList                        // items separated by ','
)

func kindOf(name string) valueKind {
	switch name {
	case "FN", "NOTE", "TITLE", "ROLE", "LABEL", "MAILER", "PRODID", "SORT-STRING", "NAME":
		return kindText
	case "N", "ADR", "ORG":
		return kindStructured
	case "CATEGORIES", "NICKNAME":
		return kindList
	}
	return kindOther
}

// escape21 re-escapes a vCard 2.1 value the 3.0 way. In 2.1 only `\;` is an
// escape and a comma is a plain character; most writers also use `\\` and
// `\n`. Unknown properties are left alone: their grammar is unknown.
func escape21(name, s string) string {
	kind := kindOf(name)
	if kind == kindOther || !strings.ContainsAny(s, `\,;`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				switch s[i+1] {
				case '\\', ';', ',', 'n', 'N', ':':
					b.WriteByte('\\')
					b.WriteByte(s[i+1])
					i++
					continue
				}
			}
			b.WriteString(`\\`)
		case ',':
			if kind == kindList {
				b.WriteByte(',')
			} else {
				b.WriteString(`\,`)
			}
		case ';':
			if kind == kindStructured {
				b.WriteByte(';')
			} else {
				b.WriteString(`\;`)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
