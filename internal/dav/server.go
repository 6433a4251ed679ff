package dav

import (
	"net"
	"net/url"
	"strings"
)

// HostPort is the server u names: its host in lower case and its port,
// the scheme's default made explicit ("example.org:443").
func HostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
