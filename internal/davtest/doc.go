// Package davtest starts real CardDAV servers (Radicale, Xandikos) for
// tests, on 127.0.0.1 with a temporary storage folder, and puts a
// fault-injecting reverse proxy in front of them.
//
// The servers come from Debian packages (radicale, xandikos). A test that
// needs one is skipped when its program is missing, unless the environment
// variable CI is "true": then it fails, so that CI cannot pass by skipping.
package davtest
