package davserver

import (
	"log/slog"
	"net"
	gosync "sync"
)

// DefaultMaxConnsPerAddr is the number of connections one client address
// may hold open at once when Options.MaxConnsPerAddr is 0. A phone opens a
// handful; a client trickling bytes to hold the server's connections (a
// slowloris) gets no more than this.
const DefaultMaxConnsPerAddr = 32

// capListener closes, as soon as they are accepted, connections from an
// address that already holds max open ones.
type capListener struct {
	net.Listener
	max int
	log *slog.Logger

	mu     gosync.Mutex
	open   map[string]int
	warned map[string]bool
}

func newCapListener(ln net.Listener, max int, log *slog.Logger) *capListener {
	return &capListener{Listener: ln, max: max, log: log, open: map[string]int{}, warned: map[string]bool{}}
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := hostOf(c.RemoteAddr())
		l.mu.Lock()
		if l.open[addr] >= l.max {
			warn := !l.warned[addr]
			l.warned[addr] = true
			l.mu.Unlock()
			if warn {
				l.log.Warn("connection refused: too many from one address", "client", addr, "limit", l.max)
			}
			c.Close()
			continue
		}
		l.open[addr]++
		l.mu.Unlock()
		return &capConn{Conn: c, l: l, addr: addr}, nil
	}
}

// release counts a connection from addr closed.
func (l *capListener) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
		delete(l.warned, addr)
	}
}

// count returns the connections open from addr.
func (l *capListener) count(addr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[addr]
}

type capConn struct {
	net.Conn
	l    *capListener
	addr string
	once gosync.Once
}

func (c *capConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.addr) })
	return err
}

func hostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
