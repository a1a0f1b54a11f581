package invariants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/consumer"
)

// Load reads a Snapshot from the services' databases (dsns by service
// name; inventory, order and payment are required) and the dead-letter
// topics of the broker at brokerAddr.
func Load(ctx context.Context, dsns map[string]string, brokerAddr string) (Snapshot, error) {
	s := Snapshot{Now: time.Now(), ActiveReserved: map[string]int64{}, Reservations: map[string]string{}, Outbox: map[string]int{}}
	for _, svc := range []string{"inventory", "order", "payment"} {
		if dsns[svc] == "" {
			return s, fmt.Errorf("no database for %s", svc)
		}
	}
	err := withConn(ctx, dsns["inventory"], func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT s.product_id::text, s.on_hand, s.reserved,
				coalesce(sum(m.on_hand_delta) FILTER (WHERE m.order_id IS NULL), 0)::bigint,
				coalesce(sum(m.on_hand_delta), 0)::bigint, coalesce(sum(m.reserved_delta), 0)::bigint
			FROM stock s LEFT JOIN stock_movements m ON m.product_id = s.product_id
			GROUP BY s.product_id, s.on_hand, s.reserved`)
		if err != nil {
			return err
		}
		if s.Stock, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Stock]); err != nil {
			return err
		}
		rows, err = c.Query(ctx, `SELECT l.product_id::text, sum(l.quantity)::bigint FROM reservations r
			JOIN reservation_lines l ON l.reservation_id = r.id WHERE r.status = 'ACTIVE' GROUP BY l.product_id`)
		if err != nil {
			return err
		}
		if err := collectInto(rows, s.ActiveReserved); err != nil {
			return err
		}
		rows, err = c.Query(ctx, `SELECT order_id::text, status FROM reservations`)
		if err != nil {
			return err
		}
		return collectInto(rows, s.Reservations)
	})
	if err != nil {
		return s, fmt.Errorf("inventory: %w", err)
	}
	err = withConn(ctx, dsns["order"], func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT id::text, status, coalesce(cancel_reason, ''), created_at FROM orders`)
		if err != nil {
			return err
		}
		byID := map[string]int{}
		for rows.Next() {
			o := Order{Lines: map[string]int64{}}
			if err := rows.Scan(&o.ID, &o.Status, &o.CancelReason, &o.CreatedAt); err != nil {
				rows.Close()
				return err
			}
			byID[o.ID] = len(s.Orders)
			s.Orders = append(s.Orders, o)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = c.Query(ctx, `SELECT order_id::text, product_id::text, quantity::bigint FROM order_items`)
		if err != nil {
			return err
		}
		var id, product string
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&id, &product, &n}, func() error {
			if i, ok := byID[id]; ok {
				s.Orders[i].Lines[product] += n
			}
			return nil
		})
		return err
	})
	if err != nil {
		return s, fmt.Errorf("order: %w", err)
	}
	err = withConn(ctx, dsns["payment"], func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT p.order_id::text, p.status, p.amount_minor, p.refunded_minor,
				(SELECT count(*) FROM refunds r WHERE r.payment_id = p.id)::int,
				(SELECT count(*) FROM refunds r WHERE r.payment_id = p.id AND r.created_by IS NULL)::int,
				p.captured_at IS NOT NULL
			FROM payments p`)
		if err != nil {
			return err
		}
		s.Payments, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Payment])
		return err
	})
	if err != nil {
		return s, fmt.Errorf("payment: %w", err)
	}
	for svc, dsn := range dsns {
		err := withConn(ctx, dsn, func(c *pgx.Conn) error {
			var has bool
			if err := c.QueryRow(ctx, `SELECT to_regclass('outbox') IS NOT NULL`).Scan(&has); err != nil || !has {
				return err
			}
			var n int
			err := c.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n)
			s.Outbox[svc] = n
			return err
		})
		if err != nil {
			return s, fmt.Errorf("%s outbox: %w", svc, err)
		}
	}
	if s.DLQ, err = ReadDLQs(ctx, brokerAddr); err != nil {
		return s, err
	}
	return s, nil
}

// ReadDLQs reads every message of every service's dead-letter topic
// (<service>.dlq, one partition); a topic that does not exist is empty.
func ReadDLQs(ctx context.Context, brokerAddr string) ([]DeadLetter, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokerAddr), Timeout: 10 * time.Second}
	var out []DeadLetter
	for _, svc := range config.ServiceNames {
		topic := svc + ".dlq"
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err != nil {
			return nil, fmt.Errorf("metadata of %s: %w", topic, err)
		}
		if len(md.Topics) == 0 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) == 0 {
			continue
		}
		res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0)}}})
		if err != nil {
			return nil, fmt.Errorf("end of %s: %w", topic, err)
		}
		parts := res.Topics[topic]
		if len(parts) == 0 || parts[0].LastOffset <= 0 {
			continue
		}
		end := parts[0].LastOffset
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{brokerAddr}, Topic: topic, Partition: 0, MaxWait: 200 * time.Millisecond})
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		for {
			m, err := r.ReadMessage(rctx)
			if err != nil {
				cancel()
				_ = r.Close()
				return nil, fmt.Errorf("read %s: %w", topic, err)
			}
			d := DeadLetter{Service: svc, Key: string(m.Key)}
			for _, h := range m.Headers {
				switch h.Key {
				case consumer.HeaderDLQTopic:
					d.OriginalTopic = string(h.Value)
				case consumer.HeaderDLQCause:
					d.Cause = string(h.Value)
				}
			}
			out = append(out, d)
			if m.Offset >= end-1 {
				break
			}
		}
		cancel()
		_ = r.Close()
	}
	return out, nil
}

func withConn(ctx context.Context, dsn string, f func(*pgx.Conn) error) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return errors.Join(f(c), c.Close(ctx))
}

func collectInto[V any](rows pgx.Rows, into map[string]V) error {
	var k string
	var v V
	_, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		into[k] = v
		return nil
	})
	return err
}
