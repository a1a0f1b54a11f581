package paymentdb

import (
	"time"

	"github.com/shop-oss/shop/services/payment/internal/payment"
)

// paymentRow is the payments table.
type paymentRow struct {
	ID            string
	OrderID       string
	UserID        string
	ReservationID *string
	AmountMinor   int64
	Currency      string
	Status        string
	RefundedMinor int64
	FailureReason string
	VoidReason    string
	CardLast4     string `gorm:"column:card_last4"`
	Attempts      int
	ChargeID      *string
	CapturedAt    *time.Time
	Version       int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (paymentRow) TableName() string { return "payments" }

func toRow(p payment.Payment) paymentRow {
	return paymentRow{
		ID: p.ID, OrderID: p.OrderID, UserID: p.UserID, ReservationID: nullString(p.ReservationID),
		AmountMinor: p.Amount.AmountMinor, Currency: p.Amount.Currency, Status: string(p.Status),
		RefundedMinor: p.RefundedMinor, FailureReason: p.FailureReason, VoidReason: p.VoidReason,
		CardLast4: p.CardLast4, Attempts: p.Attempts, ChargeID: nullString(p.ChargeID),
		CapturedAt: nullTime(p.CapturedAt), Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func (r paymentRow) toDomain(refunds []payment.Refund) payment.Payment {
	p := payment.Payment{
		ID: r.ID, OrderID: r.OrderID, UserID: r.UserID, ReservationID: deref(r.ReservationID),
		Amount: payment.Money{AmountMinor: r.AmountMinor, Currency: r.Currency}, Status: payment.Status(r.Status),
		RefundedMinor: r.RefundedMinor, FailureReason: r.FailureReason, VoidReason: r.VoidReason,
		CardLast4: r.CardLast4, Attempts: r.Attempts, ChargeID: deref(r.ChargeID),
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Refunds: refunds,
	}
	if r.CapturedAt != nil {
		p.CapturedAt = *r.CapturedAt
	}
	return p
}

// refundRow is the refunds table.
type refundRow struct {
	ID          string
	PaymentID   string
	AmountMinor int64
	Currency    string
	Reason      string
	CreatedBy   *string
	CreatedAt   time.Time
}

func (refundRow) TableName() string { return "refunds" }

func toRefundRow(r payment.Refund) refundRow {
	return refundRow{
		ID: r.ID, PaymentID: r.PaymentID, AmountMinor: r.AmountMinor, Currency: r.Currency,
		Reason: r.Reason, CreatedBy: nullString(r.CreatedBy), CreatedAt: r.CreatedAt,
	}
}

func (r refundRow) toDomain() payment.Refund {
	return payment.Refund{
		ID: r.ID, PaymentID: r.PaymentID, AmountMinor: r.AmountMinor, Currency: r.Currency,
		Reason: r.Reason, CreatedBy: deref(r.CreatedBy), CreatedAt: r.CreatedAt,
	}
}

// orderRow is the order_projection table.
type orderRow struct {
	OrderID              string
	UserID               *string
	TotalMinor           *int64
	Currency             *string
	ReservationID        *string
	ReservationExpiresAt *time.Time
	ExpiredAt            *time.Time
	CancelledAt          *time.Time
	CancelReason         string
	UpdatedAt            time.Time
}

func (r orderRow) toDomain() payment.Order {
	o := payment.Order{
		ID: r.OrderID, UserID: deref(r.UserID), ReservationID: deref(r.ReservationID),
		Expired: r.ExpiredAt != nil, Cancelled: r.CancelledAt != nil, CancelReason: r.CancelReason,
	}
	if r.TotalMinor != nil {
		o.Total = payment.Money{AmountMinor: *r.TotalMinor, Currency: deref(r.Currency)}
	}
	if r.ReservationExpiresAt != nil {
		o.ReservationExpiresAt = *r.ReservationExpiresAt
	}
	return o
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
