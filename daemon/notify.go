package daemon

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Notifier sends sd_notify(3) messages to systemd: READY=1, STATUS=…,
// WATCHDOG=1, RELOADING=1, STOPPING=1. A nil *Notifier, or one made without
// $NOTIFY_SOCKET, sends nothing, so callers need not check whether kith runs
// under systemd.
type Notifier struct {
	addr     string
	watchdog time.Duration
}

// NewNotifier reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID through
// getenv (os.Getenv in main). pid is this process's id: a watchdog meant for
// another process (WATCHDOG_PID set and different) is ignored.
func NewNotifier(getenv func(string) string, pid int) *Notifier {
	n := &Notifier{addr: getenv("NOTIFY_SOCKET")}
	if n.addr == "" {
		return n
	}
	if wpid := getenv("WATCHDOG_PID"); wpid != "" && wpid != strconv.Itoa(pid) {
		return n
	}
	if usec, err := strconv.ParseInt(getenv("WATCHDOG_USEC"), 10, 64); err == nil && usec > 0 {
		n.watchdog = time.Duration(usec) * time.Microsecond
	}
	return n
}

// Enabled reports whether messages go anywhere.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != "" }

// WatchdogInterval returns how often WATCHDOG=1 must be sent: half of
// $WATCHDOG_USEC, as sd_watchdog_enabled(3) advises; 0 when systemd runs no
// watchdog for kith.
func (n *Notifier) WatchdogInterval() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog / 2
}

// Notify sends one message made of the given "KEY=value" lines. A newline
// inside a value would start a new assignment, so it is replaced.
func (n *Notifier) Notify(lines ...string) error {
	if !n.Enabled() {
		return nil
	}
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, "\n", " ")
	}
	name := n.addr
	if name[0] == '@' {
		// An abstract socket: its name starts with a NUL byte.
		name = "\x00" + name[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notifying systemd at %s: %w", n.addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(lines, "\n"))); err != nil {
		return fmt.Errorf("notifying systemd at %s: %w", n.addr, err)
	}
	return nil
}

// reloadingMessage returns the message lines that tell systemd a reload started;
// systemd wants the monotonic clock with it.
func reloadingMessage() []string {
	msg := []string{"RELOADING=1"}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
		msg = append(msg, "MONOTONIC_USEC="+strconv.FormatInt(ts.Nano()/1000, 10))
	}
	return msg
}
