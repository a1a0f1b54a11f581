package app

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/services/identity/internal/identity"
)

// DemoShoppers are more demo customers, beside customer@shop.local: the
// demo order history (scripts/internal/history, loaded by `make up`) is
// theirs too, so that the admin app's order list and user screens look
// like a shop's. All log in with DemoShopperPassword, except the one that
// is disabled.
var DemoShoppers = []DemoUser{
	{uuid.MustParse("00000000-0000-7000-8000-000000000011"), "anna.schmidt@shop.local", DemoShopperPassword, "Anna Schmidt", identity.RoleCustomer},
	{uuid.MustParse("00000000-0000-7000-8000-000000000012"), "ben.okafor@shop.local", DemoShopperPassword, "Ben Okafor", identity.RoleCustomer},
	{uuid.MustParse("00000000-0000-7000-8000-000000000013"), "chloe.martin@shop.local", DemoShopperPassword, "Chloé Martin", identity.RoleCustomer},
	{uuid.MustParse("00000000-0000-7000-8000-000000000014"), "dev.patel@shop.local", DemoShopperPassword, "Dev Patel", identity.RoleCustomer},
	{uuid.MustParse("00000000-0000-7000-8000-000000000015"), "elif.yilmaz@shop.local", DemoShopperPassword, "Elif Yılmaz", identity.RoleCustomer},
	{uuid.MustParse("00000000-0000-7000-8000-000000000016"), "finn.larsen@shop.local", DemoShopperPassword, "Finn Larsen", identity.RoleCustomer},
}

// DemoShopperPassword is the demo shoppers' password.
const DemoShopperPassword = "customer-demo-pass"

// The demo shoppers with something for an administrator to decide: one has
// applied for a seller account, one was disabled (and may be re-enabled).
var (
	DemoApplicant = DemoShoppers[0]
	DemoDisabled  = DemoShoppers[3]
)

// seedShoppers creates the demo shoppers unless they exist, through the
// same rules as any account: the applicant files its application, the
// demo admin disables the other (both audited and published). An account
// that exists is left as it is.
func seedShoppers(ctx context.Context, domain *identity.Service, out io.Writer) error {
	var emails []string
	for _, d := range DemoShoppers {
		emails = append(emails, d.Email)
		_, isNew, err := domain.EnsureUser(ctx, identity.NewUser{ID: d.ID, Email: d.Email, Password: d.Password,
			DisplayName: d.DisplayName, Role: d.Role})
		if err != nil {
			return fmt.Errorf("seed %s: %w", d.Email, err)
		}
		if !isNew {
			continue
		}
		switch d.ID {
		case DemoApplicant.ID:
			if _, _, err := domain.ApplyForSeller(ctx, identity.Caller{UserID: d.ID}, "I make ceramics and would like to sell them here."); err != nil {
				return fmt.Errorf("seed %s's seller application: %w", d.Email, err)
			}
		case DemoDisabled.ID:
			if _, err := domain.Disable(ctx, identity.Caller{UserID: DemoUsers[0].ID}, d.ID, "Chargeback under review"); err != nil {
				return fmt.Errorf("seed: disable %s: %w", d.Email, err)
			}
		}
	}
	fmt.Fprintf(out, "demo shoppers: %s / %s (%s has applied to sell; %s is disabled)\n",
		strings.Join(emails, ", "), DemoShopperPassword, DemoApplicant.Email, DemoDisabled.Email)
	return nil
}
