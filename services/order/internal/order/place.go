package order

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

// Limits of one order.
const (
	MaxLines    = 100
	MaxQuantity = 1000
)

// LineInput is one line as the customer asks for it: a product and a
// quantity. Prices and names never come from the customer.
type LineInput struct {
	ProductID string
	Quantity  int
}

// PlaceInput is a request to place an order.
type PlaceInput struct {
	Lines []LineInput
	// IdempotencyKey is the request's Idempotency-Key, stored on the order
	// under a unique (user, key) constraint.
	IdempotencyKey string
	// Receipt, when not nil, is asked for the receipt of the order it is
	// given (checked and priced, not yet written): the receipt is written
	// with the order, in the same statement, and the order only with it.
	// The API renders its answer there, so that the answer's record is as
	// durable as the order.
	Receipt func(Order) (Receipt, error)
}

// Place prices the lines from the catalog replica and saves the order as
// CREATED with its items, its first timeline entry and ORDER_CREATED, and
// in.Receipt's receipt, atomically (Store.CreateOrder): when the receipt is
// refused (its key has a record already) nothing is written and the error
// is ErrReceiptRefused. When the user already placed an order with the same
// idempotency key (the key's record was lost in a crash after the commit,
// or expired), it returns that order and created=false instead of placing a
// second one.
func (s *Service) Place(ctx context.Context, actor Actor, in PlaceInput) (o Order, created bool, err error) {
	if o, err = s.newOrder(ctx, actor, in); err != nil {
		return Order{}, false, err
	}
	var receipt Receipt
	if in.Receipt != nil {
		if receipt, err = in.Receipt(o); err != nil {
			return Order{}, false, err
		}
	}
	err = s.store.CreateOrder(ctx, o, HistoryEntry{
		OrderID: o.ID, At: o.CreatedAt, Kind: KindTransition, To: StatusCreated, Actor: &actor, Reason: "PLACED",
	}, Created{Order: o}, receipt)
	if errors.Is(err, ErrDuplicateKey) {
		o, err = s.store.OrderByKey(ctx, actor.ID, o.IdempotencyKey)
		if err != nil {
			return Order{}, false, fmt.Errorf("place order: load the order of the same key: %w", err)
		}
		return o, false, nil
	}
	if err != nil {
		return Order{}, false, fmt.Errorf("place order: %w", err)
	}
	s.m.OrderCreated()
	return o, true, nil
}

// newOrder checks and prices the order that in asks for.
func (s *Service) newOrder(ctx context.Context, actor Actor, in PlaceInput) (Order, error) {
	if actor.ID == "" {
		return Order{}, ErrForbidden
	}
	if in.IdempotencyKey == "" {
		return Order{}, errors.New("place order: no idempotency key")
	}
	if err := validateLines(in.Lines); err != nil {
		return Order{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Order{}, fmt.Errorf("place order: id: %w", err)
	}
	ids := make([]string, len(in.Lines))
	for i, l := range in.Lines {
		ids[i] = l.ProductID
	}
	products, err := s.store.Products(ctx, ids)
	if err != nil {
		return Order{}, fmt.Errorf("place order: %w", err)
	}
	priced, err := priceLines(in.Lines, products)
	if err != nil {
		return Order{}, err
	}
	if err := s.checkOpen(ctx, actor.ID, priced.Items); err != nil {
		return Order{}, err
	}
	now := s.now()
	return Order{
		ID: id.String(), UserID: actor.ID, Status: StatusCreated,
		Currency: priced.Currency, TotalMinor: priced.TotalMinor, SellerID: priced.SellerID,
		IdempotencyKey: in.IdempotencyKey, Items: priced.Items, ItemCount: len(priced.Items),
		CreatedAt: now, UpdatedAt: now, StatusChangedAt: now,
	}, nil
}

// checkOpen refuses an order that would leave the user more unpaid orders
// or units than Config allows. Two placements of one user at the same
// moment may both pass: the per-user rate limit of POST /orders bounds
// that overshoot.
func (s *Service) checkOpen(ctx context.Context, userID string, items []Item) error {
	if s.cfg.MaxOpenOrders <= 0 && s.cfg.MaxOpenUnits <= 0 {
		return nil
	}
	orders, units, err := s.store.OpenOrders(ctx, userID)
	if err != nil {
		return fmt.Errorf("place order: %w", err)
	}
	if max := s.cfg.MaxOpenOrders; max > 0 && orders+1 > max {
		return fmt.Errorf("%w: %d unpaid orders already, at most %d (SHOP_ORDER_MAX_OPEN_ORDERS): pay or cancel one first",
			ErrTooManyOpenOrders, orders, max)
	}
	for _, it := range items {
		units += it.Quantity
	}
	if max := s.cfg.MaxOpenUnits; max > 0 && units > max {
		return fmt.Errorf("%w: %d units with this order, at most %d (SHOP_ORDER_MAX_OPEN_UNITS): pay or cancel an order first",
			ErrTooManyOpenUnits, units, max)
	}
	return nil
}

// validateLines checks the shape of the lines: 1..MaxLines lines, each a
// product UUID and a quantity of 1..MaxQuantity, no product twice. It returns
// a validation error naming every bad line.
func validateLines(lines []LineInput) error {
	if len(lines) == 0 {
		return problem.Validation(problem.Field("lines", "must have at least 1 line"))
	}
	if len(lines) > MaxLines {
		return problem.Validation(problem.Field("lines", "must have at most %d lines", MaxLines))
	}
	var fields []problem.FieldError
	first := make(map[string]int, len(lines))
	for i, l := range lines {
		id, err := uuid.Parse(l.ProductID)
		switch {
		case err != nil || id.String() != l.ProductID:
			fields = append(fields, problem.Field(linePath(i, "product_id"), "must be a UUID in canonical lowercase form"))
		default:
			if j, dup := first[l.ProductID]; dup {
				fields = append(fields, problem.Field(linePath(i, "product_id"), "repeats the product of lines[%d]; order it once with the total quantity", j))
			} else {
				first[l.ProductID] = i
			}
		}
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			fields = append(fields, problem.Field(linePath(i, "quantity"), "must be 1..%d", MaxQuantity))
		}
	}
	if len(fields) > 0 {
		return problem.Validation(fields...)
	}
	return nil
}

