package davserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"
)

// backend is the carddav.Backend behind go-webdav's handler. The handler
// only gets the requests kith does not answer itself (OPTIONS, PROPPATCH,
// MKCOL, COPY, MOVE), so the card methods report existence and metadata
// but no card content, and writes through it are refused: cards are read
// and written by davRequest, with kith's own vCard codec.
type backend struct {
	s *Server
}

var _ carddav.Backend = (*backend)(nil)

var errNotHere = webdav.NewHTTPError(http.StatusNotImplemented, errors.New("davserver: served by kith, not go-webdav"))

func (b *backend) CurrentUserPrincipal(ctx context.Context) (string, error) {
	return principalPath(userFrom(ctx)), nil
}

func (b *backend) AddressBookHomeSetPath(ctx context.Context) (string, error) {
	return homePath(userFrom(ctx)), nil
}

func (b *backend) book(ctx context.Context) carddav.AddressBook {
	return carddav.AddressBook{
		Path:            bookPath(userFrom(ctx)),
		Name:            b.s.bookName,
		MaxResourceSize: b.s.maxBody,
		SupportedAddressData: []carddav.AddressDataType{
			{ContentType: vcard.MIMEType, Version: "3.0"},
			{ContentType: vcard.MIMEType, Version: "4.0"},
		},
	}
}

func (b *backend) ListAddressBooks(ctx context.Context) ([]carddav.AddressBook, error) {
	return []carddav.AddressBook{b.book(ctx)}, nil
}

func (b *backend) GetAddressBook(ctx context.Context, path string) (*carddav.AddressBook, error) {
	ab := b.book(ctx)
	if path != ab.Path {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("davserver: no such address book"))
	}
	return &ab, nil
}

func (b *backend) CreateAddressBook(ctx context.Context, ab *carddav.AddressBook) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("davserver: kith serves one address book"))
}

func (b *backend) DeleteAddressBook(ctx context.Context, path string) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New("davserver: kith's address book cannot be deleted"))
}

// GetAddressObject reports whether the card at path exists, with its
// metadata and without its content.
func (b *backend) GetAddressObject(ctx context.Context, path string, req *carddav.AddressDataRequest) (*carddav.AddressObject, error) {
	user := userFrom(ctx)
	loc, err := parsePath((&url.URL{Path: path}).EscapedPath(), user)
	if err != nil || loc.kind != kindCard {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("davserver: no such card"))
	}
	st, err := b.s.store.get(ctx, loc.name)
	if errors.Is(err, errNotFound) {
		return nil, webdav.NewHTTPError(http.StatusNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	return &carddav.AddressObject{Path: cardPath(user, st.Href), ModTime: st.Modified, ETag: st.ETag}, nil
}

// ListAddressObjects lists the cards' paths and ETags, without content.
func (b *backend) ListAddressObjects(ctx context.Context, path string, req *carddav.AddressDataRequest) ([]carddav.AddressObject, error) {
	user := userFrom(ctx)
	var out []carddav.AddressObject
	err := b.s.store.each(ctx, 0, false, func(st stored) error {
		out = append(out, carddav.AddressObject{Path: cardPath(user, st.Href), ModTime: st.Modified, ETag: st.ETag})
		return nil
	})
	return out, err
}

func (b *backend) QueryAddressObjects(ctx context.Context, path string, query *carddav.AddressBookQuery) ([]carddav.AddressObject, error) {
	return nil, errNotHere
}

func (b *backend) PutAddressObject(ctx context.Context, path string, card vcard.Card, opts *carddav.PutAddressObjectOptions) (*carddav.AddressObject, error) {
	return nil, errNotHere
}

func (b *backend) DeleteAddressObject(ctx context.Context, path string) error {
	return errNotHere
}
