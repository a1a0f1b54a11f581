package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shop-oss/shop/pkg/auth"
)

func TestParseRole(t *testing.T) {
	for _, r := range []auth.Role{auth.RoleCustomer, auth.RoleSeller, auth.RoleAdmin} {
		if got, err := auth.ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "admin", "Admin", "ROOT", " ADMIN"} {
		if _, err := auth.ParseRole(s); !errors.Is(err, auth.ErrUnknownRole) {
			t.Errorf("ParseRole(%q) err = %v", s, err)
		}
	}
}

func TestPrincipalRoles(t *testing.T) {
	seller := auth.Principal{UserID: alice, Role: auth.RoleSeller}
	admin := auth.Principal{UserID: bob, Role: auth.RoleAdmin}
	if seller.IsAdmin() || !admin.IsAdmin() {
		t.Error("IsAdmin")
	}
	if !seller.HasRole(auth.RoleCustomer, auth.RoleSeller) || seller.HasRole(auth.RoleAdmin) || seller.HasRole() {
		t.Error("HasRole")
	}
}

func TestPrincipalCanAccess(t *testing.T) {
	customer := auth.Principal{UserID: alice, Role: auth.RoleCustomer}
	admin := auth.Principal{UserID: bob, Role: auth.RoleAdmin}
	cases := []struct {
		name  string
		p     auth.Principal
		owner string
		want  bool
	}{
		{"owner", customer, alice, true},
		{"someone else", customer, bob, false},
		{"no owner", customer, "", false},
		{"admin, any owner", admin, alice, true},
		{"admin, no owner", admin, "", true},
		{"zero principal", auth.Principal{}, "", false},
		{"zero principal claiming admin", auth.Principal{Role: auth.RoleAdmin}, alice, false},
	}
	for _, tc := range cases {
		if got := tc.p.CanAccess(tc.owner); got != tc.want {
			t.Errorf("%s: CanAccess = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPrincipalContext(t *testing.T) {
	if _, ok := auth.FromContext(context.Background()); ok {
		t.Fatal("principal in an empty context")
	}
	p := auth.Principal{UserID: alice, Role: auth.RoleCustomer}
	got, ok := auth.FromContext(auth.WithPrincipal(context.Background(), p))
	if !ok || got != p {
		t.Fatalf("FromContext = %+v, %v", got, ok)
	}
}
