# The gateway image: nginx with the configuration template and its renderer
# (deploy/gateway), the storefront and admin apps, and the API documents,
# built from the repository's root:
#
#   docker build -f deploy/docker/gateway.Dockerfile -t shop-oss/shop-gateway:1.0.0 .
#
# At start it renders the configuration from the SHOP_GATEWAY_* variables
# (deploy/gateway/README.md) into SHOP_GATEWAY_STATE_DIR (/tmp/shop-gateway,
# the only place it writes: a read-only root file system works with /tmp
# writable) and runs nginx as the unprivileged nginx user on port 8080.

# The apps and /docs/, built on the builder's own platform (the output is
# static files). Node 20, as the frontend workspace expects.
FROM --platform=$BUILDPLATFORM node:20.20.2-bookworm-slim AS assets
WORKDIR /src
COPY frontend/ frontend/
COPY services/identity/api/openapi.yaml services/identity/api/
COPY services/catalog/api/openapi.yaml services/catalog/api/
COPY services/inventory/api/openapi.yaml services/inventory/api/
COPY services/order/api/openapi.yaml services/order/api/
COPY services/payment/api/openapi.yaml services/payment/api/
COPY deploy/gateway/ deploy/gateway/
COPY deploy/docker/gateway-assets.sh deploy/docker/
RUN deploy/docker/gateway-assets.sh /out

FROM nginx:1.28.0-alpine
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED
COPY --from=assets /out/storefront /usr/share/shop/storefront
COPY --from=assets /out/admin /usr/share/shop/admin
COPY --from=assets /out/docs /usr/share/shop/docs
COPY deploy/gateway/render.sh deploy/gateway/nginx.conf.template deploy/gateway/gateway.js /usr/share/shop/gateway/
COPY deploy/docker/gateway-entrypoint.sh /usr/local/bin/shop-gateway
ENV SHOP_GATEWAY_LISTEN=8080 \
    SHOP_GATEWAY_STATE_DIR=/tmp/shop-gateway
EXPOSE 8080
# 101 is the nginx user of the nginx image.
USER 101:101
ENTRYPOINT ["/usr/local/bin/shop-gateway"]
STOPSIGNAL SIGQUIT
LABEL org.opencontainers.image.title="shop-gateway" \
      org.opencontainers.image.description="Shop gateway: nginx, the storefront and admin apps, the API documents" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/shop-oss/shop"
