package mail

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"kith/internal/cafile"
	ksync "kith/sync"
)

// imapReader reads an IMAP server's folders into the item store: one
// STATUS per folder tells whether it changed (UIDVALIDITY, UIDNEXT, the
// number of messages, HIGHESTMODSEQ with CONDSTORE); a changed folder is
// searched for its UIDs, and only the headers of new UIDs are fetched,
// in batches. A new UIDVALIDITY means the folder was rebuilt: it is read
// again in full.
type imapReader struct {
	s        *Source
	opts     IMAP
	addr     string // host:port
	host     string
	implicit bool // imaps: TLS from the first byte; else STARTTLS (or plain on loopback)
	plain    bool // imap:// to a loopback host: no TLS
	batch    int  // messages per FETCH
	tls      *tls.Config
	timeout  time.Duration // each wait for the server
}

// DefaultTimeout bounds each read and write on the connection when
// IMAP.Timeout is zero: a server that stops answering fails the read
// instead of hanging the sync.
const DefaultTimeout = 2 * time.Minute

// dialTimeout bounds connecting, unless IMAP.Timeout is shorter.
const dialTimeout = 30 * time.Second

// imapBatch is how many messages' headers one FETCH asks for.
const imapBatch = 1000

// headerFields are the only header fields fetched: what tells sender,
// recipients, date and identity, and what marks lists and automatic mail.
var headerFields = []string{
	"From", "To", "Cc", "Bcc", "Date", "Message-ID", "Subject",
	"List-Id", "List-Unsubscribe", "List-Post", "Precedence", "Auto-Submitted", "X-Autoreply", "X-Autorespond",
}

// sentSpecial is the box key part of the folder found by its \Sent
// special-use attribute, when no sent folder is configured.
const sentSpecial = `\Sent`

