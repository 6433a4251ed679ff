// Package match decides which records describe the same person.
//
// FromCard reduces a card to Evidence: names, emails, phones with their types,
// organisation, title and addresses. Cluster normalises the evidence (names
// NFKC, accents and case folded, ue/oe/ae folded so Müller = Mueller; emails
// lower-cased, +tags and Gmail dots dropped; phones to E.164 in the
// Normalizer's default region), and finds candidate pairs through blocking
// keys, never comparing all pairs:
//
//   - a normalised email, an E.164 phone, a folded address, an organisation;
//   - family name with given name or its nickname group (Bob = Robert);
//   - family name with initial, where full names wait as targets for records
//     that give only an initial ("J. Smith");
//   - a given name as family name with the initial of the family name, for
//     names written in swapped order without a comma;
//   - a rough sound key of the family name with the given name;
//   - OCR-folded forms (rn = m, 1 = l, 0 = o, c = e) wherever a scanned card
//     takes part.
//
// Blocks too large to compare all pairs (a common name, a switchboard) are
// sorted by name and compared within a sliding window, so the work grows
// about linearly with the number of records.
//
// Each candidate pair is scored. Names are compared first: the same (allowing
// nicknames, transliterations, diacritics, swapped order), compatible (an
// initial, half of a double name, a near spelling; OCR slips in a scanned
// card), or clearly different, which rules a join out. Records are joined
// when they share a strong identifier (an email or phone number that no one
// else carries) and their names are not clearly different, or when the full
// names are the same and enough weak evidence agrees (organisation and title,
// the same address). Everything doubtful goes to Result.Possible, never
// joined.
//
// Identifiers that clearly different people carry (a company switchboard, an
// info@ address, a household landline or family email) are found from the
// data and count only as weak evidence; role mailboxes (info@, office@) are
// shared from the start. A landline agreeing with only an initial is weak
// too: it may be another member of the household. Joins are made strongest
// first, and a join is refused when the group would hold two clearly
// different names, so chaining through "J. Smith" cannot put John and Jane
// Smith together.
//
// User decisions (Constraint) come first: Together joins records that
// matching would keep apart, and Apart always wins, over evidence and over
// Together. Every join carries a reason in words.
//
// Quality is measured against generated worlds with known truth (package
// groundtruth): TestQuality asserts pairwise precision and recall on fixed
// seeds, and TestQualityTable keeps testdata/quality.md, the table of kith
// against the naive baselines (go test ./sync/match -run TestQualityTable -v;
// add -args -update to rewrite it). BenchmarkCluster measures 10k and 100k
// records, and 1M with -args -bench1m.
//
// The package is pure logic: no files, no network, no global state.
package match
