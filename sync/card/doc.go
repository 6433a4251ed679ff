// Package card is kith's reading and writing layer for vCards, built around
// github.com/emersion/go-vcard.
//
// go-vcard's types (vcard.Card, vcard.Field, vcard.Params) are the model every
// other package speaks, with one convention that differs from go-vcard's own
// decoder: a Field.Value holds the value exactly as it stands in the vCard text
// after unfolding, QUOTED-PRINTABLE decoding and charset conversion to UTF-8 —
// still escaped (`\,` `\;` `\n` `\\`). Nothing is unescaped on the way in and
// nothing is escaped again on the way out, so every value survives a round trip
// unchanged. Text, Components and List turn a raw value into plain strings;
// EscapeText and JoinComponents go the other way.
//
// vCard 2.1 input is brought into that convention on the way in: its
// QUOTED-PRINTABLE and CHARSET are decoded (and those parameters dropped, so
// that a card read back is not decoded twice), and its values are escaped
// the 3.0 way (2.1 did not escape commas).
package card
