// Package merge builds one golden card from the cards of the records that
// describe the same person, and carries the changes sources make into a card
// the user may have edited (a three-way merge in which the user's edits win).
//
// Cards are in kith's raw-value convention (package card) and already in
// vCard 3.0 form (card.ToV3).
package merge
