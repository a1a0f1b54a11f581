package catalogdb

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/catalog/internal/catalog"
)

// toEnvelopes converts domain events to catalog.events messages keyed by
// product ID.
func toEnvelopes(ctx context.Context, events []catalog.Event) ([]event.Event, error) {
	out := make([]event.Event, 0, len(events))
	for _, e := range events {
		msg, err := toProto(e)
		if err != nil {
			return nil, err
		}
		env, err := event.New(ctx, e.Key().String(), msg)
		if err != nil {
			return nil, fmt.Errorf("event for product %s: %w", e.Key(), err)
		}
		out = append(out, env)
	}
	return out, nil
}

func toProto(e catalog.Event) (proto.Message, error) {
	switch e := e.(type) {
	case catalog.ProductUpserted:
		p := e.Product
		category := ""
		if p.CategoryID != uuid.Nil {
			category = p.CategoryID.String()
		}
		return &eventsv1.ProductUpserted{
			ProductId: p.ID.String(), Sku: p.SKU, Name: p.Name, Price: money(p.Price),
			SellerId: p.SellerID.String(), CategoryId: category, Status: string(p.Status), Version: p.Version,
		}, nil
	case catalog.ProductPriceChanged:
		return &eventsv1.ProductPriceChanged{
			ProductId: e.ProductID.String(), OldPrice: money(e.Old), NewPrice: money(e.New), Version: e.Version,
		}, nil
	case catalog.ProductArchived:
		return &eventsv1.ProductArchived{ProductId: e.ProductID.String(), Version: e.Version}, nil
	}
	return nil, fmt.Errorf("catalogdb: no message for event %T", e)
}

func money(m catalog.Money) *eventsv1.Money {
	return &eventsv1.Money{AmountMinor: m.Minor, Currency: m.Currency}
}
