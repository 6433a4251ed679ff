package carddav

import (
	"strings"
	"testing"

	"kith/internal/dav"
)

func TestOptionsCheck(t *testing.T) {
	cases := []struct {
		url     string
		wantErr string
	}{
		{"https://dav.example.org/", ""},
		{"http://127.0.0.1:5232/kith/people/", ""},
		{"ftp://example.org/", "scheme"},
		{"https://user:hunter2@example.org/", "must not hold"},
		{"https:///path", "no host"},
		{"https://exa mple.org/%zz", "url"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			_, err := NewSource(Options{Name: "s", URL: tc.url})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `source "s"`) {
				t.Errorf("got %v, want an error about %s naming the source", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error holds the password: %v", err)
			}
		})
	}
}

func TestETags(t *testing.T) {
	cases := []struct{ in, norm, match string }{
		{`"abc"`, `"abc"`, `"abc"`},
		{`abc`, `"abc"`, `"abc"`},
		{`W/"abc"`, `W/"abc"`, `"abc"`},
		{`W/abc`, `W/"abc"`, `"abc"`},
		{` "a b" `, `"a b"`, `"a b"`},
		{``, ``, ``},
	}
	for _, tc := range cases {
		if got := dav.NormETag(tc.in); got != tc.norm {
			t.Errorf("dav.NormETag(%q) = %q, want %q", tc.in, got, tc.norm)
		}
		if got := dav.MatchETag(tc.in); got != tc.match {
			t.Errorf("dav.MatchETag(%q) = %q, want %q", tc.in, got, tc.match)
		}
	}
}
