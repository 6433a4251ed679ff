package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// LockFileName is the lock file's name inside the state folder.
const LockFileName = "kith.lock"

// DefaultLockWait is how long --once waits for a running daemon's sync to
// let go of the state folder before giving up.
const DefaultLockWait = 60 * time.Second

// lockPoll is how often a waiting process tries the lock again.
const lockPoll = 100 * time.Millisecond

// ErrLocked is returned (wrapped, with the holder named) when another kith
// process holds the state folder's lock for longer than the wait allowed.
var ErrLocked = errors.New("state folder is locked")

// Lock is an exclusive flock(2) on <state_dir>/kith.lock. The kernel drops
// it when the process dies, so a kill -9 never leaves a stale lock behind.
type Lock struct {
	f *os.File
}

// AcquireLock takes the lock of the state folder dir, creating the folder
// if needed, and writes this process's pid and role ("daemon" or "once")
// into the lock file. It tries again until wait has passed or ctx is done,
// then returns an error wrapping ErrLocked that names the holder.
func AcquireLock(ctx context.Context, dir, role string, wait time.Duration) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state folder %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockFileName)
	// The lock file is written in place, not replaced by rename: flock
	// belongs to the inode, and a rename would let two processes each hold
	// a lock on a different file. Its content is only informative.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			holder := readHolder(path)
			f.Close()
			return nil, fmt.Errorf("%w: %s holds %s; stop it or wait", ErrLocked, holder, dir)
		}
		t := time.NewTimer(min(lockPoll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for the lock on %s: %w", dir, ctx.Err())
		case <-t.C:
		}
	}
	// Not synced: only a process that finds the lock held reads the name,
	// while its holder lives (from the page cache); after a crash the lock
	// went with the process, and the next holder writes its own name.
	content := strconv.Itoa(os.Getpid()) + " " + role + "\n"
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(content), 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: writing pid: %w", path, err)
		}
	}
	return &Lock{f: f}, nil
}

// readHolder describes the process named in the lock file at path, for the
// message a waiting process gives up with.
func readHolder(path string) string {
	b, err := os.ReadFile(path)
	fields := strings.Fields(string(b))
	if err != nil || len(fields) == 0 {
		return "another kith process"
	}
	pid := fields[0]
	if len(fields) > 1 && fields[1] == "once" {
		return fmt.Sprintf("a kith --once run (pid %s)", pid)
	}
	return fmt.Sprintf("the kith daemon (pid %s)", pid)
}

// Release drops the lock. The lock file stays: removing it would race with
// a process that has just opened it.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}