func newIMAPReader(s *Source, o IMAP) (*imapReader, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	r := &imapReader{s: s, opts: o, host: u.Hostname(), batch: imapBatch}
	if u.User != nil {
		return nil, errors.New("url: must not hold a user or password")
	}
	if r.host == "" {
		return nil, fmt.Errorf("url: %q has no host", o.URL)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("url: %q: name folders with sent and received, not in the URL", o.URL)
	}
	port := u.Port()
	switch u.Scheme {
	case "imaps":
		r.implicit = true
		port = cmpOr(port, "993")
	case "imap":
		port = cmpOr(port, "143")
		r.plain = isLoopback(r.host)
	default:
		return nil, fmt.Errorf("url: %q: scheme must be imaps or imap", o.URL)
	}
	r.addr = net.JoinHostPort(r.host, port)
	if o.Username == "" {
		return nil, errors.New("username: missing (needed for an IMAP url)")
	}
	if o.Password == "" {
		return nil, errors.New("password: missing (password_file, password_env or password_credential)")
	}
	r.timeout = cmp.Or(o.Timeout, DefaultTimeout)
	r.tls = o.TLS.Clone()
	if r.tls == nil {
		r.tls = &tls.Config{}
	}
	if r.tls.ServerName == "" {
		r.tls.ServerName = r.host
	}
	if o.CAFile != "" {
		pool, err := cafile.Load(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		r.tls.RootCAs = pool
	}
	return r, nil
}

// tlsError names the step whose handshake failed, and says how to trust
// a home server's own CA when that is what failed.
func tlsError(step string, err error) error {
	return fmt.Errorf("%s: %w", step, cafile.Explain(err))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// folder is one configured IMAP folder.
type folder struct {
	box
	name string // on the server; for the special Sent folder, the one found
}

// configured returns the folders to read, the special Sent folder as the
// store last found it (name "" when it must be looked up).
func (r *imapReader) configured(curs map[string]string) []folder {
	var out []folder
	add := func(role, name string, sent bool) {
		key := "imap:" + role + ":" + name
		f := folder{box: box{key: key, label: r.host + " " + strconv.Quote(name), sent: sent}, name: name}
		if name == sentSpecial {
			f.name = parseCursor(curs[key]).Folder
			f.label = r.host + " " + sentSpecial
		}
		out = append(out, f)
	}
	sent := r.opts.Sent
	if len(sent) == 0 {
		sent = []string{sentSpecial}
	}
	for _, n := range sent {
		add("sent", n, true)
	}
	received := r.opts.Received
	if len(received) == 0 {
		received = []string{"INBOX"}
	}
	for _, n := range received {
		add("received", n, false)
	}
	return out
}

// boxes returns the configured folders as boxes, for Load.
func (r *imapReader) boxes(ctx context.Context, store ksync.ItemStore) ([]box, error) {
	curs, err := store.Cursors(ctx, r.s.opts.Name)
	if err != nil {
		return nil, err
	}
	var out []box
	for _, f := range r.configured(curs) {
		out = append(out, f.box)
	}
	return out, nil
}

// update brings every configured folder up to date. It returns the box
// keys of the configured folders (so that their items are kept even when
// the server could not be read).
func (r *imapReader) update(ctx context.Context, store ksync.ItemStore, curs map[string]string) (map[string]bool, error) {
	folders := r.configured(curs)
	keys := map[string]bool{}
	for _, f := range folders {
		keys[f.key] = true
	}
	c, err := r.connect(ctx)
	if err != nil {
		return keys, fmt.Errorf("%s: %w", r.host, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	condstore := c.Caps().Has(imap.CapCondStore)
	for _, f := range folders {
		if f.name == "" {
			if f.name, err = r.findSent(c); err != nil {
				return keys, r.fail(ctx, c, err)
			}
		}
		err := r.updateFolder(ctx, c, store, f, parseCursor(curs[f.key]), condstore)
		if err != nil && f.label == r.host+" "+sentSpecial && isNonExistent(err) {
			// The special Sent folder was renamed: look it up again.
			if f.name, err = r.findSent(c); err == nil {
				err = r.updateFolder(ctx, c, store, f, cursor{}, condstore)
			}
		}
		if err != nil {
			return keys, r.fail(ctx, c, fmt.Errorf("folder %q: %w", f.name, err))
		}
	}
	c.Logout().Wait()
	return keys, nil
}

// fail names the server in err, and says the connection dropped when it
// did.
func (r *imapReader) fail(ctx context.Context, c *imapclient.Client, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	closed := false
	select {
	case <-c.Closed():
		closed = true
	case <-time.After(100 * time.Millisecond): // the reader may close it just after the command failed
	}
	if closed || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("%s: connection lost (what was read so far is kept): %w", r.host, err)
	}
	return fmt.Errorf("%s: %w", r.host, err)
}

// connect dials, secures and logs in. Its errors say which step failed:
// the connection, TLS, or the login.
func (r *imapReader) connect(ctx context.Context) (*imapclient.Client, error) {
	dial := r.opts.dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: min(dialTimeout, r.timeout)}).DialContext
	}
	raw, err := dial(ctx, "tcp", r.addr)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	conn := net.Conn(&timeoutConn{Conn: raw, d: r.timeout})
	tlsConfig := r.tls.Clone()
	opts := &imapclient.Options{TLSConfig: tlsConfig, WordDecoder: newParser(nil).addr.WordDecoder}
	var c *imapclient.Client
	switch {
	case r.implicit:
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, tlsError("TLS", err)
		}
		c = imapclient.New(tc, opts)
	case r.plain:
		c = imapclient.New(conn, opts)
	default:
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			conn.Close()
			// go-imap sends STARTTLS whether or not the server offers
			// it, and nothing else before the handshake: a server
			// without it fails here, before the password is sent.
			return nil, tlsError("STARTTLS (required for imap:// to a host that is not loopback, so that the password never goes in the clear; or use imaps://)", err)
		}
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if err := c.Login(r.opts.Username, r.opts.Password).Wait(); err != nil {
		c.Close()
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
			return nil, fmt.Errorf("login as %q refused (wrong username or password?): %s", r.opts.Username, ie.Text)
		}
		return nil, fmt.Errorf("login as %q: %w", r.opts.Username, err)
	}
	return c, nil
}

// findSent returns the folder the server marks \Sent.
func (r *imapReader) findSent(c *imapclient.Client) (string, error) {
	opts := &imap.ListOptions{}
	if c.Caps().Has(imap.CapSpecialUse) {
		opts.ReturnSpecialUse = true
	}
	list, err := c.List("", "*", opts).Collect()
	if err != nil {
		return "", fmt.Errorf("listing folders: %w", err)
	}
	for _, l := range list {
		if slices.Contains(l.Attrs, imap.MailboxAttrSent) {
			return l.Mailbox, nil
		}
	}
	return "", errors.New(`no folder is marked \Sent (special-use): name it with sent = ["…"]`)
}

