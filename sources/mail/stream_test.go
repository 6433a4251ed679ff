package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type bodyReader struct{}

func (bodyReader) Read([]byte) (int, error) { return 0, errors.New("the body was read") }

// TestHeaderOnly: reading a message stops at the blank line after its
// header; the body is never asked for.
func TestHeaderOnly(t *testing.T) {
	hdr := "From: a@example.com\r\nTo: me@example.org\r\nSubject: x\r\n\r\n"
	h, err := readHeader(io.MultiReader(strings.NewReader(hdr), bodyReader{}))
	if err != nil {
		t.Fatal(err)
	}
	if h.get("From") != "a@example.com" || h.get("Subject") != "x" {
		t.Errorf("header %v", h)
	}
}

// TestMboxLongBody: a body with a 5 MB line and 10,000 lines costs nothing
// and hides neither message.
func TestMboxLongBody(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("From a@example.com Mon Nov 23 10:00:00 2026\nFrom: a@example.com\nTo: me@example.org\nMessage-ID: <big@example.com>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\n")
	b.WriteString(strings.Repeat("x", 5<<20) + "\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "body line %d\n", i)
	}
	b.WriteString("\nFrom b@example.com Mon Nov 23 11:00:00 2026\nFrom: b@example.com\nTo: me@example.org\nMessage-ID: <small@example.com>\n\nhi\n")
	var ids []string
	err := readMbox(context.Background(), &b, "big", func(h header, _ time.Time, _ string) {
		ids = append(ids, h.get("Message-Id"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, " ") != "<big@example.com> <small@example.com>" {
		t.Errorf("messages %q", ids)
	}
}

// TestCanceled: a cancelled context stops a long read.
func TestCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.mbox")
	if err := os.WriteFile(path, genMbox(2000), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestSource(t, Options{Mailboxes: []Mailbox{{Path: path}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Interactions(ctx, since); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// genMbox makes n messages, every other one sent by the user.
func genMbox(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		from, to := fmt.Sprintf("p%d@example.com", i/2%50), "me@example.org"
		if i%2 == 0 {
			from, to = to, from
		}
		fmt.Fprintf(&b, "From %s Mon Nov 23 10:00:00 2026\nFrom: %s\nTo: %s\nSubject: message %d\nDate: Mon, 23 Nov 2026 10:%02d:00 +0000\nMessage-ID: <%d@example.com>\n\n", from, from, to, i, i%60, i)
		for j := range 40 {
			fmt.Fprintf(&b, "line %d of a body that is never read\n", j)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func BenchmarkMbox(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.mbox")
	data := genMbox(10000)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	s, _ := newTestSource(b, Options{Mailboxes: []Mailbox{{Path: path}}})
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		got, err := s.Interactions(context.Background(), since)
		if err != nil || len(got) != 10000 {
			b.Fatalf("%d interactions, %v", len(got), err)
		}
	}
}
