package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/problem"
)

// Stock returns a product's stock, from the cache when it has it.
func (s *Service) Stock(ctx context.Context, productID uuid.UUID) (Stock, error) {
	if st, ok := s.cache.Get(ctx, productID); ok {
		return st, nil
	}
	st, err := s.store.Stock(ctx, productID)
	if err != nil {
		return Stock{}, wrap("stock of product", productID, err)
	}
	s.cache.Put(ctx, st)
	return st, nil
}

// CanManage reports whether actor may see and change the product's stock
// figures (its seller, or an admin).
func (a Actor) CanManage(s Stock) bool { return a.canManage(s) }

// CanSee reports whether actor may know the product exists: a DRAFT (or a
// product catalog has not published) is its seller's and the admins' only,
// as in catalog, so that drafts do not leak through inventory.
func (a Actor) CanSee(s Stock) bool { return s.Status != ProductDraft || a.canManage(s) }

// ListStock returns a page of stock rows.
func (s *Service) ListStock(ctx context.Context, f StockFilter) ([]Stock, error) {
	f.DefaultThreshold = s.cfg.LowStockThreshold
	rows, err := s.store.ListStock(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list stock: %w", err)
	}
	return rows, nil
}

// Movements returns a page of a product's ledger, newest first, for its
// seller or an admin.
func (s *Service) Movements(ctx context.Context, actor Actor, productID uuid.UUID, beforeID int64, limit int) ([]Movement, error) {
	st, err := s.store.Stock(ctx, productID)
	if err != nil {
		return nil, wrap("movements of product", productID, err)
	}
	if !actor.canManage(st) {
		return nil, wrap("movements of product", productID, ErrForbidden)
	}
	ms, err := s.store.Movements(ctx, productID, beforeID, limit)
	return ms, wrap("movements of product", productID, err)
}

// Reservation returns an order's reservation.
func (s *Service) Reservation(ctx context.Context, orderID uuid.UUID) (Reservation, error) {
	r, err := s.store.Reservation(ctx, orderID)
	return r, wrap("reservation of order", orderID, err)
}

// SetStock sets a product's on_hand (an ADJUSTED movement of the
// difference) and its own low-stock threshold (nil: the default). It is
// refused below what is reserved.
func (s *Service) SetStock(ctx context.Context, actor Actor, productID uuid.UUID, onHand int64, threshold *int64) (Stock, error) {
	if onHand < 0 || onHand > MaxOnHand {
		return Stock{}, problem.Validation(problem.Field("on_hand", "must be 0..%d", MaxOnHand))
	}
	if threshold != nil && (*threshold < 0 || *threshold > MaxOnHand) {
		return Stock{}, problem.Validation(problem.Field("low_stock_threshold", "must be 0..%d", MaxOnHand))
	}
	return s.changeStock(ctx, actor, productID, func(tx Tx, st Stock, l *ledger) error {
		if d := onHand - st.OnHand; d != 0 {
			err := l.move(MoveAdjusted, productID, d, ref{Reason: fmt.Sprintf("on hand set to %d", onHand), ActorID: actor.UserID})
			if err != nil {
				return err
			}
		}
		if !equalPtr(threshold, st.LowStockThreshold) {
			if err := tx.SetThreshold(ctx, productID, threshold); err != nil {
				return err
			}
			after := l.stock[productID]
			after.LowStockThreshold = threshold
			l.stock[productID] = after
		}
		return nil
	})
}

// Adjust changes a product's on_hand by a signed delta, with a reason: an
// ADJUSTED movement (a count correction, damage, loss), or RECEIVED for
// goods that arrived (delta > 0).
func (s *Service) Adjust(ctx context.Context, actor Actor, productID uuid.UUID, kind MovementKind, delta int64, reason string) (Stock, error) {
	var fields []problem.FieldError
	if delta == 0 || delta < -MaxOnHand || delta > MaxOnHand {
		fields = append(fields, problem.Field("delta", "must be non-zero and within ±%d", MaxOnHand))
	}
	switch kind {
	case MoveAdjusted:
	case MoveReceived:
		if delta < 0 {
			fields = append(fields, problem.Field("delta", "must be positive for RECEIVED"))
		}
	default:
		fields = append(fields, problem.Field("kind", "must be ADJUSTED or RECEIVED"))
	}
	if reason == "" {
		fields = append(fields, problem.Field("reason", "is required"))
	}
	if len(fields) > 0 {
		return Stock{}, problem.Validation(fields...)
	}
	return s.changeStock(ctx, actor, productID, func(_ Tx, _ Stock, l *ledger) error {
		return l.move(kind, productID, delta, ref{Reason: reason, ActorID: actor.UserID})
	})
}

// changeStock locks one product's stock row, checks that actor may change
// it, lets change record movements, and writes them.
func (s *Service) changeStock(ctx context.Context, actor Actor, productID uuid.UUID, change func(Tx, Stock, *ledger) error) (Stock, error) {
	var out Stock
	err := s.update(ctx, func(tx Tx) ([]uuid.UUID, error) {
		stock, err := tx.LockStock(ctx, []uuid.UUID{productID})
		if err != nil {
			return nil, err
		}
		st, ok := stock[productID]
		if !ok {
			return nil, ErrProductNotFound
		}
		if !actor.canManage(st) {
			return nil, ErrForbidden
		}
		l := newLedger(stock)
		if err := change(tx, st, l); err != nil {
			return nil, err
		}
		if err := s.apply(ctx, tx, l); err != nil {
			return nil, err
		}
		// The answer is the row as stored: the database sets updated_at.
		stored, err := tx.LockStock(ctx, []uuid.UUID{productID})
		if err != nil {
			return nil, err
		}
		out = stored[productID]
		return []uuid.UUID{productID}, nil
	})
	return out, wrap("change stock of product", productID, err)
}

// SeedItem is a demo product with its initial stock.
type SeedItem struct {
	Product  Product
	Quantity int64
}

// Seed gives each item's product its initial stock (a RECEIVED movement),
// creating the product row when catalog's event has not arrived yet. A
// product that has any stock movement is left alone, so seeding twice
// changes nothing. It returns how many products it stocked.
func (s *Service) Seed(ctx context.Context, items []SeedItem) (int, error) {
	stocked := 0
	for _, it := range items {
		if it.Quantity < 0 || it.Quantity > MaxOnHand {
			return stocked, fmt.Errorf("seed %s: stock %d out of range 0..%d", it.Product.SKU, it.Quantity, MaxOnHand)
		}
		done := false
		err := s.update(ctx, func(tx Tx) ([]uuid.UUID, error) {
			if err := tx.EnsureProduct(ctx, it.Product); err != nil {
				return nil, err
			}
			stock, err := tx.LockStock(ctx, []uuid.UUID{it.Product.ID})
			if err != nil {
				return nil, err
			}
			if has, err := tx.HasMovements(ctx, it.Product.ID); err != nil || has || it.Quantity == 0 {
				return nil, err
			}
			l := newLedger(stock)
			if err := l.move(MoveReceived, it.Product.ID, it.Quantity, ref{Reason: "demo seed"}); err != nil {
				return nil, err
			}
			done = true
			return []uuid.UUID{it.Product.ID}, tx.ApplyMovements(ctx, l.moves, l.changed())
		})
		if err != nil {
			return stocked, fmt.Errorf("seed %s: %w", it.Product.SKU, err)
		}
		if done {
			stocked++
		}
	}
	return stocked, nil
}

func equalPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// IsValidation reports whether err is a validation error of the rules.
func IsValidation(err error) bool {
	var ve *problem.ValidationError
	return errors.As(err, &ve)
}
