package sync

import (
	"context"
	"maps"
)

// GetEach reads hrefs from t; when the batch fails, it reads them one by
// one, so that a card that cannot be read (a broken file another program
// left, a card a server cannot hand out) holds back nothing else. It
// returns the cards read, and the reason of each href that could not be
// read (such a card is not gone: it waits for a later sync). It fails
// only when ctx is done.
func GetEach(ctx context.Context, t Target, hrefs []string) (map[string]Entry, map[string]error, error) {
	got, err := t.Get(ctx, hrefs)
	if err == nil {
		return got, nil, nil
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	got = map[string]Entry{}
	bad := map[string]error{}
	for _, href := range hrefs {
		one, err := t.Get(ctx, []string{href})
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if err != nil {
			bad[href] = err
			continue
		}
		maps.Copy(got, one)
	}
	return got, bad, nil
}
