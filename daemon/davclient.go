package daemon

import (
	"cmp"
	"fmt"
	"net/http"
	"time"

	"kith/internal/cafile"
)

// httpClient returns the HTTP client for d's server: nil (the client's
// own, with d's timeout) unless ca_file is set, else one that trusts its
// authorities beside the system's and gives up after d's timeout, or def.
func (d DAV) httpClient(def time.Duration) (*http.Client, error) {
	if d.CAFile == "" {
		return nil, nil
	}
	c, err := cafile.HTTPClient(d.CAFile, cmp.Or(d.Timeout.Duration, def))
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	return c, nil
}
