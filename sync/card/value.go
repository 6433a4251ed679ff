package card

import "strings"

// Text unescapes a raw TEXT value: `\n` and `\N` become a newline, `\,` `\;`
// `\:` and `\\` lose their backslash. An unknown escape keeps its character.
func Text(raw string) string {
	if !strings.Contains(raw, `\`) {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 == len(raw) {
			b.WriteByte(c)
			continue
		}
		i++
		switch raw[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		default:
			b.WriteByte(raw[i])
		}
	}
	return b.String()
}

// EscapeText is the inverse of Text for a single text value: backslash,
// comma, semicolon and newline are escaped.
func EscapeText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ',', ';':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				continue
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

// split cuts raw at every unescaped sep and unescapes each part.
func split(raw string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, Text(raw[start:i]))
			start = i + 1
		}
	}
	return append(parts, Text(raw[start:]))
}

// Components splits a structured raw value (N, ADR, ORG) at unescaped
// semicolons and unescapes each component.
func Components(raw string) []string { return split(raw, ';') }

// List splits a raw list value (CATEGORIES, NICKNAME) at unescaped commas and
// unescapes each item. Empty items are dropped.
func List(raw string) []string {
	var out []string
	for _, s := range split(raw, ',') {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// JoinComponents escapes each component and joins them with semicolons.
func JoinComponents(parts ...string) string { return joinEscaped(parts, ";") }

// JoinList escapes each item and joins them with commas.
func JoinList(items []string) string { return joinEscaped(items, ",") }

func joinEscaped(items []string, sep string) string {
	esc := make([]string, len(items))
	for i, p := range items {
		esc[i] = EscapeText(p)
	}
	return strings.Join(esc, sep)
}
