package catalog

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

// Status is a product's lifecycle state.
type Status string

// The product statuses. Only ACTIVE products can be ordered.
const (
	StatusDraft    Status = "DRAFT"
	StatusActive   Status = "ACTIVE"
	StatusArchived Status = "ARCHIVED"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusDraft || s == StatusActive || s == StatusArchived
}

// transitions is the one table of allowed status changes (staying put is
// always allowed). An archived product comes back as a draft, so that its
// seller reviews it before it sells again.
var transitions = map[Status][]Status{
	StatusDraft:    {StatusActive, StatusArchived},
	StatusActive:   {StatusDraft, StatusArchived},
	StatusArchived: {StatusDraft},
}

// CanBecome reports whether a product in status s may move to next.
func (s Status) CanBecome(next Status) bool {
	return s == next || slices.Contains(transitions[s], next)
}

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	Minor    int64
	Currency string
}

func (m Money) String() string { return fmt.Sprintf("%d %s", m.Minor, m.Currency) }

// Limits of a product's fields.
const (
	MaxSKULen         = 64
	MaxNameLen        = 200
	MaxDescriptionLen = 5000
	MaxPriceMinor     = 1_000_000_000_00 // a billion in major units
	MaxImages         = 20
	MaxImageURLLen    = 2048
	MaxAttributes     = 50
	MaxAttributeKey   = 64
	MaxAttributeText  = 500
)

// Product is a sellable item of the catalog.
type Product struct {
	ID       uuid.UUID
	SellerID uuid.UUID
	Fields
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Fields are the parts of a product that its seller edits.
type Fields struct {
	SKU         string
	Name        string
	Description string
	Price       Money
	// CategoryID is uuid.Nil when the product is uncategorised.
	CategoryID uuid.UUID
	Status     Status
	// Images are absolute http(s) URLs, first one the main picture.
	Images []string
	// Attributes are free-form facts (colour, size, weight); values are
	// strings, numbers or booleans.
	Attributes map[string]any
}

var (
	skuPattern      = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._-]*$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// normalize trims and canonicalises f in place and returns every broken
// rule as one validation error (nil when f is valid).
func (f *Fields) normalize() error {
	var errs []problem.FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, problem.Field(field, format, args...))
	}
	f.SKU = strings.ToUpper(strings.TrimSpace(f.SKU))
	switch {
	case f.SKU == "":
		bad("sku", "is required")
	case len(f.SKU) > MaxSKULen:
		bad("sku", "must have at most %d characters", MaxSKULen)
	case !skuPattern.MatchString(f.SKU):
		bad("sku", "may contain only letters, digits, '.', '_' and '-', starting with a letter or digit")
	}
	f.Name = strings.Join(strings.Fields(f.Name), " ")
	switch {
	case f.Name == "":
		bad("name", "is required")
	case utf8.RuneCountInString(f.Name) > MaxNameLen:
		bad("name", "must have at most %d characters", MaxNameLen)
	}
	f.Description = strings.TrimSpace(f.Description)
	if utf8.RuneCountInString(f.Description) > MaxDescriptionLen {
		bad("description", "must have at most %d characters", MaxDescriptionLen)
	}
	if f.Price.Minor < 0 || f.Price.Minor > MaxPriceMinor {
		bad("price_minor", "must be between 0 and %d", int64(MaxPriceMinor))
	}
	if !currencyPattern.MatchString(f.Price.Currency) {
		bad("currency", "must be an ISO 4217 code in capitals, such as EUR")
	}
	if f.Status == "" {
		f.Status = StatusDraft
	}
	if !f.Status.Valid() {
		bad("status", "must be one of DRAFT, ACTIVE, ARCHIVED")
	}
	if f.Images == nil {
		f.Images = []string{}
	}
	if len(f.Images) > MaxImages {
		bad("images", "must have at most %d items", MaxImages)
	}
	for i, raw := range f.Images {
		if msg := checkImageURL(raw); msg != "" {
			bad(fmt.Sprintf("images[%d]", i), "%s", msg)
		}
	}
	if f.Attributes == nil {
		f.Attributes = map[string]any{}
	}
	if len(f.Attributes) > MaxAttributes {
		bad("attributes", "must have at most %d keys", MaxAttributes)
	}
	for _, k := range slices.Sorted(maps.Keys(f.Attributes)) {
		if msg := checkAttribute(k, f.Attributes[k]); msg != "" {
			bad("attributes."+k, "%s", msg)
		}
	}
	if len(errs) > 0 {
		return problem.Validation(errs...)
	}
	return nil
}

