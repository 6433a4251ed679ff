// Package imaptest starts a real Dovecot IMAP server on 127.0.0.1 for
// tests: its own configuration in a temporary folder, one passwd-file
// user, Maildir storage, a Sent folder marked \Sent, plain IMAP with
// STARTTLS and IMAPS with a certificate signed by a CA made for the test
// (or, StartWithoutTLS, no TLS at all). It runs as an
// ordinary process (as root it hands mail to Debian's dovecot user). A
// test that needs it is skipped when Dovecot (Debian package
// dovecot-imapd) is missing, unless the environment variable CI is
// "true": then it fails, so that CI cannot pass by skipping.
//
// Proxy sits between a client and the server and cuts the connection on
// demand, for the faults a real server does not make.
package imaptest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"kith/internal/davtest"
	"kith/internal/testca"
)

// Server is a running Dovecot.
type Server struct {
	// Addr is the plain IMAP address (STARTTLS offered), TLSAddr the IMAPS one.
	Addr, TLSAddr string
	// Username and Password log in.
	Username, Password string
	// RootCAs trusts the server's certificate (made for localhost,
	// 127.0.0.1 and Host by a CA made for the test); CAFile holds that
	// CA's certificate (PEM), as a user's ca_file would.
	RootCAs *x509.CertPool
	CAFile  string
	dir     string
	log     string
}

// startTimeout bounds the wait for Dovecot to accept connections.
const startTimeout = 30 * time.Second

func need(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("dovecot"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/dovecot"); err == nil {
		return "/usr/sbin/dovecot"
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("dovecot not installed (Debian package dovecot-imapd) and CI=true")
	}
	t.Skip("dovecot not installed (Debian package dovecot-imapd)")
	return ""
}

// Start starts Dovecot with user "kith" and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, true)
}

