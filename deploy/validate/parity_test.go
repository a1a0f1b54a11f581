package validate

import (
	"strings"
	"testing"
)

// The SHOP_* settings each service reads (its config struct, as its binary
// lists them) are exactly those compose and the Helm chart give it; the
// same for the gateway's SHOP_GATEWAY_* (its renderer's defaults). A
// setting added to a service's config fails here until both deployments
// set it, and one removed fails until both drop it.
func TestSettingsParity(t *testing.T) {
	compose := loadCompose(t)
	chart := render(t)
	for _, s := range services {
		t.Run(s, func(t *testing.T) {
			read := settingsRead(t, s)
			report(t, "deploy/compose/compose.yaml service "+s, read, shopKeys(composeEnv(compose.Services[s].Environment)))
			d := chart.deployments[name(s)]
			if d == nil {
				t.Fatalf("the chart has no Deployment %s", name(s))
			}
			report(t, "charts/shop Deployment "+d.Name+" (values.yaml: env, secretEnv, services."+s+".env/.secretEnv, or the chart's own in templates/_helpers.tpl shop.config)",
				read, shopKeys(envOf(t, chart, &d.Spec.Template.Spec)))
		})
	}
	t.Run("gateway", func(t *testing.T) {
		read := gatewaySettings(t)
		report(t, "deploy/compose/compose.yaml service gateway", read, shopKeys(composeEnv(compose.Services["gateway"].Environment)))
		d := chart.deployments[name("gateway")]
		report(t, "charts/shop Deployment "+d.Name+" (values.yaml gateway.env, or templates/_helpers.tpl shop.gatewayConfig)",
			read, shopKeys(envOf(t, chart, &d.Spec.Template.Spec)))
	})
}

func composeEnv(m map[string]*string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = ""
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

func shopKeys(env map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range env {
		if strings.HasPrefix(k, "SHOP_") {
			out[k] = true
		}
	}
	return out
}

func report(t *testing.T, where string, read map[string]string, provided map[string]bool) {
	t.Helper()
	missing, extra := missingAndExtra(read, provided)
	for _, m := range missing {
		t.Errorf("%s does not set %s, which the program reads (default %q): add it there", where, m, read[m])
	}
	for _, x := range extra {
		t.Errorf("%s sets %s, which the program does not read: remove it there (or the setting was renamed)", where, x)
	}
}