// Priced is an order's lines priced from the replica.
type Priced struct {
	Items      []Item
	Currency   string
	TotalMinor int64
	// SellerID is the seller of every line, or empty when lines have
	// different sellers.
	SellerID string
}

// priceLines prices valid lines from the replica's products. Every line must
// name a known, ACTIVE product with a price, all in one currency; a
// validation error names each line that does not.
func priceLines(lines []LineInput, products map[string]Product) (Priced, error) {
	var (
		out    Priced
		fields []problem.FieldError
		// currencyLine is the first priced line, whose currency the order takes.
		currencyLine = -1
	)
	for i, l := range lines {
		p, ok := products[l.ProductID]
		field := linePath(i, "product_id")
		switch {
		case !ok:
			fields = append(fields, problem.Field(field, "unknown product %s", l.ProductID))
			continue
		case p.Status == ProductArchived:
			fields = append(fields, problem.Field(field, "product %s is archived", l.ProductID))
			continue
		case p.Status != ProductActive:
			fields = append(fields, problem.Field(field, "product %s is not available for sale", l.ProductID))
			continue
		case p.Price == nil:
			fields = append(fields, problem.Field(field, "product %s has no price", l.ProductID))
			continue
		}
		if currencyLine < 0 {
			currencyLine, out.Currency = i, p.Price.Currency
		} else if p.Price.Currency != out.Currency {
			fields = append(fields, problem.Field(field, "product %s is priced in %s but lines[%d] in %s; an order has one currency",
				l.ProductID, p.Price.Currency, currencyLine, out.Currency))
			continue
		}
		item := Item{
			ProductID: p.ID, SKU: p.SKU, Name: p.Name, SellerID: p.SellerID,
			Quantity: l.Quantity, UnitPriceMinor: p.Price.AmountMinor,
		}
		line, ok := mulAdd(out.TotalMinor, item.UnitPriceMinor, int64(item.Quantity))
		if !ok {
			fields = append(fields, problem.Field(field, "line total overflows the order total"))
			continue
		}
		out.TotalMinor = line
		out.Items = append(out.Items, item)
	}
	if len(fields) > 0 {
		return Priced{}, problem.Validation(fields...)
	}
	out.SellerID = soleSeller(out.Items)
	return out, nil
}

// mulAdd returns acc + a*b, and false when it does not fit in an int64 (all
// three are non-negative).
func mulAdd(acc, a, b int64) (int64, bool) {
	if a < 0 || b < 0 || (b != 0 && a > math.MaxInt64/b) {
		return 0, false
	}
	p := a * b
	if acc > math.MaxInt64-p {
		return 0, false
	}
	return acc + p, true
}

// soleSeller is the seller of every item, or "" when they differ or one is
// unknown.
func soleSeller(items []Item) string {
	if len(items) == 0 {
		return ""
	}
	s := items[0].SellerID
	for _, it := range items[1:] {
		if it.SellerID != s {
			return ""
		}
	}
	return s
}

func linePath(i int, field string) string { return fmt.Sprintf("lines[%d].%s", i, field) }
