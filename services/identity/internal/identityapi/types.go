package identityapi

import (
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/identity/internal/identity"
)

// Requests. Validation of values is the domain's (one place for the
// rules); the tags check shape only.

type registerRequest struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
}

type loginRequest struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required,max=1024"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=512"`
}

type updateMeRequest struct {
	DisplayName     *string `json:"display_name"`
	CurrentPassword *string `json:"current_password" validate:"omitempty,max=1024"`
	NewPassword     *string `json:"new_password" validate:"omitempty,max=1024"`
}

type listUsersQuery struct {
	Q      string `form:"q" validate:"max=100"`
	Role   string `form:"role" validate:"omitempty,oneof=CUSTOMER SELLER ADMIN"`
	Limit  int    `form:"limit" validate:"omitempty,min=1,max=100"`
	Cursor string `form:"cursor" validate:"max=64"`
}

type changeRoleRequest struct {
	Role string `json:"role" validate:"required,oneof=CUSTOMER SELLER ADMIN"`
}

type disableRequest struct {
	Reason string `json:"reason" validate:"max=500"`
}

type applyRequest struct {
	Note string `json:"note" validate:"max=4000"`
}

type listApplicationsQuery struct {
	Status string `form:"status" validate:"omitempty,oneof=PENDING APPROVED REJECTED"`
	Limit  int    `form:"limit" validate:"omitempty,min=1,max=100"`
	Cursor string `form:"cursor" validate:"max=64"`
}

type rejectRequest struct {
	Reason string `json:"reason" validate:"max=500"`
}

// Responses.

type userResponse struct {
	ID             string     `json:"id"`
	Email          string     `json:"email"`
	DisplayName    string     `json:"display_name"`
	Role           string     `json:"role"`
	Disabled       bool       `json:"disabled"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	LastLoginAt    *time.Time `json:"last_login_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

func toUserResponse(u identity.User) userResponse {
	return userResponse{ID: u.ID.String(), Email: u.Email, DisplayName: u.DisplayName, Role: string(u.Role),
		Disabled: u.Disabled(), DisabledAt: u.DisabledAt, DisabledReason: u.DisabledReason,
		LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type registerResponse struct {
	userResponse
	// SellerApplication is the application filed when the visitor asked
	// for the SELLER role.
	SellerApplication *applicationResponse `json:"seller_application,omitempty"`
}

type applicationResponse struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	Email       string     `json:"email"`
	DisplayName string     `json:"display_name"`
	Status      string     `json:"status"`
	Note        string     `json:"note"`
	CreatedAt   time.Time  `json:"created_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

func toApplicationResponse(a identity.SellerApplication) applicationResponse {
	out := applicationResponse{ID: a.ID.String(), UserID: a.UserID.String(), Email: a.Email, DisplayName: a.DisplayName,
		Status: string(a.Status), Note: a.Note, CreatedAt: a.CreatedAt, DecidedAt: a.DecidedAt, Reason: a.Reason}
	if a.DecidedBy != uuid.Nil {
		out.DecidedBy = a.DecidedBy.String()
	}
	return out
}

type applicationListResponse struct {
	Items      []applicationResponse `json:"items"`
	NextCursor string                `json:"next_cursor,omitempty"`
}

type tokenResponse struct {
	TokenType        string       `json:"token_type"`
	AccessToken      string       `json:"access_token"`
	ExpiresIn        int64        `json:"expires_in"`
	RefreshToken     string       `json:"refresh_token"`
	RefreshExpiresIn int64        `json:"refresh_expires_in"`
	User             userResponse `json:"user"`
}

func toTokenResponse(s identity.Session, now time.Time) tokenResponse {
	return tokenResponse{TokenType: "Bearer", AccessToken: s.AccessToken,
		ExpiresIn:    int64(s.AccessExpiresAt.Sub(now).Round(time.Second).Seconds()),
		RefreshToken: s.RefreshToken, RefreshExpiresIn: int64(s.RefreshExpiresAt.Sub(now).Round(time.Second).Seconds()),
		User: toUserResponse(s.User)}
}

type userListResponse struct {
	Items      []userResponse `json:"items"`
	NextCursor string         `json:"next_cursor,omitempty"`
}