func isNonExistent(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && (ie.Code == imap.ResponseCodeNonExistent || strings.Contains(strings.ToLower(ie.Text), "exist"))
}

// updateFolder reads what changed in one folder.
func (r *imapReader) updateFolder(ctx context.Context, c *imapclient.Client, store ksync.ItemStore, f folder, prev cursor, condstore bool) error {
	name := r.s.opts.Name
	st, err := c.Status(f.name, &imap.StatusOptions{UIDValidity: true, UIDNext: true, NumMessages: true, HighestModSeq: condstore}).Wait()
	if err != nil {
		if isNonExistent(err) {
			return fmt.Errorf("does not exist on the server: %w", err)
		}
		return err
	}
	count := uint32(0)
	if st.NumMessages != nil {
		count = *st.NumMessages
	}
	now := cursor{Folder: f.name, Validity: st.UIDValidity, UIDNext: uint32(st.UIDNext), Count: count, ModSeq: st.HighestModSeq}
	if prev.Version != 0 && prev.Folder == f.name && prev.Validity == now.Validity &&
		prev.UIDNext == now.UIDNext && prev.Count == now.Count && prev.ModSeq == now.ModSeq {
		return nil // nothing arrived, nothing went
	}
	reset := prev.Version == 0 || prev.Folder != f.name || prev.Validity != now.Validity
	if _, err := c.Select(f.name, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return fmt.Errorf("examining: %w", err)
	}
	defer func() { c.Unselect().Wait() }()
	search, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		return fmt.Errorf("searching UIDs: %w", err)
	}
	uids := search.AllUIDs()
	old := map[string][]byte{}
	if !reset {
		if old, err = store.Items(ctx, name, f.key); err != nil {
			return err
		}
	}
	present := make(map[string]bool, len(uids))
	var todo []imap.UID
	for _, u := range uids {
		k := uidKey(u)
		present[k] = true
		if _, ok := old[k]; !ok {
			todo = append(todo, u)
		}
	}
	var del []string
	for k := range old {
		if !present[k] {
			del = append(del, k)
		}
	}
	content := prev.Content
	if reset {
		content = ""
	}
	log := r.s.log.With("mailbox", f.label)
	p := newParser(r.s.norm.Email)
	progress := newProgress(ctx, f.label, len(todo), r.batch)
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: headerFields, Peek: true}
	for start := 0; start < len(todo) || reset || len(del) > 0; start += r.batch {
		end := min(start+r.batch, len(todo))
		put := map[string][]byte{}
		if start < end {
			msgs, err := c.Fetch(imap.UIDSetNum(todo[start:end]...), &imap.FetchOptions{
				UID: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section},
			}).Collect()
			if err != nil {
				return fmt.Errorf("fetching headers: %w", err)
			}
			for _, m := range msgs {
				if m.UID == 0 {
					continue
				}
				h, err := readHeader(bytes.NewReader(m.FindBodySection(section)))
				if err != nil {
					log.Warn("message skipped", "uid", m.UID, "err", err)
					continue
				}
				msg := p.message(h, m.InternalDate)
				if msg.skip != "" {
					log.Debug("message skipped", "uid", m.UID, "ref", msg.ref, "reason", msg.skip)
				}
				put[uidKey(m.UID)] = factOf(msg).encode()
			}
		}
		next := cursor{Content: nextContent(content, put, del), Folder: f.name, Validity: now.Validity}
		if end >= len(todo) {
			next = now
			next.Content = nextContent(content, put, del)
		}
		if err := store.Update(ctx, name, ksync.BoxChange{Box: f.key, Reset: reset, Put: put, Delete: del, Cursor: next.String()}); err != nil {
			return err
		}
		content, reset, del = next.Content, false, nil
		progress.done(end)
		if end >= len(todo) {
			break
		}
	}
	return nil
}

// uidKey is a UID as an item key that sorts in UID order.
func uidKey(u imap.UID) string { return fmt.Sprintf("%010d", uint32(u)) }

// timeoutConn fails a read or write that waits longer than d.
type timeoutConn struct {
	net.Conn
	d time.Duration
}

func (c *timeoutConn) Read(b []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.d))
	return c.Conn.Read(b)
}

func (c *timeoutConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.d))
	return c.Conn.Write(b)
}
