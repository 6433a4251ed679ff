package daemon

import (
	"context"
	"os"
	"syscall"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
)

// CrashEnv names the environment variable main reads for WithCrashAfter.
// Crash tests only: a kith that dies at the worst moment must lose nothing.
const CrashEnv = "KITH_TEST_CRASH"

// WithCrashAfter makes Once kill its own process (SIGKILL: no deferred
// call, no state save, like a power cut for the state) right after the
// first target write of kind op ("put" or "delete") succeeded. For crash
// tests of a real process only.
func WithCrashAfter(op string) Option { return func(o *options) { o.crashAfter = op } }

// crashTarget kills the process after the first successful write of kind
// op on its target.
type crashTarget struct {
	ksync.Target
	op string
}

func (c *crashTarget) Put(ctx context.Context, href string, card vcard.Card, etag string) (string, error) {
	tag, err := c.Target.Put(ctx, href, card, etag)
	if err == nil && c.op == "put" {
		die()
	}
	return tag, err
}

func (c *crashTarget) Delete(ctx context.Context, href, etag string) error {
	err := c.Target.Delete(ctx, href, etag)
	if err == nil && c.op == "delete" {
		die()
	}
	return err
}

// MaxParallel passes the target's bound on parallel writes through.
func (c *crashTarget) MaxParallel() int {
	if pt, ok := c.Target.(ksync.ParallelTarget); ok {
		return pt.MaxParallel()
	}
	return 1
}

// die ends the process at once, the way a crash does.
func die() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}
