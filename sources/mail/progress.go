package mail

import (
	"context"
	"fmt"

	ksync "kith/sync"
)

// progress reports how far the first read of a big mailbox got, on the
// reporter the context carries (a terminal); small reads say nothing.
type progress struct {
	report func(string)
	label  string
	total  int
}

// newProgress reports a read of total messages stored in batches of per:
// only a read of more than one batch is shown.
func newProgress(ctx context.Context, label string, total, per int) progress {
	if total <= per {
		return progress{}
	}
	return progress{report: ksync.Progress(ctx), label: label, total: total}
}

func (p progress) done(n int) {
	if p.report != nil {
		p.report(fmt.Sprintf("%s: %d of %d messages read", p.label, n, p.total))
	}
}
