package davserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"kith/sync/card"
)

// Options configure a Server.
type Options struct {
	// DB is kith's state database, migrated (it holds the dav_cards and
	// dav_meta tables). Required.
	DB *sql.DB
	// UsersFile is the file of "user:bcrypt-hash" lines. Required; it is
	// read again whenever it changes. While it is missing no one can log in.
	UsersFile string
	// Logger receives the server's messages; nil discards them.
	Logger *slog.Logger
	// MaxBody is the largest request body accepted, in bytes; larger ones
	// get 413. 0 means 10 MB.
	MaxBody int64
	// CardLimits bound the cards a client may write (size, properties:
	// [limits] card_size and properties); a card over them is refused
	// with 403 CARDDAV:max-resource-size. The zero value: no limit but
	// MaxBody.
	CardLimits card.Limits
	// BookName is the address book's display name; "" means "People".
	BookName string
	// Report, when set, is served at /report (behind the same login).
	Report http.Handler
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// TrustForwardedFor makes the login limiter take the client address
	// from the last X-Forwarded-For entry: set it only behind a reverse
	// proxy that sets that header, else clients could pick their own.
	TrustForwardedFor bool
	// MaxConnsPerAddr is how many connections one client address may hold
	// open at once; further ones are closed as soon as they are accepted.
	// 0 means DefaultMaxConnsPerAddr, negative no limit. Behind a reverse
	// proxy (TrustForwardedFor) every connection comes from the proxy, and
	// there is no limit.
	MaxConnsPerAddr int
	// ReadTimeout bounds the time to read a request, body included; 0
	// means DefaultReadTimeout. IdleTimeout bounds how long a kept-alive
	// connection waits for its next request; 0 means DefaultIdleTimeout.
	ReadTimeout, IdleTimeout time.Duration
	// OnChange, when set, is called after a client changed the book (a
	// PUT or DELETE that succeeded), so the daemon can merge
	// the edit soon. It must not block.
	OnChange func()
}

// DefaultMaxBody is the request body limit when Options.MaxBody is 0.
const DefaultMaxBody = 10 << 20

// Timeouts of the server's connections. A request's headers must arrive
// within headerTimeout and the whole request (a 10 MB card on a slow phone
// line included) within DefaultReadTimeout, so that a client trickling
// bytes cannot hold a connection for ever; a response has writeTimeout.
const (
	headerTimeout      = 20 * time.Second
	DefaultReadTimeout = 2 * time.Minute
	DefaultIdleTimeout = 2 * time.Minute
	writeTimeout       = 10 * time.Minute
	// maxHeaderBytes bounds a request's headers; net/http's default is 1 MB.
	maxHeaderBytes = 64 << 10
)

// Paths of the server's resources. The layout has the depths go-webdav's
// carddav.Handler expects after its prefix: principal, home set, book, card.
const (
	davPrefix = "/dav"
	homeName  = "contacts"
	bookSlug  = "people"
	// WellKnown is the discovery address of RFC 6764.
	WellKnown = "/.well-known/carddav"
)

// Server is the CardDAV server. Its methods are safe for concurrent use.
type Server struct {
	store    *store
	users    *users
	limiter  *limiter
	log      *slog.Logger
	maxBody  int64
	bookName string
	report   http.Handler
	now      func() time.Time
	proxied  bool
	onChange func()
	cardLim  card.Limits
	maxConns int
	readTO   time.Duration
	idleTO   time.Duration
}

