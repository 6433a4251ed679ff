// Package normalize turns the values of a card into the forms that matching
// and merging compare: folded text, lower-cased emails, E.164 phone numbers.
package normalize
