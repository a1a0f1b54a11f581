#!/bin/bash
# Runs once, when the postgres container initialises its empty data volume
# (/docker-entrypoint-initdb.d): one database per service, owned by a role
# of its own that may connect to that database and no other. The passwords
# come from the container's environment (deploy/compose/.env).
set -euo pipefail

# create_database ROLE PASSWORD DATABASE
create_database() {
	psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
		-v role="$1" -v password="$2" -v db="$3" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role";
-- PUBLIC may connect to a new database by default: only its owner may here.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
}

create_database shop_identity "$SHOP_IDENTITY_DB_PASSWORD" identity
create_database shop_catalog "$SHOP_CATALOG_DB_PASSWORD" catalog
create_database shop_inventory "$SHOP_INVENTORY_DB_PASSWORD" inventory
create_database shop_order "$SHOP_ORDER_DB_PASSWORD" orders
create_database shop_payment "$SHOP_PAYMENT_DB_PASSWORD" payment
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
	-c 'REVOKE CONNECT ON DATABASE postgres FROM PUBLIC'