func checkImageURL(raw string) string {
	if len(raw) > MaxImageURLLen {
		return fmt.Sprintf("must have at most %d characters", MaxImageURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	return ""
}

func checkAttribute(key string, v any) string {
	if key == "" || utf8.RuneCountInString(key) > MaxAttributeKey || strings.TrimSpace(key) != key {
		return fmt.Sprintf("key must have 1 to %d characters and no surrounding spaces", MaxAttributeKey)
	}
	switch v := v.(type) {
	case string:
		if utf8.RuneCountInString(v) > MaxAttributeText {
			return fmt.Sprintf("must have at most %d characters", MaxAttributeText)
		}
	case float64, bool:
	default:
		return "must be a string, a number or a boolean"
	}
	return ""
}

// equal reports whether f and g describe the same product state.
func (f Fields) equal(g Fields) bool {
	return f.SKU == g.SKU && f.Name == g.Name && f.Description == g.Description &&
		f.Price == g.Price && f.CategoryID == g.CategoryID && f.Status == g.Status &&
		slices.Equal(f.Images, g.Images) && maps.Equal(f.Attributes, g.Attributes)
}

// clone returns f with its own slice and map, so a change never aliases the
// state it came from.
func (f Fields) clone() Fields {
	f.Images = slices.Clone(f.Images)
	f.Attributes = maps.Clone(f.Attributes)
	return f
}

// newProduct validates f and returns a product at version 1 and its event.
func newProduct(id, seller uuid.UUID, f Fields, now time.Time) (Product, []Event, error) {
	f = f.clone()
	if err := f.normalize(); err != nil {
		return Product{}, nil, err
	}
	p := Product{ID: id, SellerID: seller, Fields: f, Version: 1, CreatedAt: now, UpdatedAt: now}
	events := []Event{ProductUpserted{Product: p}}
	if p.Status == StatusArchived {
		events = append(events, ProductArchived{ProductID: p.ID, Version: p.Version})
	}
	return p, events, nil
}

// apply moves p to the state next (validated here) and returns the events
// of the change, none when next is the current state. by is who changed it.
func (p *Product) apply(next Fields, by uuid.UUID, now time.Time) ([]Event, error) {
	next = next.clone()
	if err := next.normalize(); err != nil {
		return nil, err
	}
	if p.Fields.equal(next) {
		return nil, nil
	}
	if !p.Status.CanBecome(next.Status) {
		return nil, fmt.Errorf("%w: a %s product cannot become %s", ErrStatusTransition, p.Status, next.Status)
	}
	if p.Status == StatusArchived && next.Status == StatusArchived {
		return nil, fmt.Errorf("%w: restore it first (status DRAFT), then change it", ErrProductArchived)
	}
	old := p.Fields
	p.Fields = next
	p.Version++
	p.UpdatedAt = now
	events := []Event{ProductUpserted{Product: *p}}
	if old.Price != next.Price {
		events = append(events, ProductPriceChanged{
			ProductID: p.ID, Old: old.Price, New: next.Price, Version: p.Version, By: by, At: now,
		})
	}
	if old.Status != StatusArchived && next.Status == StatusArchived {
		events = append(events, ProductArchived{ProductID: p.ID, Version: p.Version})
	}
	return events, nil
}

// Patch is a partial change (JSON merge patch): nil leaves a field as it
// is. A pointer to the zero value clears a field (CategoryID → uuid.Nil
// uncategorises).
type Patch struct {
	SKU         *string
	Name        *string
	Description *string
	PriceMinor  *int64
	Currency    *string
	CategoryID  *uuid.UUID
	Status      *Status
	Images      *[]string
	Attributes  *map[string]any
}

// onto returns f with the patch applied.
func (pt Patch) onto(f Fields) Fields {
	f = f.clone()
	set(&f.SKU, pt.SKU)
	set(&f.Name, pt.Name)
	set(&f.Description, pt.Description)
	set(&f.Price.Minor, pt.PriceMinor)
	set(&f.Price.Currency, pt.Currency)
	set(&f.CategoryID, pt.CategoryID)
	set(&f.Status, pt.Status)
	set(&f.Images, pt.Images)
	set(&f.Attributes, pt.Attributes)
	return f
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Precondition is a write's If-Match: Any (no check), or the versions the
// caller expects the product to be at.
type Precondition struct {
	Any      bool
	Versions []int64
}

// AnyVersion is the precondition of a write that did not send If-Match
// where it may be left out.
var AnyVersion = Precondition{Any: true}

func (pc Precondition) check(p Product) error {
	if pc.Any || slices.Contains(pc.Versions, p.Version) {
		return nil
	}
	return fmt.Errorf("%w: the product is at version %d (ETag \"v%d\"); reload it and retry", ErrVersionMismatch, p.Version, p.Version)
}
