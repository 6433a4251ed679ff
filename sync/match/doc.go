// Package match decides which records describe the same person.
//
// FromCard reduces a card to Evidence: names, emails, phones with their types,
// organisation, title and addresses. Cluster normalises the evidence, finds
// candidate pairs through blocking keys (normalised email, E.164 phone,
// family name with first initial, a phonetic key of the name) so that it never
// compares all pairs, scores each candidate, and joins records only on strong
// evidence. Doubtful pairs are returned as possible duplicates for a person
// to decide.
//
// Identifiers that clearly different people carry (a company switchboard, an
// info@ address, a household landline) are found from the data and do not
// count as evidence of identity on their own. A group never holds two
// clearly different names, however the joins chain. User decisions
// (Constraint) come first: Apart always wins, Together joins records that
// matching would keep apart.
//
// The package is pure logic: no files, no network, no global state.
package match
