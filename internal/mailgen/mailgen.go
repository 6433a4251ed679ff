// Package mailgen writes generated mailboxes for benchmarks and tests: a
// Maildir with a given number of messages, half sent by the user to one
// of a set of people and half received from them, each with a short body.
package mailgen

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Maildir makes a Maildir folder at dir (cur, new, tmp) holding n
// messages between user and people p0@example.com … p<people-1>@example.com,
// one an hour going back from end. Every file and folder gets a time an
// hour before end, as a mailbox that has been there a while has.
func Maildir(dir string, n, people int, user string, end time.Time) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	old := end.Add(-time.Hour)
	for i := range n {
		date := end.Add(-time.Duration(i) * time.Hour)
		from, to := fmt.Sprintf("p%d@example.com", i/2%people), user
		if i%2 == 0 {
			from, to = to, from
		}
		msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: message %d\r\nDate: %s\r\nMessage-ID: <gen%d@example.com>\r\n\r\n"+
			"A body that is never read.\r\n", from, to, i, date.Format(time.RFC1123Z), i)
		name := filepath.Join(dir, "cur", fmt.Sprintf("%d.M%dP1.host:2,S", date.Unix(), i))
		if err := os.WriteFile(name, []byte(msg), 0o600); err != nil {
			return err
		}
		if err := os.Chtimes(name, old, old); err != nil {
			return err
		}
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Chtimes(filepath.Join(dir, sub), old, old); err != nil {
			return err
		}
	}
	return nil
}
