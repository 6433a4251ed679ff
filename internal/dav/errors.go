package dav

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// StatusError is an HTTP response with an unexpected status.
type StatusError struct {
	Method string
	// URL is the request URL, without user info.
	URL  string
	Code int
	// Hint is what kith makes of the answer (a refused login, a login
	// scheme kith does not have), or "".
	Hint string
	// Message is what the server said: the message of a DAV:error body,
	// or a short, sanitised excerpt of another body. Never a copy of the
	// request's headers.
	Message string
	// Preconditions are the names of the DAV:error's conditions
	// (valid-sync-token, no-uid-conflict…).
	Preconditions []string
}

// Error names the request that failed, its HTTP status and what the server said.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: %s", e.Method, e.URL, http.StatusText(e.Code))
	if e.Code != 0 {
		msg = fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.URL, e.Code, http.StatusText(e.Code))
	}
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	if len(e.Preconditions) > 0 {
		msg += " (" + strings.Join(e.Preconditions, ", ") + ")"
	}
	if e.Message != "" {
		msg += "; the server says: " + e.Message
	}
	return msg
}

// StatusOf returns the HTTP status in err, or 0.
func StatusOf(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// IsNotFound reports whether err is an HTTP 404 or 410.
func IsNotFound(err error) bool {
	c := StatusOf(err)
	return c == http.StatusNotFound || c == http.StatusGone
}

// InvalidToken reports whether err is a server's refusal of a sync token
// (RFC 6578 section 3.2: 403 or 409 with DAV:valid-sync-token; some
// servers answer 400 or 412).
func InvalidToken(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case http.StatusForbidden, http.StatusConflict:
		return true
	case http.StatusBadRequest, http.StatusPreconditionFailed, http.StatusGone, http.StatusUnprocessableEntity:
		if slices.Contains(se.Preconditions, "valid-sync-token") {
			return true
		}
		m := strings.ToLower(se.Message)
		return strings.Contains(m, "sync-token") || strings.Contains(m, "sync token")
	}
	return false
}

// SabreTokenPrefix starts sabre/dav's (Nextcloud's, Baikal's) sync tokens,
// which end in the collection's revision number.
const SabreTokenPrefix = "http://sabre.io/ns/sync/"

// TokenWentBack reports whether a sabre/dav token moved back: sabre answers
// a token newer than its own (a server restored from a backup) with "no
// changes" and its older token, rather than refusing it, so changes made
// since the restore would be missed.
func TokenWentBack(old, next string) bool {
	o, ok1 := strings.CutPrefix(old, SabreTokenPrefix)
	n, ok2 := strings.CutPrefix(next, SabreTokenPrefix)
	if !ok1 || !ok2 {
		return false
	}
	on, err1 := strconv.ParseInt(o, 10, 64)
	nn, err2 := strconv.ParseInt(n, 10, 64)
	return err1 == nil && err2 == nil && nn < on
}
