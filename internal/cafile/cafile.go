// Package cafile reads a ca_file: the certificate authorities a user
// trusts for a home server (its own CA, or its self-signed certificate)
// beside the system's.
package cafile

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Load returns the system's certificate authorities and those of the PEM
// file at path. It fails when the file holds no certificate.
func Load(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}

// Explain adds to err, when it is a certificate no trusted authority
// signed, how to trust a home server's own: most often the case behind it.
func Explain(err error) error {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return fmt.Errorf("%w (a server with its own certificate authority or a self-signed certificate: trust it with ca_file)", err)
	}
	return err
}

// HTTPClient returns a client that trusts the authorities of the PEM file
// at path beside the system's, and gives up on a request after timeout.
func HTTPClient(path string, timeout time.Duration) (*http.Client, error) {
	pool, err := Load(path)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}
