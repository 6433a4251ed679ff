package sync

import "context"

type progressKey struct{}

// WithProgress returns a context that carries a progress reporter: long
// reads (the first read of a big mailbox) call it with a line to show,
// such as "mail \"work\": INBOX: 5000 of 48211 messages". Without one,
// nothing is shown.
func WithProgress(ctx context.Context, report func(line string)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// Progress returns the context's progress reporter, or one that does
// nothing.
func Progress(ctx context.Context) func(line string) {
	if f, ok := ctx.Value(progressKey{}).(func(string)); ok && f != nil {
		return f
	}
	return func(string) {}
}
