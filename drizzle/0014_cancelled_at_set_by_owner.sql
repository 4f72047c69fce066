ALTER TABLE "reservations" ADD COLUMN "cancelled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "reservations" ADD COLUMN "set_by_owner" boolean DEFAULT true NOT NULL;--> statement-breakpoint
-- Bookings cancelled before this migration: the last change of a cancelled row is its cancel.
UPDATE "reservations" SET "cancelled_at" = "updated_at" WHERE "status" = 'cancelled';