// StartWithoutTLS starts Dovecot with TLS off: it offers no STARTTLS, has
// no IMAPS listener (TLSAddr is ""), and takes a password in the clear.
func StartWithoutTLS(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

func start(t testing.TB, withTLS bool) *Server {
	t.Helper()
	bin := need(t)
	dir, err := os.MkdirTemp("", "kith-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{Username: "kith", Password: "s3cret pw", dir: dir, log: filepath.Join(dir, "dovecot.log")}
	ca := testca.New(t, dir, Host)
	s.RootCAs, s.CAFile = ca.Pool, ca.CAFile
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(s.Username+":{PLAIN}"+s.Password+"::::::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	// Dovecot never runs mail processes as root: as root, the mail goes to
	// Debian's dovecot user; otherwise everything runs as the caller.
	internal, login, mailUser := "dovecot", "dovenull", "dovecot"
	if os.Getuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		internal, login, mailUser = u.Username, u.Username, u.Username
	} else {
		u, err := user.Lookup(mailUser)
		if err != nil {
			t.Fatalf("dovecot user: %v", err)
		}
		var uid, gid int
		fmt.Sscan(u.Uid, &uid)
		fmt.Sscan(u.Gid, &gid)
		if err := os.Chown(home, uid, gid); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o755)
		os.Chmod(filepath.Join(dir, "passwd"), 0o644) // read by the auth process, as dovecot
	}
	plain, secure := freePort(t), freePort(t)
	for secure == plain {
		// The kernel may hand the same free port out twice in a row:
		// dovecot refuses two listeners on one port.
		secure = freePort(t)
	}
	s.Addr, s.TLSAddr = "127.0.0.1:"+plain, "127.0.0.1:"+secure
	sslConf, imaps := "ssl = no", ""
	if withTLS {
		sslConf = fmt.Sprintf("ssl = yes\nssl_cert = <%[1]s/cert.pem\nssl_key = <%[1]s/key.pem", dir)
		imaps = fmt.Sprintf("  inet_listener imaps {\n    address = 127.0.0.1\n    port = %s\n    ssl = yes\n  }", secure)
	} else {
		s.TLSAddr = ""
	}
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
%[6]s
auth_mechanisms = plain login
disable_plaintext_auth = no
default_internal_user = %[2]s
default_internal_group = %[2]s
default_login_user = %[3]s
first_valid_uid = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%%u %[1]s/passwd
  default_fields = uid=%[4]s gid=%[4]s home=%[1]s/home/%%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[5]s
  }
%[7]s
}
service anvil {
  chroot =
}
`, dir, internal, login, mailUser, plain, sslConf, imaps)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out davtest.LockedBuffer
	cmd := exec.Command(bin, "-F", "-c", confPath)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dovecot: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("dovecot exited: %s %s", out.String(), s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot did not listen on %s within %s: %s %s", s.Addr, startTimeout, out.String(), s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// Log returns Dovecot's log so far, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// URL is the imap:// URL of the plain listener.
func (s *Server) URL() string { return "imap://" + s.Addr }

// TLSURL is the imaps:// URL of the TLS listener.
func (s *Server) TLSURL() string { return "imaps://" + s.TLSAddr }

// Client returns a logged-in client (plain, over loopback); it is closed
// when the test ends.
func (s *Server) Client(t testing.TB) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(s.Username, s.Password).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c
}

// Append stores messages in folder, each dated by its Date header's day
// as Dovecot likes it (the internal date is now).
func (s *Server) Append(t testing.TB, folder string, msgs ...string) {
	t.Helper()
	c := s.Client(t)
	for _, m := range msgs {
		m = strings.ReplaceAll(strings.ReplaceAll(m, "\r\n", "\n"), "\n", "\r\n")
		cmd := c.Append(folder, int64(len(m)), nil)
		if _, err := io.WriteString(cmd, m); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append to %s: %v", folder, err)
		}
	}
	c.Logout().Wait()
}

// Create makes a folder.
func (s *Server) Create(t testing.TB, folder string) {
	t.Helper()
	c := s.Client(t)
	if err := c.Create(folder, nil).Wait(); err != nil {
		t.Fatalf("create %s: %v", folder, err)
	}
	c.Logout().Wait()
}

// Delete removes a folder and its mail.
func (s *Server) Delete(t testing.TB, folder string) {
	t.Helper()
	c := s.Client(t)
	if err := c.Delete(folder).Wait(); err != nil {
		t.Fatalf("delete %s: %v", folder, err)
	}
	c.Logout().Wait()
}

// Status returns a folder's UIDVALIDITY and UIDNEXT.
func (s *Server) Status(t testing.TB, folder string) (validity uint32, next imap.UID) {
	t.Helper()
	c := s.Client(t)
	st, err := c.Status(folder, &imap.StatusOptions{UIDValidity: true, UIDNext: true}).Wait()
	if err != nil {
		t.Fatalf("status %s: %v", folder, err)
	}
	c.Logout().Wait()
	return st.UIDValidity, st.UIDNext
}

// Proxy forwards TCP connections to a server and cuts them on demand.
type Proxy struct {
	// Addr is where clients connect.
	Addr   string
	target string
	ln     net.Listener
	cut    atomic.Int64 // server bytes after which a connection is cut; 0 = never
	conns  atomic.Int64
	wg     sync.WaitGroup
	mu     sync.Mutex
	cmds   []string
}

// Commands returns the names of the IMAP commands clients sent (LOGIN,
// STATUS, UID FETCH …), never their arguments, and forgets them.
func (p *Proxy) Commands() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.cmds
	p.cmds = nil
	return out
}

// record notes the command names in the lines a client sent.
type record struct {
	p    *Proxy
	line []byte
}

func (r *record) Write(b []byte) (int, error) {
	for _, c := range b {
		if c != '\n' {
			if len(r.line) < 64 {
				r.line = append(r.line, c)
			}
			continue
		}
		f := strings.Fields(string(r.line))
		r.line = r.line[:0]
		if len(f) < 2 {
			continue
		}
		name := strings.ToUpper(f[1])
		if name == "UID" && len(f) > 2 {
			name += " " + strings.ToUpper(f[2])
		}
		r.p.mu.Lock()
		r.p.cmds = append(r.p.cmds, name)
		r.p.mu.Unlock()
	}
	return len(b), nil
}

// NewProxy forwards to target until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

// CutAfter makes each new connection drop once the server has sent n
// bytes on it; 0 turns cutting off.
func (p *Proxy) CutAfter(n int64) { p.cut.Store(n) }

// Connections returns how many connections the proxy took.
func (p *Proxy) Connections() int64 { return p.conns.Load() }

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer c.Close()
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			defer up.Close()
			limit := p.cut.Load()
			go func() { io.Copy(io.MultiWriter(up, &record{p: p}), c); up.Close() }()
			var r io.Reader = up
			if limit > 0 {
				r = io.LimitReader(up, limit)
			}
			io.Copy(c, r)
		}()
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// Host is a name the server's certificate holds beside localhost and
// 127.0.0.1 that is not a loopback name, as a home server's would be
// (imap.home.test): a client that connects to it is held to TLS. Tests
// resolve it to the server's address themselves.
const Host = "imap.home.test"

// TLSConfig returns a client configuration that trusts the server.
func (s *Server) TLSConfig() *tls.Config { return &tls.Config{RootCAs: s.RootCAs} }
