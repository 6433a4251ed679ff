package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"kith/internal/dirscan"
)

// visit receives one message's header, the date its mailbox gives it (the
// Maildir file's time, the mbox From_ line; zero when none) and where it
// is, for logs.
type visit func(h header, fallback time.Time, where string)

// readMaildirFile reads the header of one message file with lr (reused
// from file to file). Only a regular file is opened: a FIFO swapped in
// would block the read.
func readMaildirFile(lr *lineReader, path string, fn visit) error {
	f, fi, err := dirscan.OpenRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	lr.reset(f)
	h, err := readHeaderFrom(lr)
	if err != nil {
		return err
	}
	fn(h, fi.ModTime(), path)
	return nil
}

// readMbox reads the messages of an mbox stream: each starts with a
// "From " line at the start of the stream or after a blank line (a body
// line that starts so is written ">From " by mboxrd writers; mboxo ones
// that do not quote it would need the blank line before and a date after
// it to confuse the reader). A stream that does not start with a From
// line is read as one message (a single .eml file).
func readMbox(ctx context.Context, r io.Reader, name string, fn visit) error {
	lr := newLineReader(r)
	var (
		b         = newHeaderBuilder()
		inHeader  = true  // reading a header, not a body
		pending   = false // the header holds lines not yet handed on
		prevBlank = true
		fromDate  time.Time
		n         int // messages, for where
		lines     int
	)
	emit := func() {
		n++
		fn(b.done(), fromDate, fmt.Sprintf("%s#%d", name, n))
		b, pending = newHeaderBuilder(), false
	}
	for {
		l, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if lines++; lines%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if prevBlank && bytes.HasPrefix(l, []byte("From ")) && fromLine(l) {
			if inHeader && pending {
				emit()
			}
			b, pending, inHeader = newHeaderBuilder(), false, true
			fromDate, _ = fromLineDate(l) // zero when unreadable
			prevBlank = false
			continue
		}
		prevBlank = len(l) == 0
		if !inHeader {
			continue
		}
		if len(l) == 0 {
			if pending { // blank lines before a header are skipped
				emit()
				inHeader = false
			}
			continue
		}
		b.line(l)
		pending = true
	}
	if inHeader && pending {
		emit()
	}
	return nil
}

// fromLine tells whether l, which starts with "From ", is an mbox
// separator: "From sender date", with a readable date or at least a sender
// that is an address.
func fromLine(l []byte) bool {
	if _, err := fromLineDate(l); err == nil {
		return true
	}
	f := bytes.Fields(l)
	return len(f) >= 3 && bytes.IndexByte(f[1], '@') > 0
}

// fromDateLayouts are the date forms seen after the sender in From_ lines.
var fromDateLayouts = []string{
	time.ANSIC,
	"Mon Jan _2 15:04:05 2006 -0700",
	time.UnixDate,
	"Mon Jan 2 15:04:05 2006",
	time.RFC1123Z,
}

// fromLineDate reads the date of a From_ line, in UTC when it has no zone.
func fromLineDate(l []byte) (time.Time, error) {
	rest := strings.TrimSpace(string(l[len("From "):]))
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		rest = strings.TrimSpace(rest[i:])
	} else {
		return time.Time{}, errors.New("no date")
	}
	single := strings.Join(strings.Fields(rest), " ")
	for _, layout := range fromDateLayouts {
		if t, err := time.Parse(layout, rest); err == nil {
			return t, nil
		}
		if t, err := time.Parse(layout, single); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable date %q", rest)
}