// New returns a server over opts.DB. It does not listen; see Handler and
// ListenAndServe.
func New(opts Options) (*Server, error) {
	if opts.DB == nil {
		return nil, errors.New("davserver: no database")
	}
	if opts.UsersFile == "" {
		return nil, errors.New("davserver: users_file: not set")
	}
	s := &Server{
		log:      opts.Logger,
		maxBody:  opts.MaxBody,
		bookName: opts.BookName,
		report:   opts.Report,
		now:      opts.Now,
		proxied:  opts.TrustForwardedFor,
		onChange: opts.OnChange,
		cardLim:  opts.CardLimits,
		maxConns: opts.MaxConnsPerAddr,
		readTO:   opts.ReadTimeout,
		idleTO:   opts.IdleTimeout,
	}
	if s.maxConns == 0 {
		s.maxConns = DefaultMaxConnsPerAddr
	}
	if s.readTO <= 0 {
		s.readTO = DefaultReadTimeout
	}
	if s.idleTO <= 0 {
		s.idleTO = DefaultIdleTimeout
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.bookName == "" {
		s.bookName = "People"
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.store, err = newStore(context.Background(), opts.DB, s.now); err != nil {
		return nil, fmt.Errorf("davserver: %w", err)
	}
	if s.users, err = newUsers(opts.UsersFile, s.log); err != nil {
		return nil, fmt.Errorf("davserver: %w", err)
	}
	s.users.mu.Lock()
	s.users.refresh()
	s.users.mu.Unlock()
	s.limiter = newLimiter(s.now)
	return s, nil
}

// Handler returns the HTTP handler for every path the server answers:
// /healthz (no login), and behind Basic auth the server root and /dav/
// (PROPFIND discovery), /.well-known/carddav (a redirect to the user's
// principal), /dav/USER/ (principal), /dav/USER/contacts/ (address book home
// set), /dav/USER/contacts/people/ (the book) with its cards, and /report.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// ListenAndServe serves Handler on addr (TLS when certFile and keyFile are
// set) until ctx is cancelled, then shuts down gracefully, giving running
// requests up to ten seconds. It returns nil after a shutdown caused by ctx.
func (s *Server) ListenAndServe(ctx context.Context, addr, certFile, keyFile string) error {
	if (certFile == "") != (keyFile == "") {
		return errors.New("davserver: tls_cert and tls_key must be set together")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("davserver: listening on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln, certFile, keyFile)
}

// Serve is ListenAndServe on a listener the caller opened; it closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: min(headerTimeout, s.readTO),
		ReadTimeout:       s.readTO,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       s.idleTO,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if s.maxConns > 0 && !s.proxied {
		ln = newCapListener(ln, s.maxConns, s.log)
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if certFile != "" {
			err = srv.ServeTLS(ln, certFile, keyFile)
		} else {
			err = srv.Serve(ln)
		}
		done <- err
	}()
	s.log.Info("CardDAV server listening", "addr", ln.Addr().String(), "tls", certFile != "")
	select {
	case err := <-done:
		return fmt.Errorf("davserver: serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-done
	if err != nil {
		return fmt.Errorf("davserver: shutting down: %w", err)
	}
	return nil
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path == "/healthz" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
		return
	}
	user, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, user))
	if r.ContentLength > s.maxBody {
		s.refuseBody(w, r)
		return
	}
	if r.ContentLength == 0 {
		r.Body = http.NoBody
	} else {
		r.Body = clientBody{http.MaxBytesReader(w, r.Body, s.maxBody)}
	}

	switch {
	case r.URL.Path == "/report":
		if s.report == nil {
			http.NotFound(w, r)
			return
		}
		s.report.ServeHTTP(w, r)
	case r.URL.Path == WellKnown || r.URL.Path == WellKnown+"/":
		http.Redirect(w, r, principalPath(user), http.StatusMovedPermanently)
	default:
		if s.onChange == nil || !changes(r.Method) {
			s.serveDAV(w, r, user)
			return
		}
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		s.serveDAV(sw, r, user)
		if sw.code/100 == 2 {
			s.onChange()
		}
	}
}

// changes reports whether a request of this method may change the book.
func changes(method string) bool {
	switch method {
	case http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// refuseBody answers a request whose body is over the limit without reading it.
func (s *Server) refuseBody(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("request body too large", "path", r.URL.Path, "length", r.ContentLength, "limit", s.maxBody)
	w.Header().Set("Connection", "close")
	http.Error(w, "request body larger than "+strconv.FormatInt(s.maxBody, 10)+" bytes", http.StatusRequestEntityTooLarge)
}

// authenticate checks the request's Basic auth. On failure it has written
// the response.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	challenge := func() {
		w.Header().Set("WWW-Authenticate", `Basic realm="kith", charset="UTF-8"`)
		http.Error(w, "login required", http.StatusUnauthorized)
	}
	user, password, ok := r.BasicAuth()
	if !ok {
		// Clients probe without credentials first; the challenge costs
		// nothing and checks nothing, so it is never slowed down.
		challenge()
		return "", false
	}
	// A name that cannot be a user's is not tracked (nor kept): only its
	// address is, so that made-up names of any length cost no memory.
	keys := []string{"ip:" + s.clientAddr(r)}
	valid := checkUserName(user) == nil
	if valid {
		keys = append(keys, "user:"+user)
	}
	if wait := s.limiter.wait(keys...); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		http.Error(w, "too many failed logins; try again later", http.StatusTooManyRequests)
		return "", false
	}
	if valid && s.users.check(user, password) {
		s.limiter.succeed(keys...)
		return user, true
	}
	s.limiter.fail(keys...)
	// Only a known user's name is logged: anything else a client sent as
	// a name (a password typed in the wrong field, 600 KB of junk) is not.
	name := "(unknown user)"
	if valid && s.users.known(user) {
		name = user
	}
	s.log.Warn("login failed", "user", name, "client", s.clientAddr(r))
	challenge()
	return "", false
}

// clientAddr is the address failed logins are counted against.
func (s *Server) clientAddr(r *http.Request) string {
	if s.proxied {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			// Only an address: anything else there (the proxy is
			// misconfigured) would be a key of any size and choice.
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientBody marks the errors of reading a request body that are the
// client's doing (malformed chunked encoding, a body cut short by a client
// that went away) as bodyError, which is answered 400, not 500.
type clientBody struct{ io.ReadCloser }

// bodyError is a request body that could not be read.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

func (b clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if err != nil && err != io.EOF && !errors.As(err, &mbe) {
		err = &bodyError{err: err}
	}
	return n, err
}
