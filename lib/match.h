/*
 * match.h - suggest which unmapped Tuya lock goes with which unmapped Stays
 * listing, from their names (`stays-reconcile locks suggest`).
 *
 * Pure and deterministic: no I/O, no clock, no locale, no randomness; the
 * same arrays always give the same suggestions in the same order.  It never
 * maps anything: the caller shows the suggestions and the operator decides.
 *
 * Normalisation (match_normalize), applied to every name:
 *   - UTF-8 in.  The letters of Latin-1 Supplement and Latin Extended-A
 *     (U+00C0..U+017F: á à â ã ä ç é ê è í ó ô õ ö ú ü ñ and the rest, both
 *     cases) lose their accents by code point ("São" -> "sao", "ß" -> "ss",
 *     "Æ" -> "ae"); ASCII letters are lowercased.  Every other character,
 *     every other code point (º, ª, dashes, quotes, other scripts) and every
 *     byte of invalid UTF-8 is a separator.
 *   - Tokens are the runs of [a-z0-9] between separators, joined by one space.
 *   - A unit number is a token of digits with at most one letter after them:
 *     "302", "302b".  Leading zeros go ("0302" -> "302", "000" -> "0"), and a
 *     single letter after a hyphen joins the number ("302-B" -> "302b"; not
 *     after a space: "302 B" stays two tokens).  Other mixes ("kx01",
 *     "apto302", "2br") are words.
 *   - Filler words are dropped (MATCH_FILLERS below).  Kept on purpose:
 *     descriptive words ("studio", "loft", "casa", "cobertura", "bloco"),
 *     single letters other than "n" and "r" (blocks "a", "b"), and numbers.
 *   - Tokens longer than MATCH_TOKEN_MAX bytes are dropped (no real word is
 *     that long), and the output is cut at a token boundary, never inside a
 *     token: a cut "302" would be a different unit "30".
 *
 * Scoring one listing L against one device D, 0..100 (match_suggest):
 *   - L's numbers are the unit numbers of its name (not of its place: those
 *     are street numbers).  Numbers are decisive: if both names carry unit
 *     numbers and none is equal, the score is 0 whatever else matches.
 *   - U = 40 if a unit number is in both names.
 *   - S = 60 if L's short id is a token of D's name.  Only a short id that
 *     normalises to one word (not a unit number) of at least 3 characters
 *     counts ("KX01" -> "kx01"), so that a short id never passes for a unit
 *     number; that token is then not one of D's words.
 *   - W = 60 * Dice(words), with the weighted overlap counted per word of D:
 *     1 if the same word is in L's name, else 1/2 if one of the two is a
 *     prefix of the other and the shorter has at least MATCH_PREFIX_MIN
 *     characters ("copa" ~ "copacabana"), else 1/2 if the word is in L's place
 *     (city, address) and not in its name; a place word found counts as one
 *     more word of L.  Dice = 2 * overlap / (words of L's name + words of D
 *     + place words found), at most 1; 0 when there are no words.
 *   - score = min(100, U + S + W), computed in integers (overlap in halves).
 *
 * Threshold: a pair is suggested when score >= MATCH_THRESHOLD (50).  So:
 *   - a shared unit number alone (40) is not enough: "Ipanema 101" and
 *     "Leblon 101" are not suggested, nor "Copacabana 101" and "Apto 101";
 *   - a shared number and one shared word are, while the two names have at
 *     most 12 words together (40 + 120 / words >= 50);
 *   - without a shared number the words must nearly agree (Dice >= 5/6):
 *     "Leblon Studio" ~ "Studio Leblon - front door";
 *   - the short id alone is (60): "KX01" in the device name.
 *
 * Assignment: every pair at or above the threshold is a candidate; the
 * candidates are taken greedily, best score first, ties by listing id, then
 * device id (strcmp, NULL as ""), then the array indexes; a candidate whose
 * listing or device is already taken is skipped.  Each listing and each
 * device is thus in at most one suggestion, and a listing that loses its best
 * device may get its next best.
 */
#ifndef STAYS_MATCH_H
#define STAYS_MATCH_H

#include <stddef.h>

#define MATCH_THRESHOLD 50
#define MATCH_PREFIX_MIN 4
#define MATCH_TOKEN_MAX 48      /* longer tokens are dropped */
#define MATCH_NORM_MAX 256      /* bytes of a normalised name, with the NUL */
#define MATCH_REASON_MAX 160

/*
 * The filler words dropped by match_normalize, as they are after folding
 * ("nº" is "n" then a separator, "número" is "numero").  Portuguese and
 * English words for an apartment, a unit, a lock or a door, a street
 * type, a building, a number, and the articles and prepositions that join
 * them ("de", "da", "no", "the", "of", "and").
 */
#define MATCH_FILLERS \
	"ap", "apt", "apto", "apartamento", "apartment", "flat", "unidade", \
	"unit", "front", "door", "porta", "entrada", "entrance", "fechadura", \
	"lock", "smart", "smartlock", "de", "da", "do", "das", "dos", \
	"em", "na", "nas", "nos", "the", "of", "and", "no", "n", "nr", "num", \
	"numero", "number", "rua", "r", "av", "avenida", "street", "st", \
	"edificio", "ed", "predio", "building"

/* A Stays listing; every pointer is borrowed for the call and may be NULL. */
struct match_listing {
	const char *id;         /* _idlisting: the tie-break */
	const char *short_id;   /* "KX01", may be NULL or "" */
	const char *name;       /* the internal name */
	const char *place;      /* city and/or address, may be NULL or "" */
};

/* A Tuya lock; pointers borrowed for the call.  pin_length (0: unknown) is
 * carried for the caller's display and not scored. */
struct match_device {
	const char *id;
	const char *name;
	int pin_length;
};

/* One suggestion: indexes into the caller's arrays. */
struct match_pair {
	size_t listing, device;
	int score;                      /* MATCH_THRESHOLD..100 */
	char reason[MATCH_REASON_MAX];  /* "unit 302 and 'copacabana' in both names" */
};

/*
 * Normalise the UTF-8 string in (NULL is "") into out, as described at the
 * top of this file.  out (outsz > 0) always receives a NUL-terminated
 * string of lowercase ASCII letters, digits and single spaces, without a
 * leading or trailing space; tokens that do not fit whole are left out.
 * Returns strlen(out).
 */
size_t match_normalize(const char *in, char *out, size_t outsz);

/*
 * Suggest listing-device pairs.  l (nl entries) and d (nd entries) may be
 * NULL when their count is 0.  Sets *out to a new array of the suggestions,
 * best first (see Assignment above), owned by the caller (free()), or to
 * NULL when there are none, and returns how many.  Never fails (memory
 * exhaustion aborts, as the x-allocators do).
 */
size_t match_suggest(const struct match_listing *l, size_t nl,
		     const struct match_device *d, size_t nd,
		     struct match_pair **out);

#endif
