package card

import (
	"reflect"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	tests := map[string]string{
		``:                   ``,
		`plain`:              `plain`,
		`a\,b\;c\\d\ne\Nf`:   "a,b;c\\d\ne\nf",
		`C:\\temp`:           `C:\temp`,
		`unknown \x escape`:  `unknown x escape`,
		`trailing \`:         `trailing \`,
		`\:colon`:            `:colon`,
		`\\n is not newline`: `\n is not newline`,
	}
	for in, want := range tests {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeTextRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a,b;c\\d\ne", "crlf\r\nline", "日本語, テキスト", `\n literal`, "end\\"} {
		esc := EscapeText(s)
		want := s
		if s == "crlf\r\nline" {
			want = "crlf\nline"
		}
		if got := Text(esc); got != want {
			t.Errorf("Text(EscapeText(%q)) = %q", s, got)
		}
	}
}

func TestComponents(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{``, []string{""}},
		{`Doe;Jane;;;`, []string{"Doe", "Jane", "", "", ""}},
		{`O\;Neil;A\,B;C,D`, []string{"O;Neil", "A,B", "C,D"}},
		{`end\\;x`, []string{`end\`, "x"}},
		{`a\`, []string{`a\`}},
	}
	for _, tt := range tests {
		if got := Components(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Components(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := JoinComponents("O;Neil", "A,B", ""); got != `O\;Neil;A\,B;` {
		t.Errorf("JoinComponents = %q", got)
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{``, nil},
		{`a,b\,c`, []string{"a", "b,c"}},
		{` a , ,b,`, []string{"a", "b"}},
		{`x\;y,z`, []string{"x;y", "z"}},
	}
	for _, tt := range tests {
		if got := List(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	items := []string{"a,b", "c;d", `e\f`}
	if got := List(JoinList(items)); !reflect.DeepEqual(got, items) {
		t.Errorf("List(JoinList(%q)) = %q", items, got)
	}
}

// FuzzValues checks that the value helpers invert each other: what
// EscapeText, JoinComponents and JoinList build, Text, Components and List
// read back as it was (line breaks as LF, list items trimmed and non-empty).
func FuzzValues(f *testing.F) {
	for _, s := range []string{"", "plain", `a,b;c\d`, "line\r\nbreak\rcr", `trailing \`, "日本語; テキスト"} {
		f.Add(s, "x;y")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		nl := strings.NewReplacer("\r\n", "\n", "\r", "\n")
		if got := Text(EscapeText(a)); got != nl.Replace(a) {
			t.Fatalf("Text(EscapeText(%q)) = %q", a, got)
		}
		if got := Components(JoinComponents(a, b)); !reflect.DeepEqual(got, []string{nl.Replace(a), nl.Replace(b)}) {
			t.Fatalf("Components(JoinComponents(%q, %q)) = %q", a, b, got)
		}
		var want []string
		for _, s := range []string{a, b} {
			if s = strings.TrimSpace(nl.Replace(s)); s != "" {
				want = append(want, s)
			}
		}
		if got := List(JoinList([]string{a, b})); !reflect.DeepEqual(got, want) {
			t.Fatalf("List(JoinList(%q, %q)) = %q, want %q", a, b, got, want)
		}
	})
}
