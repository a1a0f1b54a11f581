package catalogdb

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
)

// Search, in two steps.
//
//  1. fuzzyQuery looks up, for each word of the query that is not itself a
//     known word, up to three dictionary words (search_words, filled by a
//     trigger from product names) whose trigram similarity to it passes
//     pg_trgm.similarity_threshold (0.3): "hedphones" → "headphones". It
//     builds a tsquery that ANDs the words, each ORed with its suggestions:
//     "(hedphones | headphones) & (wireles | wireless)". Stop words are left
//     out: they match nothing and would otherwise pull in look-alikes. The
//     cursor carries this expansion to later pages (see Store.terms).
//  2. The listing matches products whose full-text document matches either
//     the query as typed (websearch syntax: quotes, or, -word) or the fuzzy
//     query; both run on the GIN index of products.search. The english
//     configuration stems, so "headphone" finds "headphones".
//
// The rank adds ts_rank of the query as typed (name and SKU weigh A, the
// description B, so a name match outranks a description match) and
// ts_rank of the fuzzy query (so a typo still ranks, and an exact match
// ranks above it). Both read only the matching rows' documents; a per-row
// trigram similarity to the name was tried as a third term and dropped: it
// cost 8 µs a row, two thirds of a search for a common word at 100,000
// products, for a tie-break the ranks already make.
const (
	exactQuery = `websearch_to_tsquery('english', ?)`
	fuzzyTSQ   = `to_tsquery('english', ?)`
)

// maxQueryWords bounds the words a query is split into for suggestions.
const maxQueryWords = 8

// queryWords splits a text query into lower-case words of letters and
// digits (anything else separates words, so nothing of the user's text
// reaches to_tsquery's syntax).
func queryWords(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) > maxQueryWords {
		words = words[:maxQueryWords]
	}
	return words
}

// suggestionsSQL returns, for each query word in order, whether it is a
// stop word and its closest dictionary words.
const suggestionsSQL = `
SELECT q.n, q.w AS word, numnode(plainto_tsquery('english', q.w)) = 0 AS stop, s.word AS suggestion
FROM unnest(?::text[]) WITH ORDINALITY AS q(w, n)
LEFT JOIN LATERAL (
	SELECT sw.word FROM search_words sw
	WHERE length(q.w) >= 3 AND sw.word % q.w AND sw.word <> q.w
		AND NOT EXISTS (SELECT FROM search_words known WHERE known.word = q.w)
	ORDER BY similarity(sw.word, q.w) DESC, sw.word
	LIMIT 3
) s ON true
ORDER BY q.n, similarity(s.word, q.w) DESC`

// fuzzyQuery returns the to_tsquery text for text, or "" when no word has a
// suggestion (the query as typed is all there is to search for).
func fuzzyQuery(ctx context.Context, db *gorm.DB, text string) (string, error) {
	words := queryWords(text)
	if len(words) == 0 {
		return "", nil
	}
	var rows []struct {
		N          int
		Word       string
		Stop       bool
		Suggestion *string
	}
	if err := db.WithContext(ctx).Raw(suggestionsSQL, database.TextArray(words)).Scan(&rows).Error; err != nil {
		return "", fmt.Errorf("search suggestions: %w", err)
	}
	var groups []string
	suggested := false
	for i := 0; i < len(rows); {
		n, alts := rows[i].N, []string{rows[i].Word}
		stop := rows[i].Stop
		for ; i < len(rows) && rows[i].N == n; i++ {
			if s := rows[i].Suggestion; s != nil {
				alts = append(alts, *s)
				suggested = true
			}
		}
		if !stop {
			groups = append(groups, "("+strings.Join(alts, " | ")+")")
		}
	}
	if !suggested { // the query as typed says it all
		return "", nil
	}
	return strings.Join(groups, " & "), nil
}

// termsPattern is the shape fuzzyQuery builds: groups of words joined by
// " | ", in parentheses, joined by " & ".
var termsPattern = regexp.MustCompile(`^\([\p{L}\p{N}]+( \| [\p{L}\p{N}]+)*\)( & \([\p{L}\p{N}]+( \| [\p{L}\p{N}]+)*\))*$`)

// validTerms reports whether terms (from a cursor) is empty or has the
// shape fuzzyQuery builds, so that nothing else reaches to_tsquery.
func validTerms(terms string) bool {
	return terms == "" || (len(terms) <= 2000 && termsPattern.MatchString(terms))
}

// textMatch is the WHERE condition of a text search, and rankExpr its
// rank; both take textArgs.
func textMatch(fuzzy string) string {
	if fuzzy == "" {
		return `p.search @@ ` + exactQuery
	}
	return `(p.search @@ ` + exactQuery + ` OR p.search @@ ` + fuzzyTSQ + `)`
}

func textArgs(text, fuzzy string) []any {
	if fuzzy == "" {
		return []any{text}
	}
	return []any{text, fuzzy}
}

func rankExpr(fuzzy string) string {
	if fuzzy == "" {
		return `ts_rank(p.search, ` + exactQuery + `)`
	}
	return `(ts_rank(p.search, ` + exactQuery + `) + ts_rank(p.search, ` + fuzzyTSQ + `))::real`
}
