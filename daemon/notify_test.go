package daemon

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// listenNotify opens a unixgram socket like systemd's notify socket.
func listenNotify(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readNotify(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotifierSendsToSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	abstract := "@kith-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for name, addr := range map[string]string{"path": path, "abstract": abstract} {
		t.Run(name, func(t *testing.T) {
			listenAt := addr
			if addr[0] == '@' {
				listenAt = "\x00" + addr[1:]
			}
			c := listenNotify(t, listenAt)
			n := NewNotifier(env(map[string]string{"NOTIFY_SOCKET": addr}), 1)
			if err := n.Notify("READY=1", "STATUS=5 sources\nand more"); err != nil {
				t.Fatal(err)
			}
			if got, want := readNotify(t, c), "READY=1\nSTATUS=5 sources and more"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestNotifierWithoutSocketIsSilent(t *testing.T) {
	n := NewNotifier(env(nil), 1)
	if n.Enabled() || n.WatchdogInterval() != 0 {
		t.Error("notifier without NOTIFY_SOCKET is enabled")
	}
	if err := n.Notify("READY=1"); err != nil {
		t.Error(err)
	}
	var nilN *Notifier
	if err := nilN.Notify("READY=1"); err != nil {
		t.Error(err)
	}
}

func TestNotifierWatchdogInterval(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want time.Duration
	}{
		{"half of WATCHDOG_USEC", map[string]string{"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "20000000"}, 10 * time.Second},
		{"for this pid", map[string]string{"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "42"}, 10 * time.Second},
		{"for another pid", map[string]string{"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "7"}, 0},
		{"no watchdog", map[string]string{"NOTIFY_SOCKET": "/x"}, 0},
		{"garbage", map[string]string{"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "soon"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewNotifier(env(tc.env), 42).WatchdogInterval(); got != tc.want {
				t.Errorf("WatchdogInterval = %s, want %s", got, tc.want)
			}
		})
	}
}

// env returns a getenv reading m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
