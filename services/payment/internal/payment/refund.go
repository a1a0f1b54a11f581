package payment

import (
	"context"
	"fmt"
)

// RefundInput is staff's refund of a captured payment. AmountMinor 0
// refunds all that remains.
type RefundInput struct {
	PaymentID   string
	AmountMinor int64
	Reason      string
}

// Refund gives money back on a captured payment (staff only), in part or
// in full, never more than what remains: the payment row is locked, and the
// database refuses refunded > captured whatever the code does.
func (s *Service) Refund(ctx context.Context, who Actor, in RefundInput) (Payment, Refund, error) {
	if !who.Admin {
		return Payment{}, Refund{}, fmt.Errorf("refund: %w", ErrForbidden)
	}
	if in.Reason == "" {
		in.Reason = ReasonCustomerRequest
	}
	var (
		p Payment
		r Refund
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.LockPayment(ctx, in.PaymentID)
		if err != nil {
			return err
		}
		amount := in.AmountMinor
		if amount == 0 {
			amount = cur.remaining()
		}
		p, r, err = s.refund(ctx, tx, cur, amount, in.Reason, who.UserID)
		return err
	})
	if err != nil {
		return Payment{}, Refund{}, err
	}
	s.obs.Outcome("refunded", r.Reason)
	return p, r, nil
}

// refund applies a refund of amount to cur (locked in tx): the gateway
// gives the money back, then the payment, the refund row and
// PAYMENT_REFUNDED are written.
func (s *Service) refund(ctx context.Context, tx Tx, cur Payment, amount int64, reason, by string) (Payment, Refund, error) {
	p, err := cur.ApplyRefund(amount)
	if err != nil {
		return Payment{}, Refund{}, err
	}
	r := Refund{
		ID: s.newID(), PaymentID: p.ID, AmountMinor: amount, Currency: p.Amount.Currency,
		Reason: reason, CreatedBy: by, CreatedAt: s.now().UTC(),
	}
	gctx, cancel := context.WithTimeout(ctx, s.retry.AttemptTimeout)
	err = s.gateway.Refund(gctx, RefundRequest{RefundID: r.ID, ChargeID: p.ChargeID, Amount: Money{amount, p.Amount.Currency}})
	cancel()
	if err != nil {
		return Payment{}, Refund{}, fmt.Errorf("refund payment %s: %w: %v", p.ID, ErrGatewayUnavailable, err)
	}
	if err := tx.UpdatePayment(ctx, &p, cur.Status, PaymentRefunded{p, r}); err != nil {
		return Payment{}, Refund{}, err
	}
	if err := tx.AddRefund(ctx, r); err != nil {
		return Payment{}, Refund{}, err
	}
	p.Refunds = append(p.Refunds, r)
	return p, r, nil
}
