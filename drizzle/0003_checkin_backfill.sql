-- Check-in policy for rooms that existed before it: public rooms require check-in from now on
-- (new public rooms get it from createRoom). Existing reservations keep check_in_required = false,
-- so a booking made before its room required check-in is never released.
-- Runs in the same transaction as 0002, which added enum values: it must not use them
-- (PostgreSQL refuses a new enum value before the transaction that added it commits).
UPDATE "rooms" SET "requires_check_in" = true WHERE "type" = 'public';
