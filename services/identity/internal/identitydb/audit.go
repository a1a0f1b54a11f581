package identitydb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/identity/internal/identity"
)

// auditDetails is the details column: what the record says beyond the
// indexed columns. Never a password, hash or token.
type auditDetails struct {
	Role     string `json:"role,omitempty"`
	OldRole  string `json:"old_role,omitempty"`
	FamilyID string `json:"family_id,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// TokenGeneration is the user's after a role change, disable or enable.
	TokenGeneration int64 `json:"token_generation,omitempty"`
	// ApplicationID and Note are a seller application's.
	ApplicationID string `json:"application_id,omitempty"`
	Note          string `json:"note,omitempty"`
}

// Record implements identity.Tx: the audit row and, for actions that have
// one, the event in the outbox, both in this transaction.
func (t *txStore) Record(ctx context.Context, r identity.AuditRecord) error {
	d := auditDetails{Role: string(r.Role), OldRole: string(r.OldRole), Reason: r.Reason,
		TokenGeneration: r.TokenGeneration, FamilyID: idString(r.FamilyID), ApplicationID: idString(r.ApplicationID),
		Note: r.Note}
	details, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("audit details: %w", err)
	}
	err = t.db.WithContext(ctx).Exec(`INSERT INTO audit_log (at, action, actor_id, user_id, email, client_ip, details)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.At, string(r.Action), nullUUID(r.ActorID), nullUUID(r.UserID),
		r.Email, r.ClientIP, string(details)).Error
	if err != nil {
		return fmt.Errorf("append audit record %s: %w", r.Action, err)
	}
	msg := toEvent(r)
	if msg == nil {
		return nil
	}
	e, err := event.New(ctx, r.EventKey(), msg)
	if err != nil {
		return err
	}
	return outbox.Add(ctx, t.db, e)
}

func nullUUID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}

func idString(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

// toEvent returns the identity.events message of r, or nil when its action
// is audited only.
func toEvent(r identity.AuditRecord) proto.Message {
	at := timestamppb.New(r.At)
	switch r.Action {
	case identity.ActionRegistered:
		return &eventsv1.UserRegistered{UserId: r.UserID.String(), Email: r.Email, Role: string(r.Role), At: at}
	case identity.ActionLoginSucceeded:
		return &eventsv1.UserLoginSucceeded{UserId: r.UserID.String(), Email: r.Email, Role: string(r.Role),
			ClientIp: r.ClientIP, At: at}
	case identity.ActionLoginFailed:
		return &eventsv1.UserLoginFailed{UserId: idString(r.UserID), Email: r.Email, Reason: r.Reason,
			ClientIp: r.ClientIP, At: at}
	case identity.ActionRefreshTokenReused:
		return &eventsv1.RefreshTokenReuseDetected{UserId: r.UserID.String(), FamilyId: r.FamilyID.String(),
			Email: r.Email, ClientIp: r.ClientIP, At: at}
	case identity.ActionRoleChanged:
		return &eventsv1.UserRoleChanged{UserId: r.UserID.String(), Email: r.Email, OldRole: string(r.OldRole),
			NewRole: string(r.Role), ChangedBy: idString(r.ActorID), At: at, TokenGeneration: r.TokenGeneration}
	case identity.ActionDisabled:
		return &eventsv1.UserDisabled{UserId: r.UserID.String(), Email: r.Email, Role: string(r.Role),
			DisabledBy: idString(r.ActorID), Reason: r.Reason, At: at, TokenGeneration: r.TokenGeneration}
	case identity.ActionEnabled:
		return &eventsv1.UserEnabled{UserId: r.UserID.String(), Email: r.Email, Role: string(r.Role),
			EnabledBy: idString(r.ActorID), At: at, TokenGeneration: r.TokenGeneration}
	case identity.ActionSellerApplied:
		return &eventsv1.SellerApplicationSubmitted{ApplicationId: r.ApplicationID.String(), UserId: r.UserID.String(),
			Email: r.Email, Note: r.Note, At: at}
	case identity.ActionSellerApproved:
		return &eventsv1.SellerApplicationApproved{ApplicationId: r.ApplicationID.String(), UserId: r.UserID.String(),
			Email: r.Email, ApprovedBy: idString(r.ActorID), At: at}
	case identity.ActionSellerRejected:
		return &eventsv1.SellerApplicationRejected{ApplicationId: r.ApplicationID.String(), UserId: r.UserID.String(),
			Email: r.Email, RejectedBy: idString(r.ActorID), Reason: r.Reason, At: at}
	case identity.ActionPasswordChanged:
		return &eventsv1.UserPasswordChanged{UserId: r.UserID.String(), Email: r.Email, At: at}
	}
	return nil
}
