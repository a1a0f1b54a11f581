// Swagger UI over the five services' OpenAPI documents (deploy/gateway/docs.sh
// copies them into specs/ beside this file). Requests made with "Try it out"
// go to this origin, the gateway.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    urls: [
      { url: "specs/identity.yaml", name: "identity" },
      { url: "specs/catalog.yaml", name: "catalog" },
      { url: "specs/inventory.yaml", name: "inventory" },
      { url: "specs/order.yaml", name: "order" },
      { url: "specs/payment.yaml", name: "payment" },
    ],
    "urls.primaryName": "catalog",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
