package dav

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestServerMessage(t *testing.T) {
	secrets := []string{"s3cret", "YW5uYTpzM2NyZXQ="}
	cases := []struct {
		name string
		body string
		msg  string
		pre  []string
	}{
		{"sabre", `<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">
  <s:sabredav-version>4.7.1</s:sabredav-version>
  <s:exception>Sabre\DAV\Exception\BadRequest</s:exception>
  <s:message>Validation error in vCard: The FN property must appear in the VCARD component exactly 1 time</s:message>
</d:error>`, "Validation error in vCard: The FN property must appear in the VCARD component exactly 1 time", nil},
		{"precondition", `<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>`, "", []string{"valid-sync-token"}},
		{"sabre precondition", `<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:card="urn:ietf:params:xml:ns:carddav"><card:no-uid-conflict><d:href>/a.vcf</d:href></card:no-uid-conflict><s:exception>Sabre\DAV\Exception\Conflict</s:exception><s:message>UID in use</s:message></d:error>`, "UID in use", []string{"no-uid-conflict"}},
		{"plain text", "Access to the requested resource forbidden.\n", "Access to the requested resource forbidden.", nil},
		{"html", "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad   Gateway</h1></body></html>", "502 Bad Gateway Bad Gateway", nil},
		{"header echo", "<pre>Host: x\r\nAuthorization: Basic YW5uYTpzM2NyZXQ=\r\n</pre>", "(the answer repeats the request's headers; not shown)", nil},
		{"password", "bad password s3cret for anna", "(the answer holds the credentials; not shown)", nil},
		{"control characters", "bad\x1b[31m\x00thing\xff", "bad[31mthing", nil},
		{"long", strings.Repeat("ab ", 500), strings.TrimSpace(strings.Repeat("ab ", 80)), nil},
		{"empty", "  ", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg, pre := ServerMessage([]byte(tc.body), secrets)
			want := tc.msg
			if tc.name == "long" {
				if !strings.HasSuffix(msg, "…") || utf8.RuneCountInString(msg) > maxMessageLen+1 {
					t.Errorf("long body gave %q", msg)
				}
				return
			}
			if msg != want || !slices.Equal(pre, tc.pre) {
				t.Errorf("got %q %q, want %q %q", msg, pre, want, tc.pre)
			}
		})
	}
}

// FuzzServerMessage: no error body may panic, hang, or come out longer
// than the limit or with a line break.
func FuzzServerMessage(f *testing.F) {
	f.Add(`<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:message>m</s:message><d:valid-sync-token/></d:error>`)
	f.Add("<html><body>x</body></html>")
	f.Add("Authorization: Basic eA==")
	f.Fuzz(func(t *testing.T, body string) {
		msg, pre := ServerMessage([]byte(body), []string{"pw1"})
		if utf8.RuneCountInString(msg) > maxMessageLen+1 || strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, "pw1") {
			t.Errorf("message %q", msg)
		}
		if len(pre) > 10 {
			t.Errorf("%d preconditions", len(pre))
		}
	})
}
