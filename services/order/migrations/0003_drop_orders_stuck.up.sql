-- orders_stuck indexed the in-flight orders (CREATED, PAYMENT_PENDING) by
-- status_changed_at for the stuck-saga gauge, GET /orders?stuck=true and
-- the CREATED timeout. orders_status_created serves those as well: it
-- finds an in-flight status's orders, few by nature, and the filter on
-- status_changed_at runs over them. Every order entered the partial index
-- twice (placed, reserved), and every write of the table opened it.
DROP INDEX orders_stuck;
